// Where the build and the sources are, as kestrel_add_test tells a test.
#ifndef KESTREL_TEST_PATHS_H
#define KESTREL_TEST_PATHS_H

#include <string>

namespace kestrel {
namespace test {

// The build folder: $KESTREL_BUILD_DIR (set by kestrel_add_test for CTest),
// else the folder this harness was configured in (so a test binary run by hand
// works too). Absolute, no trailing slash. Any thread.
std::string build_dir();

// The source checkout: $KESTREL_SOURCE_DIR, else the configured source folder.
std::string source_dir();

// build_dir() + "/bin/kestreld". Does not check that it exists.
std::string kestreld_path();

// build_dir() + "/plugins": where kestrel_add_plugin puts the .so files.
std::string plugin_dir();

// Debian's python3 with PIL, for tests/tools/*.py: "/usr/bin/python3".
std::string python3_path();

// True when `path` names an existing regular file that may be executed.
bool is_executable(const std::string& path);

}  // namespace test
}  // namespace kestrel

#endif  // KESTREL_TEST_PATHS_H
