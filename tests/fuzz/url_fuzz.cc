// Fuzzes URL resolution and normalization (libcurl URL API + our canonical form).
// Property: normalization is idempotent.
#include <cstddef>
#include <cstdint>
#include <string>

#include "url.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string ref(reinterpret_cast<const char*>(data), size);
  auto resolved = kestrel::crawler::resolve_url("http://example.test/dir/page.html?q=1", ref);
  if (resolved) {
    auto again = kestrel::crawler::normalize_url(*resolved);
    if (!again || *again != *resolved) __builtin_trap();
    (void)kestrel::crawler::origin_of(*resolved);
    (void)kestrel::crawler::path_and_query(*resolved);
    (void)kestrel::crawler::filename_of(*resolved);
  }
  (void)kestrel::crawler::normalize_url(ref);
  return 0;
}
