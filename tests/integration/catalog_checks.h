// Checks of a crawl's results against the expected catalog: rows, blobs, temp files.
#ifndef KESTREL_INTEGRATION_CATALOG_CHECKS_H
#define KESTREL_INTEGRATION_CATALOG_CHECKS_H

#include <string>
#include <vector>

#include "kestrel/test/expected_catalog.h"

namespace kestrel {
namespace test {

// One row of `images` (DESIGN §6) as text, as sqlite_query returns it.
struct CatalogRow {
  std::string url, source_url, filename, file_path, file_size, width, height, format, mime_type, md5, sha256,
      crawl_session_id;
};

// Every row of `images` in catalog.db `db_file`, in id order. Throws
// std::runtime_error (from sqlite_query) when the file or table is missing.
std::vector<CatalogRow> read_image_rows(const std::string& db_file);

// Problems, one line each, when `rows` differ from `expected`: an expected URL
// without exactly one row; a row whose width, height, format, mime_type, sha256,
// md5, file_size or filename differ, or whose source_url or crawl_session_id
// is empty; a row for a URL outside the expected set;
// a row whose blob (images_dir/file_path) is missing or has another sha256.
// Empty when they agree. With `require_all` false, expected URLs without a
// row are not problems (the catalog of an interrupted crawl is a subset).
std::vector<std::string> compare_catalog(const ExpectedCatalog& expected, const std::vector<CatalogRow>& rows,
                                         const std::string& images_dir, bool require_all = true);

// Problems with the blobs of `rows` only (missing file, wrong sha256): for a
// catalog that is a subset of the expected one (an interrupted crawl).
std::vector<std::string> check_blobs(const std::vector<CatalogRow>& rows, const std::string& images_dir);

// Files under images_dir that look like unfinished uploads: a path component
// starting with "." (e.g. .tmp/), or a name ending in .tmp, .part or .partial,
// or containing ".tmp." / "~". Relative paths; empty when there are none.
std::vector<std::string> temporary_files(const std::string& images_dir);

// Regular files under images_dir that no row's file_path names.
std::vector<std::string> unreferenced_blobs(const std::vector<CatalogRow>& rows, const std::string& images_dir);

// "N problems:\n  first\n  second..." with at most `max` lines, for assertion messages.
std::string describe_problems(const std::vector<std::string>& problems, size_t max = 25);

// PRAGMA integrity_check of `db_file`: "ok" when sound.
std::string integrity_check(const std::string& db_file);

}  // namespace test
}  // namespace kestrel

#endif  // KESTREL_INTEGRATION_CATALOG_CHECKS_H
