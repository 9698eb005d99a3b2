// Helpers shared by the host's unit tests.
#ifndef KESTREL_TESTS_UNIT_HOST_HOST_TEST_UTIL_H_
#define KESTREL_TESTS_UNIT_HOST_HOST_TEST_UTIL_H_

#include <string>
#include <vector>

#include "config/config_error.h"

namespace kestrel::test {

// $KESTREL_BUILD_DIR (set by kestrel_add_test); throws if unset.
std::string build_dir();
// Folder of the purpose-built test plugins: <build>/tests/plugins.
std::string test_plugin_dir();

// A fresh temporary directory, removed (recursively) by the destructor.
class ScratchDir {
 public:
  ScratchDir();
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::string& path() const { return path_; }
  // Writes `text` to path()/name and returns the full path.
  std::string write(const std::string& name, const std::string& text) const;

 private:
  std::string path_;
};

// Reads a whole file ("" if missing).
std::string read_file(const std::string& path);
// Lines of a file, without their newlines.
std::vector<std::string> read_lines(const std::string& path);
// All errors as one string, one per line (for assertion messages).
std::string dump(const host::ConfigErrors& errors);
// True if some error has `line` and a message containing `needle`.
bool has_error(const host::ConfigErrors& errors, int line, const std::string& needle);

}  // namespace kestrel::test

#endif  // KESTREL_TESTS_UNIT_HOST_HOST_TEST_UTIL_H_
