#include "kestrel/test/paths.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

// Configured by tests/support/CMakeLists.txt.
#ifndef KESTREL_TEST_DEFAULT_BUILD_DIR
#error "KESTREL_TEST_DEFAULT_BUILD_DIR must be defined by the build"
#endif
#ifndef KESTREL_TEST_DEFAULT_SOURCE_DIR
#error "KESTREL_TEST_DEFAULT_SOURCE_DIR must be defined by the build"
#endif

namespace kestrel {
namespace test {
namespace {

std::string from_env(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  std::string s = (v && *v) ? v : fallback;
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

}  // namespace

std::string build_dir() { return from_env("KESTREL_BUILD_DIR", KESTREL_TEST_DEFAULT_BUILD_DIR); }
std::string source_dir() { return from_env("KESTREL_SOURCE_DIR", KESTREL_TEST_DEFAULT_SOURCE_DIR); }
std::string kestreld_path() { return build_dir() + "/bin/kestreld"; }
std::string plugin_dir() { return build_dir() + "/plugins"; }
std::string python3_path() { return "/usr/bin/python3"; }

bool is_executable(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

}  // namespace test
}  // namespace kestrel
