#include "crawl_metrics.h"

namespace kestrel::crawler {

CrawlMetrics CrawlMetrics::register_with(const Host& host) {
  CrawlMetrics m;
  m.pages = host.metric(KESTREL_METRIC_COUNTER, "kestrel_crawl_pages_total", "HTML pages fetched and parsed");
  m.images = host.metric(KESTREL_METRIC_COUNTER, "kestrel_crawl_images_total", "images stored (new or changed)");
  m.bytes = host.metric(KESTREL_METRIC_COUNTER, "kestrel_crawl_bytes_total", "response body bytes received, decoded");
  m.fetch_seconds = host.metric(KESTREL_METRIC_HISTOGRAM, "kestrel_crawl_fetch_seconds",
                                "duration of one HTTP request, redirects included (seconds)", "",
                                {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30});
  static const char* const kKinds[] = {
      "http_403", "http_404", "http_410",  "http_429",    "http_4xx",     "http_5xx",     "http_3xx",
      "timeout",  "dns",      "connect",   "tls",         "redirects",    "too_large",    "truncated",
      "no_reply", "bad_encoding", "network", "not_an_image", "bad_image", "too_many_pixels", "bad_sitemap", "other"};
  for (const char* kind : kKinds)
    m.errors[kind] = host.metric(KESTREL_METRIC_COUNTER, "kestrel_crawl_errors_total",
                                 "URLs given up, by failure kind", std::string("kind=\"") + kind + "\"");
  return m;
}

void CrawlMetrics::error(const std::string& kind) const {
  auto it = errors.find(kind);
  if (it == errors.end()) it = errors.find("other");
  if (it != errors.end()) it->second.add(1);
}

}  // namespace kestrel::crawler
