// Rendering crawl progress for kestrelctl: a redrawn bar on a terminal,
// plain "key=value" lines otherwise (logs, pipes, tests).
#ifndef KESTREL_HOST_KESTRELCTL_PROGRESS_LINE_H_
#define KESTREL_HOST_KESTRELCTL_PROGRESS_LINE_H_

#include <Poco/JSON/Object.h>

#include <cstdint>
#include <ostream>
#include <string>

namespace kestrel::ctl {

// The counters of GET /api/crawl/status.
struct CrawlCounters {
  std::string state;       // "running", "finished", ...
  uint64_t pages = 0;      // HTML pages fetched
  uint64_t images = 0;     // images stored
  uint64_t bytes = 0;      // body bytes received
  uint64_t errors = 0;     // failed fetches
  uint64_t queued = 0;     // URLs waiting
  uint64_t elapsed_ms = 0; // milliseconds since the crawl started

  // From the status JSON (missing fields read 0 / "").
  static CrawlCounters from_json(const Poco::JSON::Object::Ptr& status);
  bool operator==(const CrawlCounters& o) const;
};

// "1.5 MiB", "512 B": binary units, one decimal.
std::string human_bytes(uint64_t bytes);

// Writes progress to `out`. terminal = true: one line redrawn in place
// ("\r" + erase) with a bar of settled / (settled + queued) URLs; finish()
// ends it with a newline. terminal = false: one plain line per update whose
// counters changed. Not thread-safe; one object per wait loop.
class ProgressLine {
 public:
  ProgressLine(std::ostream& out, bool terminal) : out_(out), terminal_(terminal) {}
  void update(const CrawlCounters& c);
  void finish();

 private:
  std::ostream& out_;
  bool terminal_;
  bool drawn_ = false;
  bool have_last_ = false;
  CrawlCounters last_;
};

}  // namespace kestrel::ctl

#endif  // KESTREL_HOST_KESTRELCTL_PROGRESS_LINE_H_
