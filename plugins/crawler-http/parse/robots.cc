#include "robots.h"

#include <algorithm>
#include <charconv>
#include <cctype>
#include <cmath>
#include <optional>
#include <utility>

#include "ascii.h"
#include "percent_encoding.h"

namespace kestrel::crawler {

namespace {

constexpr size_t kMaxRobotsBytes = 500 * 1024;  // RFC 9309 §2.5: parse at least 500 KiB; we stop there

bool is_space(char c) { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// RFC 9309 §2.2.1: a product token is [A-Za-z_-]+; a user-agent line may carry more ("FooBot/1.2"), of
// which only the leading token counts. Lower-cased for case-insensitive comparison.
std::string product_token_of(std::string_view value) {
  size_t n = 0;
  while (n < value.size() && (std::isalpha(static_cast<unsigned char>(value[n])) || value[n] == '_' || value[n] == '-')) {
    ++n;
  }
  return ascii_lower(value.substr(0, n));
}

// Canonical form for matching (RFC 9309 §2.2.2): triplets decoded unless they stand for '%', '*' or '$'
// (which then keep their encoded, upper-case form), and non-ASCII, control and space bytes encoded.
// In a path, literal '*' and '$' are plain characters, so they are encoded too (§2.2.3); in a pattern
// they stay special.
std::string canonical_for_matching(std::string_view in, bool is_pattern) {
  static const char kHex[] = "0123456789ABCDEF";
  auto encode = [](std::string& out, unsigned char c) {
    out.push_back('%');
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0xF]);
  };
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    auto c = static_cast<unsigned char>(in[i]);
    if (c == '%' && i + 2 < in.size() && hex_value(static_cast<unsigned char>(in[i + 1])) >= 0 &&
        hex_value(static_cast<unsigned char>(in[i + 2])) >= 0) {
      c = static_cast<unsigned char>(hex_value(static_cast<unsigned char>(in[i + 1])) * 16 +
                                     hex_value(static_cast<unsigned char>(in[i + 2])));
      i += 2;
      if (c == '%' || c == '*' || c == '$' || c <= 0x20 || c >= 0x7F) {
        encode(out, c);
      } else {
        out.push_back(static_cast<char>(c));
      }
    } else if (c == '%' || c <= 0x20 || c >= 0x7F || (!is_pattern && (c == '*' || c == '$'))) {
      encode(out, c);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

struct Group {
  std::vector<std::string> agents;  // lower-cased product tokens, or "*"
  std::vector<std::pair<bool, std::string>> rules;
  std::optional<uint32_t> crawl_delay_ms;
};

std::optional<uint32_t> parse_crawl_delay(std::string_view value) {
  double seconds = 0;
  const auto result = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (result.ec != std::errc() || !std::isfinite(seconds) || seconds < 0) return std::nullopt;
  const double ms = std::min(seconds * 1000.0, 4294967295.0);
  return static_cast<uint32_t>(ms);
}

}  // namespace

RobotsRules RobotsRules::allow_all() { return RobotsRules(); }

RobotsRules RobotsRules::disallow_all() {
  RobotsRules rules;
  rules.disallow_everything_ = true;
  return rules;
}

RobotsRules RobotsRules::parse(std::string_view body, const std::string& product_token) {
  body = body.substr(0, std::min(body.size(), kMaxRobotsBytes));
  if (body.substr(0, 3) == "\xEF\xBB\xBF") body.remove_prefix(3);

  RobotsRules out;
  std::vector<Group> groups;
  bool in_agent_lines = false;  // the previous group line was a user-agent line
  while (!body.empty()) {
    const size_t eol = body.find_first_of("\r\n");
    std::string_view line = body.substr(0, eol);
    body.remove_prefix(eol == std::string_view::npos ? body.size() : eol + 1);
    line = line.substr(0, line.find('#'));
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string key = ascii_lower(trim(line.substr(0, colon)));
    const std::string_view value = trim(line.substr(colon + 1));

    if (key == "user-agent") {
      if (!in_agent_lines || groups.empty()) groups.emplace_back();
      in_agent_lines = true;
      groups.back().agents.push_back(!value.empty() && value.front() == '*' ? "*" : product_token_of(value));
    } else if (key == "allow" || key == "disallow") {
      in_agent_lines = false;
      // Rules before any user-agent line belong to no group; an empty rule matches nothing.
      if (groups.empty() || value.empty()) continue;
      groups.back().rules.emplace_back(key == "allow", canonical_for_matching(value, true));
    } else if (key == "crawl-delay") {
      in_agent_lines = false;
      if (!groups.empty() && !groups.back().crawl_delay_ms) groups.back().crawl_delay_ms = parse_crawl_delay(value);
    } else if (key == "sitemap") {
      if (!value.empty()) out.sitemaps_.emplace_back(value);
    }
  }

  // §2.2.1: every group naming our token, merged; else every "*" group, merged; else no rules.
  const std::string token = product_token_of(product_token);
  auto collect = [&](const std::string& agent) {
    bool found = false;
    for (const Group& g : groups) {
      if (std::find(g.agents.begin(), g.agents.end(), agent) == g.agents.end()) continue;
      found = true;
      for (const auto& [allow, pattern] : g.rules) out.rules_.push_back(Rule{allow, pattern});
      if (g.crawl_delay_ms && out.crawl_delay_ms_ == 0) out.crawl_delay_ms_ = *g.crawl_delay_ms;
    }
    return found;
  };
  if (token.empty() || !collect(token)) collect("*");
  return out;
}

bool RobotsRules::matches(const std::string& pattern, const std::string& path) {
  std::string_view p(pattern);
  const bool anchored = !p.empty() && p.back() == '$';
  if (anchored) p.remove_suffix(1);
  // Positions in `path` reachable after consuming a prefix of the pattern, ascending, no duplicates.
  std::vector<size_t> positions{0};
  std::vector<size_t> next;
  for (char c : p) {
    if (c == '*') {
      const size_t from = positions.front();
      positions.clear();
      for (size_t i = from; i <= path.size(); ++i) positions.push_back(i);
      continue;
    }
    next.clear();
    for (size_t pos : positions) {
      if (pos < path.size() && path[pos] == c) next.push_back(pos + 1);
    }
    if (next.empty()) return false;
    positions.swap(next);
  }
  return !anchored || positions.back() == path.size();
}

bool RobotsRules::allowed(const std::string& path_and_query) const {
  if (disallow_everything_) return false;
  const std::string path = canonical_for_matching(path_and_query.empty() ? "/" : path_and_query, false);
  if (path == "/robots.txt") return true;  // §2.2.2: implicitly allowed
  // §2.2.2: the most specific (longest) matching rule wins; on a tie, allow.
  bool any = false;
  size_t best_length = 0;
  bool best_allow = true;
  for (const Rule& rule : rules_) {
    if (!matches(rule.pattern, path)) continue;
    const size_t length = rule.pattern.size();
    if (!any || length > best_length) {
      any = true;
      best_length = length;
      best_allow = rule.allow;
    } else if (length == best_length && rule.allow) {
      best_allow = true;
    }
  }
  return !any || best_allow;
}

uint32_t RobotsRules::crawl_delay_ms() const { return crawl_delay_ms_; }

const std::vector<std::string>& RobotsRules::sitemaps() const { return sitemaps_; }

}  // namespace kestrel::crawler
