// The crawler-http component's options: the schema (data, shown by --help and
// checked by the host before any plugin code runs) and the parsed, validated
// values the engine runs with.
#ifndef KESTREL_CRAWLER_HTTP_CRAWLER_CONFIG_H_
#define KESTREL_CRAWLER_HTTP_CRAWLER_CONFIG_H_

#include <kestrel/plugin.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace kestrel::crawler {

// The option schema of component type `crawler-http`, in the order create()
// receives the values. Static data.
inline constexpr kestrel_option_desc kCrawlerOptions[] = {
    option("seeds", KESTREL_OPT_STRING_LIST, "", "absolute http(s) URLs a crawl starts from when none are given"),
    reference("catalog", KESTREL_IFACE_CATALOG_V1, "catalog", "component that stores the image records"),
    reference("files", KESTREL_IFACE_BLOBSTORE_V1, "images", "component that stores the image files"),
    option("user_agent", KESTREL_OPT_STRING, "Kestrel/0.1", "User-Agent header sent with every request"),
    option("robots_token", KESTREL_OPT_STRING, "Kestrel", "product token matched against robots.txt user-agent lines"),
    option("concurrency", KESTREL_OPT_INT, "16", "simultaneous transfers in total (connections)"),
    // No schema default: the host marks a schema default as set (is_set 1),
    // and a fixed 6 would make `concurrency` below 6 invalid on its own.
    option("per_host_connections", KESTREL_OPT_INT, nullptr,
           "simultaneous transfers to one origin (connections), 1..concurrency; when unset: 6, "
           "or concurrency when that is lower"),
    option("connect_timeout", KESTREL_OPT_DURATION, "10s", "time allowed to connect, TLS included (duration)"),
    option("timeout", KESTREL_OPT_DURATION, "60s", "time allowed for one whole transfer (duration)"),
    option("low_speed_limit", KESTREL_OPT_SIZE, "1KiB",
           "abort a transfer slower than this (bytes per second) for low_speed_time; 0: never"),
    option("low_speed_time", KESTREL_OPT_DURATION, "20s",
           "how long a transfer may stay under low_speed_limit (duration, whole seconds)"),
    option("max_body_size", KESTREL_OPT_SIZE, "64MiB", "largest response body kept, after decoding (bytes)"),
    option("max_depth", KESTREL_OPT_INT, "32", "links followed from a seed page (0: the seeds only)"),
    option("max_pages", KESTREL_OPT_INT, "100000", "HTML pages fetched per crawl at most"),
    option("max_redirects", KESTREL_OPT_INT, "10", "redirects followed per request"),
    option("max_pixels", KESTREL_OPT_INT, "200000000", "largest width*height accepted, read from the header (pixels)"),
    option("robots", KESTREL_OPT_BOOL, "true", "honour robots.txt (RFC 9309)"),
    option("offsite_images", KESTREL_OPT_BOOL, "true", "fetch images referenced by in-scope pages from any host"),
    option("state_path", KESTREL_OPT_PATH, "node.db", "this node's SQLite state file holding the frontier"),
    option("batch_size", KESTREL_OPT_INT, "64", "image records per catalog write (rows)"),
    option("per_host_delay", KESTREL_OPT_DURATION, "0s", "least time between two request starts to one origin (duration)"),
    option("honor_crawl_delay", KESTREL_OPT_BOOL, "true", "apply robots.txt Crawl-delay as the origin's delay"),
    option("max_crawl_delay", KESTREL_OPT_DURATION, "30s", "largest Crawl-delay applied (duration)"),
    option("sitemaps", KESTREL_OPT_BOOL, "false", "crawl the pages of robots.txt Sitemap: lines (XML, index, gzip)"),
    option("max_sitemap_size", KESTREL_OPT_SIZE, "50MiB", "largest sitemap read, after decompression (bytes)"),
    option("max_retries", KESTREL_OPT_INT, "3",
           "retries of a request after a connection error, timeout, cut-off body, 429, 502, 503 or 504"),
    option("retry_backoff", KESTREL_OPT_DURATION, "1s",
           "first retry delay; doubled per retry, with jitter, up to max_retry_backoff (duration)"),
    option("max_retry_backoff", KESTREL_OPT_DURATION, "60s", "largest back-off between retries (duration)"),
    option("max_retry_after", KESTREL_OPT_DURATION, "120s",
           "largest Retry-After honoured on 429/503; a longer one is cut to this (duration)"),
    option("max_url_length", KESTREL_OPT_INT, "2048", "longer URLs are recorded as skipped, not fetched (bytes)"),
    option("max_pages_per_host", KESTREL_OPT_INT, "0", "HTML pages fetched per origin at most (0: no cap)"),
    option("css_images", KESTREL_OPT_BOOL, "true",
           "fetch images named by CSS url() in linked stylesheets, <style> elements and style attributes"),
};

// Validated option values. Plain data: copy freely.
struct CrawlerConfig {
  std::vector<std::string> seeds;   // normalized absolute http(s) URLs
  std::string user_agent;           // no control characters
  std::string robots_token;         // [A-Za-z_-]+ (RFC 9309 §2.2.1)
  uint32_t concurrency = 16;        // transfers, >= 1
  uint32_t per_host_connections = 6;  // transfers per origin, 1..concurrency (unset: min(6, concurrency))
  int64_t connect_timeout_ms = 10000;
  int64_t timeout_ms = 60000;
  uint64_t low_speed_limit = 1024;  // bytes per second; 0 disables the check
  int64_t low_speed_time_ms = 20000;
  uint64_t max_body_size = 64ull << 20;  // bytes
  uint32_t max_depth = 32;
  uint64_t max_pages = 100000;
  uint32_t max_redirects = 10;
  uint64_t max_pixels = 200000000;
  bool robots = true;
  bool offsite_images = true;
  std::string state_path;           // absolute
  uint32_t batch_size = 64;         // rows, >= 1
  std::string node_name;            // node.name of the config
  int64_t per_host_delay_ms = 0;    // between request starts to one origin
  bool honor_crawl_delay = true;
  int64_t max_crawl_delay_ms = 30000;
  bool sitemaps = false;
  uint64_t max_sitemap_size = 50ull << 20;  // bytes, decompressed
  uint32_t max_retries = 3;
  int64_t retry_backoff_ms = 1000;
  int64_t max_retry_backoff_ms = 60000;
  int64_t max_retry_after_ms = 120000;
  uint32_t max_url_length = 2048;   // bytes
  uint64_t max_pages_per_host = 0;  // 0: no cap
  bool css_images = true;
  std::string note;                 // what parsing chose for the operator to know (one line), "" if nothing
};

// The per-origin cap used when the config does not set per_host_connections
// (lowered to `concurrency` when that is smaller).
inline constexpr uint32_t kDefaultPerHostConnections = 6;

// Reads and checks every option of kCrawlerOptions from `args`. Throws
// kestrel::Error(KESTREL_ERR_INVALID, "option X: why") on the first bad value.
// A derived default worth telling the operator (per_host_connections lowered
// to concurrency) is described in the result's `note`, for the caller to log.
// Pure: no files, no network. Control thread (create()).
CrawlerConfig parse_crawler_config(const CreateArgs& args);

// Normalizes and checks crawl seeds: each must be an absolute http(s) URL.
// Returns them normalized, de-duplicated and sorted (so the same set of seeds
// given in any order names the same crawl run). Throws
// kestrel::Error(KESTREL_ERR_INVALID, "<what>: seed 'x' is not ...") naming the
// first bad one. Any thread.
std::vector<std::string> normalize_seeds(const std::vector<std::string>& seeds, const char* what);

}  // namespace kestrel::crawler

#endif  // KESTREL_CRAWLER_HTTP_CRAWLER_CONFIG_H_
