// parse_crawl_request: the body of POST /api/crawl/start as a CrawlRequest.
#ifndef KESTREL_HOST_API_CRAWL_REQUEST_JSON_H_
#define KESTREL_HOST_API_CRAWL_REQUEST_JSON_H_

#include <kestrel/plugin.hpp>

#include <string>

namespace kestrel::host {

// Parses `body`, a JSON object (RFC 8259):
//   {"seeds": ["http://..."], "scope": "site"|"host"|"domain",
//    "max_depth": N, "max_pages": N, "max_bytes": N, "max_seconds": N,
//    "robots": true|false}
// Every key is optional except `seeds` (a non-empty array of absolute http or
// https URLs, checked with libcurl's URL API); the limits are non-negative
// integers (0: the crawler's configured value) that must fit their C field
// (max_depth and max_seconds 32-bit). Unknown keys are refused so a typo is
// not silently ignored. Throws ApiError(400) naming the field and why on any
// problem. Any thread.
CrawlRequest parse_crawl_request(const std::string& body);

// True when `url` is an absolute http(s) URL with a host (libcurl's URL API);
// else false with the reason in *why. Any thread.
bool is_http_url(const std::string& url, std::string* why);

}  // namespace kestrel::host

#endif  // KESTREL_HOST_API_CRAWL_REQUEST_JSON_H_
