// CrawlSummary: what `kestreld --once` prints on stdout when the crawl ends.
#ifndef KESTREL_INTEGRATION_CRAWL_SUMMARY_H
#define KESTREL_INTEGRATION_CRAWL_SUMMARY_H

#include <cstdint>
#include <map>
#include <string>

namespace kestrel {
namespace test {

// The summary's fields (host/kestreld/crawl_once.cc prints them):
//   crawl finished (component crawler)
//     pages: 686
//     images: 1963 stored, 0 unchanged
//     errors: 3 (http_404: 3)
//     seconds: 12.345
//     failed: URL (from SOURCE): REASON
struct CrawlSummary {
  bool found = false;                         // a "crawl <state>" line was seen
  std::string state;                          // "finished", "stopped", "failed"...
  uint64_t pages = 0;                         // HTML pages fetched
  uint64_t images_stored = 0;                 // new or changed images
  uint64_t images_unchanged = 0;              // already catalogued, same content
  uint64_t errors = 0;                        // failed fetches of all kinds
  double seconds = 0;                         // wall-clock duration of the crawl, seconds
  std::map<std::string, std::string> failed;  // failed URL -> reason
};

// Parses kestreld's stdout. Lines it does not know are ignored; a field that
// is absent keeps its zero value (found says whether a summary was there).
CrawlSummary parse_crawl_summary(const std::string& stdout_text);

}  // namespace test
}  // namespace kestrel

#endif  // KESTREL_INTEGRATION_CRAWL_SUMMARY_H
