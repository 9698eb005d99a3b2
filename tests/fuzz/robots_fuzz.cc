// Fuzzes the robots.txt parser and matcher (RFC 9309).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "robots.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  kestrel::crawler::RobotsRules rules = kestrel::crawler::RobotsRules::parse(body, "Kestrel");
  (void)rules.allowed("/");
  (void)rules.allowed("/a/b/c.png?x=1");
  (void)rules.allowed(std::string(body.substr(0, 64)));
  (void)rules.crawl_delay_ms();
  (void)rules.sitemaps();
  return 0;
}
