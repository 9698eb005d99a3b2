// robots.txt parsing and matching (RFC 9309, Robots Exclusion Protocol).
//
// A RobotsRules is an immutable value once built: any number of threads may call its const methods
// concurrently. parse never throws on bad input; malformed lines are skipped.
#ifndef KESTREL_CRAWLER_PARSE_ROBOTS_H_
#define KESTREL_CRAWLER_PARSE_ROBOTS_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kestrel::crawler {

// robots.txt rules for one user-agent, RFC 9309: groups matched by product token (case-insensitive),
// falling back to the "*" group; several groups for the same agent are merged; longest match wins,
// Allow wins a tie; "*" and "$" special characters; percent-encoding normalized before matching;
// parse stops at 500 KiB; lines are "key: value" with comments stripped; unknown keys ignored.
//
// Details of this implementation:
// - A user-agent line counts by its leading product token ("FooBot/1.2 (+url)" is "foobot"), so does the
//   product_token argument; "/robots.txt" itself is always allowed (§2.2.2); empty Allow/Disallow lines
//   match nothing.
// - Percent-encoding normalization: both sides are compared with "%XX" triplets decoded (except those
//   standing for '%', '*', '$') and non-ASCII bytes encoded, upper-case. So "https://" in a rule matches
//   "https%3A%2F%2F" in a URL, as RFC 9309's table asks; the cost is that "%2F" and "/" compare equal.
// - Crawl-delay is taken from the first matched group that has one; values are seconds, fractions allowed.
class RobotsRules {
 public:
  static RobotsRules parse(std::string_view body, const std::string& product_token);
  static RobotsRules allow_all();     // e.g. robots.txt 4xx (RFC 9309 §2.3.1.3)
  static RobotsRules disallow_all();  // e.g. robots.txt 5xx or unreachable (RFC 9309 §2.3.1.4)
  // path_and_query as returned by path_and_query(url).
  bool allowed(const std::string& path_and_query) const;
  // Crawl-delay of the matched group in milliseconds, 0 if none (not part of RFC 9309; widely used).
  uint32_t crawl_delay_ms() const;
  const std::vector<std::string>& sitemaps() const;  // Sitemap: lines, any group

 private:
  struct Rule {
    bool allow = false;
    std::string pattern;  // percent-encoding normalized; may contain '*' and end with '$'
  };
  static bool matches(const std::string& pattern, const std::string& path);

  std::vector<Rule> rules_;           // of the matched group(s), merged
  bool disallow_everything_ = false;  // disallow_all(): overrides rules_
  uint32_t crawl_delay_ms_ = 0;
  std::vector<std::string> sitemaps_;
};

}  // namespace kestrel::crawler

#endif  // KESTREL_CRAWLER_PARSE_ROBOTS_H_
