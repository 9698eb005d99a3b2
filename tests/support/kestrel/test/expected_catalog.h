// ExpectedCatalog: what tests/tools/expected_images.py says a crawl must store.
#ifndef KESTREL_TEST_EXPECTED_CATALOG_H
#define KESTREL_TEST_EXPECTED_CATALOG_H

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace kestrel {
namespace test {

// One image the catalog must hold (a row of `images`, DESIGN §6).
struct ExpectedImage {
  std::string format;    // "png", "jpeg", "gif" or "webp" (from PIL)
  uint32_t width = 0;    // pixels
  uint32_t height = 0;   // pixels
  std::string sha256;    // lower-case hex
  std::string md5;       // lower-case hex
  uint64_t size = 0;     // bytes
  std::string filename;  // last path segment, percent-decoded
  std::string file;      // path of the file relative to the site root
  std::string source;    // first page (walk order) that referenced it
};

// A reference that does not yield a catalogued image.
struct ExpectedFailure {
  std::string url;     // absolute, normalized
  std::string source;  // first page that referenced it
  std::string reason;  // only for `invalid`
};

// The parsed output of expected_images.py (see that script for the rules).
struct ExpectedCatalog {
  std::string seed;
  std::vector<std::string> pages;               // HTML pages, walk order
  std::map<std::string, ExpectedImage> images;  // normalized URL -> image
  std::vector<ExpectedFailure> broken;          // image URLs with no file (404)
  std::vector<ExpectedFailure> invalid;         // files that are no png/jpeg/gif/webp
  std::vector<ExpectedFailure> broken_links;    // a[href] targets with no file
};

// Runs `/usr/bin/python3 <source>/tests/tools/expected_images.py site_root
// base_url` and parses its JSON (Poco::JSON). `scratch_dir` receives its
// stdout/stderr files. Blocks up to 120 s. Any thread. Throws
// std::runtime_error with the script's stderr when it fails, or naming the
// field when the JSON lacks one.
ExpectedCatalog expected_catalog(const std::string& site_root, const std::string& base_url,
                                 const std::string& scratch_dir);

}  // namespace test
}  // namespace kestrel

#endif  // KESTREL_TEST_EXPECTED_CATALOG_H
