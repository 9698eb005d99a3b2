// Fuzzes the CSS url() tokenizer and the sitemap reader (XML, index, gzip);
// the first byte picks which.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "css_urls.h"
#include "sitemap.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] & 1) {
    (void)kestrel::crawler::css_urls(body, 1000);
  } else {
    kestrel::crawler::SitemapLinks links = kestrel::crawler::parse_sitemap(body, 1 << 20, 1000);
    if (links.pages.size() > 1000) __builtin_trap();  // the cap holds
  }
  return 0;
}
