// Percent-encoding canonicalization shared by URL normalization and robots.txt matching (RFC 3986 §2.1, §6.2.2).
// Internal to the parse library. Pure functions: any thread may call them.
#ifndef KESTREL_CRAWLER_PARSE_PERCENT_ENCODING_H_
#define KESTREL_CRAWLER_PARSE_PERCENT_ENCODING_H_

#include <string>
#include <string_view>

namespace kestrel::crawler {

// Which characters a URL component must carry percent-encoded besides controls, space and non-ASCII bytes
// (WHATWG URL percent-encode sets, which are what browsers send).
enum class UrlComponent { Userinfo, Path, Query };

// Returns `in` (one URL component, raw bytes) in canonical percent-encoding: "%xx" triplets get upper-case
// hex, triplets of unreserved characters (ALPHA DIGIT - . _ ~) are decoded, a '%' not starting a valid
// triplet becomes "%25", and bytes that must be encoded in `component` (controls, space, bytes >= 0x7F,
// and the component's delimiters) are encoded. Idempotent.
std::string canonicalize_percent_encoding(std::string_view in, UrlComponent component);

// Decodes every valid "%XX" triplet of `in`; invalid '%' sequences are kept as they are.
std::string percent_decode(std::string_view in);

// True for RFC 3986 unreserved characters: ALPHA DIGIT - . _ ~
bool is_unreserved(unsigned char c);

// Value of a hex digit, or -1.
int hex_value(unsigned char c);

}  // namespace kestrel::crawler

#endif  // KESTREL_CRAWLER_PARSE_PERCENT_ENCODING_H_
