// Fuzzes charset conversion + HTML link extraction (gumbo), as a crawled page goes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "charset.h"
#include "html_extract.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  std::string utf8 = kestrel::crawler::to_utf8(body, "text/html");
  kestrel::crawler::ExtractedLinks links = kestrel::crawler::extract_links(utf8, "http://example.test/a/b/page.html");
  for (const auto& u : links.pages)
    if (u.rfind("http", 0) != 0) __builtin_trap();  // only absolute http(s) URLs come out
  for (const auto& u : links.images)
    if (u.rfind("http", 0) != 0) __builtin_trap();
  return 0;
}
