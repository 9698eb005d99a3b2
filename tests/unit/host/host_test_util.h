// Helpers shared by the host's unit tests, on top of tests/support.
#ifndef KESTREL_TESTS_UNIT_HOST_HOST_TEST_UTIL_H_
#define KESTREL_TESTS_UNIT_HOST_HOST_TEST_UTIL_H_

#include <string>
#include <vector>

#include "config/config_error.h"
#include "kestrel/test/files.h"
#include "kestrel/test/paths.h"
#include "kestrel/test/temp_dir.h"

namespace kestrel::test {

// Folder of the purpose-built test plugins: <build>/tests/plugins.
std::string test_plugin_dir();

// Writes `text` to dir/name and returns the full path.
std::string write_in(const TempDir& dir, const std::string& name, const std::string& text);

// Lines of a file, without their newlines.
std::vector<std::string> read_lines(const std::string& path);
// All errors as one string, one per line (for assertion messages).
std::string dump(const host::ConfigErrors& errors);
// True if some error has `line` and a message containing `needle`.
bool has_error(const host::ConfigErrors& errors, int line, const std::string& needle);

}  // namespace kestrel::test

#endif  // KESTREL_TESTS_UNIT_HOST_HOST_TEST_UTIL_H_
