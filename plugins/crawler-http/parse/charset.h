// Character-set detection and conversion of fetched HTML to UTF-8 (WHATWG Encoding, simplified), with iconv.
//
// Pure functions: any thread may call them. Nothing here throws on bad input bytes.
#ifndef KESTREL_CRAWLER_PARSE_CHARSET_H_
#define KESTREL_CRAWLER_PARSE_CHARSET_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kestrel::crawler {

// Returns the body as UTF-8. The charset comes from, in order: a BOM, the `charset=` parameter of
// `content_type` (the HTTP header value, may be empty), a <meta charset> / <meta http-equiv=Content-Type>
// in the first 1024 bytes (WHATWG prescan, simplified), else UTF-8. Conversion with iconv;
// undecodable bytes become U+FFFD; unknown charset names fall back to windows-1252 for latin-1 aliases,
// else UTF-8 with replacement. Never throws on bad bytes.
std::string to_utf8(std::string_view body, std::string_view content_type);

// The charset label to_utf8 would use for this body, canonicalized to the WHATWG encoding name in
// lower case ("utf-8", "windows-1252", "shift_jis", "euc-kr", "utf-16le", ...). Useful for logs and tests.
std::string detect_charset(std::string_view body, std::string_view content_type);

// The `charset` parameter of a Content-Type header value (RFC 9110 §8.3), unquoted and lower-cased;
// "" when absent. E.g. "text/html; Charset=\"ISO-8859-1\"" -> "iso-8859-1".
std::string charset_from_content_type(std::string_view content_type);

}  // namespace kestrel::crawler

#endif  // KESTREL_CRAWLER_PARSE_CHARSET_H_
