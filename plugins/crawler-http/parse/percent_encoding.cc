#include "percent_encoding.h"

namespace kestrel::crawler {

namespace {

const char kHex[] = "0123456789ABCDEF";

void append_encoded(std::string& out, unsigned char c) {
  out.push_back('%');
  out.push_back(kHex[c >> 4]);
  out.push_back(kHex[c & 0xF]);
}

// WHATWG URL: the query percent-encode set (plus '\'' for special schemes), the path set adds ? ` { },
// the userinfo set adds / : ; = @ [ \ ] ^ |.
bool must_encode(unsigned char c, UrlComponent component) {
  if (c <= 0x20 || c >= 0x7F) return true;
  switch (c) {
    case '"': case '#': case '<': case '>':
      return true;
    case '\'':
      return component == UrlComponent::Query;
    case '?': case '`': case '{': case '}':
      return component != UrlComponent::Query;
    case '/': case ':': case ';': case '=': case '@': case '[': case '\\': case ']': case '^': case '|':
      return component == UrlComponent::Userinfo;
    default:
      return false;
  }
}

}  // namespace

int hex_value(unsigned char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

std::string canonicalize_percent_encoding(std::string_view in, UrlComponent component) {
  std::string out;
  out.reserve(in.size() + in.size() / 4);
  for (size_t i = 0; i < in.size(); ++i) {
    const auto c = static_cast<unsigned char>(in[i]);
    if (c == '%') {
      const int hi = i + 2 < in.size() ? hex_value(static_cast<unsigned char>(in[i + 1])) : -1;
      const int lo = hi >= 0 ? hex_value(static_cast<unsigned char>(in[i + 2])) : -1;
      if (lo < 0) {  // a stray '%' means itself
        out += "%25";
        continue;
      }
      const auto decoded = static_cast<unsigned char>(hi * 16 + lo);
      if (is_unreserved(decoded)) {
        out.push_back(static_cast<char>(decoded));
      } else {
        append_encoded(out, decoded);
      }
      i += 2;
    } else if (must_encode(c, component)) {
      append_encoded(out, c);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

std::string percent_decode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%' && i + 2 < in.size()) {
      const int hi = hex_value(static_cast<unsigned char>(in[i + 1]));
      const int lo = hex_value(static_cast<unsigned char>(in[i + 2]));
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(in[i]);
  }
  return out;
}

}  // namespace kestrel::crawler
