// Character-set detection and conversion of fetched HTML to UTF-8 (WHATWG Encoding, simplified), with iconv.
//
// The free functions are pure: any thread may call them. A Utf8Decoder belongs to one thread at a time.
// Nothing here throws on bad input bytes.
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
// in the first 1024 bytes (the WHATWG "prescan a byte stream to determine its encoding" algorithm),
// else UTF-8. Conversion with iconv; undecodable bytes become U+FFFD; unknown charset names fall back to
// windows-1252 for latin-1 aliases, else UTF-8 with replacement. Never throws on bad bytes.
// The same as Utf8Decoder(detect_charset(body, content_type)) fed `body` whole, then finished.
std::string to_utf8(std::string_view body, std::string_view content_type);

// The charset label to_utf8 would use for this body, canonicalized to the WHATWG encoding name in
// lower case ("utf-8", "windows-1252", "shift_jis", "euc-kr", "utf-16le", ...). Only the first 1024 bytes
// of `body` are looked at, so a streaming caller may pass just those. Useful for logs and tests.
std::string detect_charset(std::string_view body, std::string_view content_type);

// The `charset` parameter of a Content-Type header value (RFC 9110 §8.3), unquoted and lower-cased;
// "" when absent. E.g. "text/html; Charset=\"ISO-8859-1\"" -> "iso-8859-1".
std::string charset_from_content_type(std::string_view content_type);

// Incremental conversion of a body to UTF-8, for bodies that arrive (or are read) in chunks:
//
//   Utf8Decoder decoder(detect_charset(first_1024_bytes, content_type));
//   std::string utf8;
//   for (each chunk) { utf8.clear(); decoder.feed(chunk, utf8); use(utf8); }
//   utf8.clear(); decoder.finish(utf8); use(utf8);
//
// The concatenated output equals to_utf8() of the concatenated input, however the input is split (inside
// multi-byte sequences and shift sequences too): a leading BOM of the decoder's own encoding is dropped,
// undecodable bytes become U+FFFD, the output is always well-formed UTF-8 (RFC 3629) and every call's output
// ends on a character boundary. Memory: a few bytes of carried input besides iconv's state.
// One thread at a time; not copyable.
class Utf8Decoder {
 public:
  // `charset`: a label as returned by detect_charset (any WHATWG label or iconv name is accepted; an unknown
  // one decodes as UTF-8 with replacement, as to_utf8 does).
  explicit Utf8Decoder(std::string_view charset);
  ~Utf8Decoder();
  Utf8Decoder(const Utf8Decoder&) = delete;
  Utf8Decoder& operator=(const Utf8Decoder&) = delete;
  Utf8Decoder(Utf8Decoder&& other) noexcept;  // a moved-from decoder may only be destroyed
  Utf8Decoder& operator=(Utf8Decoder&& other) noexcept;

  // Appends the UTF-8 of `bytes` to `out`; an incomplete sequence at the end of `bytes` is kept for the next
  // call. Never fails.
  void feed(std::string_view bytes, std::string& out);

  // Appends what is left: an incomplete sequence left at the end becomes one U+FFFD; a stateful encoding's
  // shift state is reset. Call once, after the last feed; later feeds start a new stream.
  void finish(std::string& out);

 private:
  void convert(std::string_view in, std::string& out, bool at_end);

  void* cd_;               // iconv_t (a pointer in glibc); nullptr when iconv_open failed, or moved from
  bool utf8_;              // the input is UTF-8: checked here, iconv only near the end of an input
  std::string bom_;        // the BOM this encoding drops at the start of the stream ("" for none)
  bool at_start_ = true;   // no byte after a possible BOM has been seen yet
  std::string carry_;      // input bytes kept from the last feed (a partial BOM or character)
};

// Length in bytes of the well-formed UTF-8 sequence at s[i] (RFC 3629 §4: at most 4 bytes, no
// overlong forms, no surrogates, nothing above U+10FFFF), or 0 when ill-formed or cut off by the end of
// `s`; *partial (if given) is set when the bytes up to the end are a proper prefix of a well-formed
// sequence (more input may complete it). REQUIRES i < s.size(). Pure.
size_t utf8_sequence(std::string_view s, size_t i, bool* partial = nullptr);

// True when every byte of `s` belongs to a well-formed sequence (utf8_sequence). Pure.
bool is_utf8(std::string_view s);

}  // namespace kestrel::crawler

#endif  // KESTREL_CRAWLER_PARSE_CHARSET_H_
