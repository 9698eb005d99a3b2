#include "css_urls.h"

#include <cstdint>

namespace kestrel::crawler {
namespace {

bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
uint32_t hex_value(char c) {
  if (c >= '0' && c <= '9') return static_cast<uint32_t>(c - '0');
  if (c >= 'a' && c <= 'f') return static_cast<uint32_t>(c - 'a' + 10);
  return static_cast<uint32_t>(c - 'A' + 10);
}
bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }
// §4.2 "ident code point", bytes >= 0x80 standing for non-ASCII code points.
bool is_name(char c) {
  const auto u = static_cast<unsigned char>(c);
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
         u >= 0x80;
}

void append_utf8(std::string& out, uint32_t cp) {
  // §4.3.7: zero, surrogates and values past U+10FFFF become U+FFFD.
  if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) cp = 0xFFFD;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

class Tokenizer {
 public:
  explicit Tokenizer(std::string_view s) : s_(s) {}

  void run(std::vector<std::string>& out, size_t max_urls) {
    while (i_ < s_.size() && out.size() < max_urls) {
      const char c = s_[i_];
      if (c == '/' && peek(1) == '*') {
        const size_t end = s_.find("*/", i_ + 2);
        i_ = end == std::string_view::npos ? s_.size() : end + 2;
      } else if (c == '"' || c == '\'') {
        ++i_;
        std::string ignored;
        string_body(c, ignored);
      } else if (c == '@' && (is_name(peek(1)) || valid_escape(1))) {
        ++i_;
        const std::string keyword = lower_ascii(ident_name());
        // Fonts are not images; @import and @namespace name stylesheets and namespaces.
        if (keyword == "font-face") font_face_pending_ = true;
        if (keyword == "import" || keyword == "namespace") in_prelude_ = true;
      } else if (c == '{') {
        ++i_;
        ++depth_;
        in_prelude_ = false;
        if (font_face_pending_ && skip_until_depth_ == 0) skip_until_depth_ = depth_;
        font_face_pending_ = false;
      } else if (c == '}') {
        ++i_;
        if (depth_ > 0 && depth_ == skip_until_depth_) skip_until_depth_ = 0;
        if (depth_ > 0) --depth_;
      } else if (c == ';') {
        ++i_;
        in_prelude_ = false;
        font_face_pending_ = false;
      } else if (is_name(c) || (c == '\\' && valid_escape(0))) {
        std::string name = ident_name();
        if (i_ < s_.size() && s_[i_] == '(' && lower_ascii(name) == "url") {
          ++i_;
          std::string url;
          if (url_body(url) && skip_until_depth_ == 0 && !in_prelude_) out.push_back(std::move(url));
        }
      } else {
        ++i_;
      }
    }
  }

 private:
  char peek(size_t k) const { return i_ + k < s_.size() ? s_[i_ + k] : '\0'; }
  // §4.3.8: a backslash not followed by a newline (or the end).
  bool valid_escape(size_t k) const { return peek(k) == '\\' && i_ + k + 1 < s_.size() && peek(k + 1) != '\n'; }

  static std::string lower_ascii(std::string s) {
    for (auto& c : s)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return s;
  }

  // §4.3.7 consume an escaped code point; i_ is just past the backslash.
  void escape(std::string& out) {
    if (i_ >= s_.size()) {
      append_utf8(out, 0xFFFD);
      return;
    }
    if (is_hex(s_[i_])) {
      uint32_t cp = 0;
      for (int n = 0; n < 6 && i_ < s_.size() && is_hex(s_[i_]); ++n, ++i_)
        cp = cp * 16 + hex_value(s_[i_]);
      if (i_ < s_.size() && is_ws(s_[i_])) ++i_;
      append_utf8(out, cp);
      return;
    }
    out += s_[i_++];
  }

  // §4.3.12 consume an ident sequence.
  std::string ident_name() {
    std::string name;
    while (i_ < s_.size()) {
      if (is_name(s_[i_])) {
        name += s_[i_++];
      } else if (valid_escape(0)) {
        ++i_;
        escape(name);
      } else {
        break;
      }
    }
    return name;
  }

  // §4.3.5 consume a string token; i_ is past the opening quote. False for a bad string (raw newline).
  bool string_body(char quote, std::string& out) {
    while (i_ < s_.size()) {
      const char c = s_[i_++];
      if (c == quote) return true;
      if (c == '\n') {
        --i_;  // the newline is not part of the (bad) string
        return false;
      }
      if (c == '\\') {
        if (i_ >= s_.size()) return true;
        if (s_[i_] == '\n') {
          ++i_;  // escaped newline: a line continuation
          continue;
        }
        escape(out);
        continue;
      }
      out += c;
    }
    return true;  // EOF ends the string (a parse error, but the token stands)
  }

  void skip_ws() {
    while (i_ < s_.size() && is_ws(s_[i_])) ++i_;
  }

  // §4.3.4/§4.3.6 after "url(": a quoted argument (function token) or an unquoted url token.
  bool url_body(std::string& out) {
    skip_ws();
    if (i_ < s_.size() && (s_[i_] == '"' || s_[i_] == '\'')) {
      const char q = s_[i_++];
      if (!string_body(q, out)) return false;
      skip_ws();
      if (i_ < s_.size() && s_[i_] == ')') ++i_;
      return true;
    }
    while (i_ < s_.size()) {
      const char c = s_[i_];
      const auto u = static_cast<unsigned char>(c);
      if (c == ')') {
        ++i_;
        return true;
      }
      if (is_ws(c)) {
        skip_ws();
        if (i_ >= s_.size() || s_[i_] == ')') {
          if (i_ < s_.size()) ++i_;
          return true;
        }
        bad_url_remnants();
        return false;
      }
      if (c == '"' || c == '\'' || c == '(' || u < 0x09 || u == 0x0B || (u >= 0x0E && u < 0x20) || u == 0x7F) {
        bad_url_remnants();
        return false;
      }
      if (c == '\\') {
        if (!valid_escape(0)) {
          bad_url_remnants();
          return false;
        }
        ++i_;
        escape(out);
        continue;
      }
      out += c;
      ++i_;
    }
    return true;  // EOF ends the url token
  }

  // §4.3.14 consume the remnants of a bad url.
  void bad_url_remnants() {
    while (i_ < s_.size()) {
      if (s_[i_] == ')') {
        ++i_;
        return;
      }
      if (valid_escape(0)) {
        i_ += 2;
        continue;
      }
      ++i_;
    }
  }

  std::string_view s_;
  size_t i_ = 0;
  size_t depth_ = 0;             // '{' nesting
  size_t skip_until_depth_ = 0;  // inside an @font-face block opened at this depth (0: not inside one)
  bool font_face_pending_ = false;  // @font-face seen, its block not opened yet
  bool in_prelude_ = false;      // between @import/@namespace and its ';'
};

}  // namespace

std::vector<std::string> css_urls(std::string_view css, size_t max_urls) {
  std::vector<std::string> out;
  Tokenizer(css).run(out, max_urls);
  for (auto& u : out) {
    const auto b = u.find_first_not_of(" \t\n\r\f");
    const auto e = u.find_last_not_of(" \t\n\r\f");
    u = b == std::string::npos ? std::string() : u.substr(b, e - b + 1);
  }
  std::vector<std::string> kept;
  for (auto& u : out)
    if (!u.empty()) kept.push_back(std::move(u));
  return kept;
}

}  // namespace kestrel::crawler
