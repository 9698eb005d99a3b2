// ASCII-only text helpers shared by the parsers (internal to the parse library).
// HTTP, HTML attribute and robots.txt keywords are compared ASCII
// case-insensitively, never with the locale.
#ifndef KESTREL_CRAWLER_PARSE_ASCII_H_
#define KESTREL_CRAWLER_PARSE_ASCII_H_

#include <string>
#include <string_view>

namespace kestrel::crawler {

// `s` with A-Z lowered; other bytes (UTF-8 included) unchanged.
inline std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

}  // namespace kestrel::crawler

#endif  // KESTREL_CRAWLER_PARSE_ASCII_H_
