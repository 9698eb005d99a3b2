// run_crawl_once: the `--once` job: run the configured crawl to its end,
// print a summary, and tell how it ended.
#ifndef KESTREL_HOST_KESTRELD_CRAWL_ONCE_H_
#define KESTREL_HOST_KESTRELD_CRAWL_ONCE_H_

#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "runtime/component_runtime.h"

namespace kestrel::host {

struct CrawlOnceOptions {
  std::vector<std::string> seeds;     // empty: each crawler's configured seeds
  std::string report_file;            // where to write the JSON report; empty: none
  std::function<bool()> stop_requested;  // polled every 200 ms (e.g. SIGTERM seen)
};

// Starts a crawl on every component providing kestrel.crawler.v1, waits for
// all to end (or for stop_requested, then asks them to stop and waits up to
// 60 s), prints the summary to `out` and errors to `err`. Returns an ExitCode.
// Control thread.
int run_crawl_once(const ComponentRuntime& runtime, const CrawlOnceOptions& options, std::ostream& out,
                   std::ostream& err);

}  // namespace kestrel::host

#endif  // KESTREL_HOST_KESTRELD_CRAWL_ONCE_H_
