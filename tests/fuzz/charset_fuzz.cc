// Fuzzes charset detection and conversion: the first byte picks a declared charset.
// Property: the output is valid UTF-8.
#include <cstddef>
#include <cstdint>
#include <string>

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
                                       "text/html; charset=bogus"};
  if (size == 0) return 0;
  const char* type = kTypes[data[0] % (sizeof kTypes / sizeof kTypes[0])];
  std::string out = kestrel::crawler::to_utf8(std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1), type);
  if (!valid_utf8(out)) __builtin_trap();
  return 0;
}
