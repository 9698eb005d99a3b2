// parse_srcset: the HTML Standard's "parse a srcset attribute" algorithm (§4.8.4.3.10), keeping the URLs
// of the candidates whose descriptors are valid, as browsers do.
#include <string>
#include <string_view>
#include <vector>

#include "html_extract.h"

namespace kestrel::crawler {

namespace {

bool is_ascii_whitespace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'; }

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// "valid non-negative integer": one or more ASCII digits; its value must be > 0 here.
bool is_positive_integer(std::string_view s) {
  if (s.empty()) return false;
  bool nonzero = false;
  for (char c : s) {
    if (!is_digit(c)) return false;
    nonzero = nonzero || c != '0';
  }
  return nonzero;
}

// "valid floating-point number" (HTML §2.3.4.3) that is not negative.
bool is_non_negative_float(std::string_view s) {
  size_t i = 0;
  if (i < s.size() && s[i] == '-') return false;  // negative densities are errors ("-0" too, conservatively)
  size_t digits = 0;
  while (i < s.size() && is_digit(s[i])) ++i, ++digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    size_t fraction = 0;
    while (i < s.size() && is_digit(s[i])) ++i, ++fraction;
    if (fraction == 0) return false;
    digits += fraction;
  }
  if (digits == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    size_t exponent = 0;
    while (i < s.size() && is_digit(s[i])) ++i, ++exponent;
    if (exponent == 0) return false;
  }
  return i == s.size();
}

// The descriptor parser (step 13 of the algorithm): false when the candidate must be dropped.
bool descriptors_valid(const std::vector<std::string>& descriptors) {
  bool width = false;
  bool density = false;
  bool height = false;
  for (const std::string& d : descriptors) {
    const char kind = d.back();
    const std::string_view value(d.data(), d.size() - 1);
    if (kind == 'w') {
      if (width || density || !is_positive_integer(value)) return false;
      width = true;
    } else if (kind == 'x') {
      if (width || density || height || !is_non_negative_float(value)) return false;
      density = true;
    } else if (kind == 'h') {
      if (height || density || !is_positive_integer(value)) return false;
      height = true;
    } else {
      return false;
    }
  }
  return !(height && !width);
}

}  // namespace

std::vector<std::string> parse_srcset(std::string_view input) {
  std::vector<std::string> urls;
  size_t pos = 0;
  const size_t n = input.size();
  while (true) {
    // Splitting loop: skip whitespace and commas, then the URL is the run up to whitespace.
    while (pos < n && (is_ascii_whitespace(input[pos]) || input[pos] == ',')) ++pos;
    if (pos >= n) return urls;
    const size_t url_start = pos;
    while (pos < n && !is_ascii_whitespace(input[pos])) ++pos;
    std::string url(input.substr(url_start, pos - url_start));
    std::vector<std::string> descriptors;

    if (url.back() == ',') {
      // "a.png," : trailing commas end the candidate; it has no descriptors.
      while (!url.empty() && url.back() == ',') url.pop_back();
    } else {
      // Descriptor tokenizer: whitespace separates descriptors, a comma outside parentheses ends the candidate.
      while (pos < n && is_ascii_whitespace(input[pos])) ++pos;
      enum class State { InDescriptor, InParens, AfterDescriptor } state = State::InDescriptor;
      std::string current;
      bool done = false;
      while (!done) {
        const bool eof = pos >= n;
        const char c = eof ? '\0' : input[pos];
        switch (state) {
          case State::InDescriptor:
            if (eof) {
              if (!current.empty()) descriptors.push_back(current);
              done = true;
            } else if (is_ascii_whitespace(c)) {
              if (!current.empty()) descriptors.push_back(current);
              current.clear();
              state = State::AfterDescriptor;
            } else if (c == ',') {
              ++pos;
              if (!current.empty()) descriptors.push_back(current);
              done = true;
              continue;
            } else {
              current.push_back(c);
              if (c == '(') state = State::InParens;
            }
            break;
          case State::InParens:
            if (eof) {
              descriptors.push_back(current);
              done = true;
            } else {
              current.push_back(c);
              if (c == ')') state = State::InDescriptor;
            }
            break;
          case State::AfterDescriptor:
            if (eof) {
              done = true;
            } else if (!is_ascii_whitespace(c)) {
              state = State::InDescriptor;
              continue;  // reconsume
            }
            break;
        }
        if (!done) ++pos;
      }
    }
    if (!url.empty() && descriptors_valid(descriptors)) urls.push_back(std::move(url));
  }
}

}  // namespace kestrel::crawler
