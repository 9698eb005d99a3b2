// Fuzzes charset detection and conversion: the first byte picks a declared charset, the second a cut point
// in the rest, the body. Properties: the output is valid UTF-8; a Utf8Decoder fed the body in two pieces cut
// there (and in three, at the cut and its half) gives what to_utf8 gives.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "charset.h"

namespace {

bool valid_utf8(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 0x2) return false;
    i += n;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const char* const kTypes[] = {"text/html", "text/html; charset=windows-1252", "text/html; charset=shift_jis",
                                       "text/html; charset=euc-kr", "text/html; charset=utf-16le",
                                       "text/html; charset=bogus", "text/html; charset=iso-2022-jp",
                                       "text/html; charset=utf-16be", "text/html; charset=gb18030",
                                       "text/html; charset=big5"};
  if (size < 2) return 0;
  const char* type = kTypes[data[0] % (sizeof kTypes / sizeof kTypes[0])];
  const std::string_view body(reinterpret_cast<const char*>(data) + 2, size - 2);
  const size_t cut = data[1] % (body.size() + 1);
  const std::string out = kestrel::crawler::to_utf8(body, type);
  if (!valid_utf8(out)) __builtin_trap();

  const std::string charset = kestrel::crawler::detect_charset(body.substr(0, 1024), type);
  kestrel::crawler::Utf8Decoder decoder(charset);
  std::string streamed;
  decoder.feed(body.substr(0, cut / 2), streamed);
  decoder.feed(body.substr(cut / 2, cut - cut / 2), streamed);
  decoder.feed(body.substr(cut), streamed);
  decoder.finish(streamed);
  if (streamed != out) __builtin_trap();
  return 0;
}
