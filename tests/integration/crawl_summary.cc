#include "crawl_summary.h"

#include <regex>
#include <sstream>

namespace kestrel {
namespace test {

CrawlSummary parse_crawl_summary(const std::string& stdout_text) {
  static const std::regex kState(R"(^crawl (\w+))");
  static const std::regex kPages(R"(^\s+pages: (\d+))");
  static const std::regex kImages(R"(^\s+images: (\d+) stored, (\d+) unchanged)");
  static const std::regex kErrors(R"(^\s+errors: (\d+))");
  static const std::regex kSeconds(R"(^\s+seconds: ([0-9.]+))");
  static const std::regex kFailed(R"(^\s+failed: (\S+)(?: \(from \S+\))?: (.*)$)");
  CrawlSummary s;
  std::istringstream in(stdout_text);
  std::string line;
  std::smatch m;
  while (std::getline(in, line)) {
    if (std::regex_search(line, m, kState)) {
      s.found = true;
      s.state = m[1];
    } else if (std::regex_search(line, m, kPages)) {
      s.pages = std::stoull(m[1]);
    } else if (std::regex_search(line, m, kImages)) {
      s.images_stored = std::stoull(m[1]);
      s.images_unchanged = std::stoull(m[2]);
    } else if (std::regex_search(line, m, kErrors)) {
      s.errors = std::stoull(m[1]);
    } else if (std::regex_search(line, m, kSeconds)) {
      s.seconds = std::stod(m[1]);
    } else if (std::regex_search(line, m, kFailed)) {
      s.failed[m[1]] = m[2];
    }
  }
  return s;
}

}  // namespace test
}  // namespace kestrel
