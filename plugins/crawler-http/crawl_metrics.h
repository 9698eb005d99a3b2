// The crawler's Prometheus series (ABI 1.1 host metrics): registered once on
// the control thread (start()), updated from the crawl thread. Metric calls
// are thread-safe and a series the host does not offer ignores them.
#ifndef KESTREL_CRAWLER_HTTP_CRAWL_METRICS_H_
#define KESTREL_CRAWLER_HTTP_CRAWL_METRICS_H_

#include <kestrel/plugin.hpp>

#include <map>
#include <string>

namespace kestrel::crawler {

struct CrawlMetrics {
  Metric pages;          // kestrel_crawl_pages_total: HTML pages fetched and parsed
  Metric images;         // kestrel_crawl_images_total: images stored (new or changed)
  Metric bytes;          // kestrel_crawl_bytes_total: body bytes received, decoded
  Metric fetch_seconds;  // kestrel_crawl_fetch_seconds: histogram of request durations (seconds)
  std::map<std::string, Metric> errors;  // kestrel_crawl_errors_total{kind="..."}, one per known kind

  // Registers every series, one errors series per kind the crawler reports
  // (see README "Outcomes"). Throws kestrel::Error on a clash. Control thread.
  static CrawlMetrics register_with(const Host& host);

  // Counts one failure of `kind`; kinds not registered go to kind="other". Any thread.
  void error(const std::string& kind) const;
};

}  // namespace kestrel::crawler

#endif  // KESTREL_CRAWLER_HTTP_CRAWL_METRICS_H_
