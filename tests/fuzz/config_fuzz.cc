// Fuzzes the YAML configuration reader (syntax, duplicate keys, sections, ${env:...}).
// Property: it never throws; every error has a message.
#include <cstddef>
#include <cstdint>
#include <string>

#include "config/config_document.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  kestrel::host::ConfigErrors errors;
  auto doc = kestrel::host::ConfigDocument::load_text(text, "fuzz.yaml", "/etc/kestrel", &errors);
  for (const auto& e : errors)
    if (e.message.empty()) __builtin_trap();
  (void)doc;
  return 0;
}
