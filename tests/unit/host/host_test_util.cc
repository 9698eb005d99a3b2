#include "host_test_util.h"

#include <fstream>

namespace kestrel::test {

std::string test_plugin_dir() { return build_dir() + "/tests/plugins"; }

std::string write_in(const TempDir& dir, const std::string& name, const std::string& text) {
  const std::string p = dir.file(name);
  write_file(p, text);
  return p;
}

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

std::string dump(const host::ConfigErrors& errors) {
  std::string out;
  for (const auto& e : errors) out += e.to_string() + "\n";
  return out;
}

bool has_error(const host::ConfigErrors& errors, int line, const std::string& needle) {
  for (const auto& e : errors)
    if (e.where.line == line && e.message.find(needle) != std::string::npos) return true;
  return false;
}

}  // namespace kestrel::test
