#include "crawler_config.h"

#include "parse/url.h"

#include <algorithm>
#include <cctype>
#include <limits>

namespace kestrel::crawler {
namespace {

[[noreturn]] void bad(const char* option, const std::string& why) {
  throw Error(KESTREL_ERR_INVALID, std::string("option ") + option + ": " + why);
}

int64_t int_in(const CreateArgs& args, const char* name, int64_t lo, int64_t hi) {
  const int64_t v = args.get_int(name);
  if (v < lo || v > hi)
    bad(name, std::to_string(v) + " is out of range [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  return v;
}

int64_t duration_in(const CreateArgs& args, const char* name, int64_t lo_ms, int64_t hi_ms) {
  const int64_t v = args.get_duration_ms(name);
  if (v < lo_ms || v > hi_ms)
    bad(name, std::to_string(v) + "ms is out of range [" + std::to_string(lo_ms) + "ms, " + std::to_string(hi_ms) +
                  "ms]");
  return v;
}

// Header values must not smuggle CR/LF (request splitting) or other controls.
void check_printable(const char* name, const std::string& value) {
  if (value.empty()) bad(name, "must not be empty");
  for (unsigned char c : value)
    if (c < 0x20 || c == 0x7f) bad(name, "contains a control character");
}

}  // namespace

std::vector<std::string> normalize_seeds(const std::vector<std::string>& seeds, const char* what) {
  std::vector<std::string> out;
  for (const auto& s : seeds) {
    std::string error;
    auto n = normalize_url(s, &error);
    if (!n) throw Error(KESTREL_ERR_INVALID, std::string(what) + ": seed '" + s + "' is not an absolute http(s) URL: " + error);
    out.push_back(*n);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

CrawlerConfig parse_crawler_config(const CreateArgs& args) {
  CrawlerConfig c;
  c.seeds = normalize_seeds(args.get_list("seeds"), "option seeds");
  c.user_agent = args.get_string("user_agent");
  check_printable("user_agent", c.user_agent);
  c.robots_token = args.get_string("robots_token");
  if (c.robots_token.empty()) bad("robots_token", "must not be empty");
  for (unsigned char ch : c.robots_token)
    if (!std::isalpha(ch) && ch != '_' && ch != '-')
      bad("robots_token", "'" + c.robots_token + "' may hold only letters, '_' and '-' (RFC 9309 product token)");
  c.concurrency = static_cast<uint32_t>(int_in(args, "concurrency", 1, 1024));
  if (args.is_set("per_host_connections")) {
    c.per_host_connections = static_cast<uint32_t>(int_in(args, "per_host_connections", 1, c.concurrency));
  } else {
    // A default must never make a valid change invalid: follow concurrency down.
    c.per_host_connections = std::min(kDefaultPerHostConnections, c.concurrency);
    if (c.per_host_connections < kDefaultPerHostConnections)
      c.note = "per_host_connections is not set: lowered to concurrency (" + std::to_string(c.concurrency) +
               ") from its default " + std::to_string(kDefaultPerHostConnections);
  }
  constexpr int64_t kDay = 24ll * 3600 * 1000;
  c.connect_timeout_ms = duration_in(args, "connect_timeout", 1, kDay);
  c.timeout_ms = duration_in(args, "timeout", 1, kDay);
  c.low_speed_limit = args.get_size_bytes("low_speed_limit");
  if (args.get_int("low_speed_limit") < 0) bad("low_speed_limit", "must not be negative");
  c.low_speed_time_ms = duration_in(args, "low_speed_time", 1000, kDay);  // libcurl counts whole seconds
  if (args.get_int("max_body_size") < 1) bad("max_body_size", "must be at least 1 byte");
  c.max_body_size = args.get_size_bytes("max_body_size");
  c.max_depth = static_cast<uint32_t>(int_in(args, "max_depth", 0, 1000));
  c.max_pages = static_cast<uint64_t>(int_in(args, "max_pages", 1, std::numeric_limits<int32_t>::max()));
  c.max_redirects = static_cast<uint32_t>(int_in(args, "max_redirects", 0, 100));
  c.max_pixels = static_cast<uint64_t>(int_in(args, "max_pixels", 1, std::numeric_limits<int64_t>::max()));
  c.robots = args.get_bool("robots");
  c.offsite_images = args.get_bool("offsite_images");
  c.state_path = args.get_string("state_path");
  if (c.state_path.empty()) bad("state_path", "must not be empty");
  // The host resolves PATH options against the data dir; do it here too for
  // hosts (or test drivers) that hand over the text as written.
  if (c.state_path.front() != '/' && !args.data_dir().empty()) c.state_path = args.data_dir() + "/" + c.state_path;
  c.batch_size = static_cast<uint32_t>(int_in(args, "batch_size", 1, 10000));
  c.node_name = args.node_name();
  c.per_host_delay_ms = duration_in(args, "per_host_delay", 0, kDay);
  c.honor_crawl_delay = args.get_bool("honor_crawl_delay");
  c.max_crawl_delay_ms = duration_in(args, "max_crawl_delay", 0, kDay);
  c.sitemaps = args.get_bool("sitemaps");
  if (args.get_int("max_sitemap_size") < 1) bad("max_sitemap_size", "must be at least 1 byte");
  c.max_sitemap_size = args.get_size_bytes("max_sitemap_size");
  c.max_retries = static_cast<uint32_t>(int_in(args, "max_retries", 0, 100));
  c.retry_backoff_ms = duration_in(args, "retry_backoff", 0, kDay);
  c.max_retry_backoff_ms = duration_in(args, "max_retry_backoff", 0, kDay);
  if (c.max_retry_backoff_ms < c.retry_backoff_ms)
    bad("max_retry_backoff", "must not be less than retry_backoff (" + std::to_string(c.retry_backoff_ms) + "ms)");
  c.max_retry_after_ms = duration_in(args, "max_retry_after", 0, kDay);
  c.max_url_length = static_cast<uint32_t>(int_in(args, "max_url_length", 16, 1 << 20));
  c.css_images = args.get_bool("css_images");
  c.max_pages_per_host = static_cast<uint64_t>(int_in(args, "max_pages_per_host", 0, std::numeric_limits<int32_t>::max()));
  return c;
}

}  // namespace kestrel::crawler
