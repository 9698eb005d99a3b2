#include "host_test_util.h"

#include <Poco/File.h>
#include <Poco/Path.h>
#include <Poco/TemporaryFile.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace kestrel::test {

std::string build_dir() {
  const char* b = std::getenv("KESTREL_BUILD_DIR");
  if (!b || !*b) throw std::runtime_error("KESTREL_BUILD_DIR is not set: run the tests through ctest");
  return b;
}

std::string test_plugin_dir() { return build_dir() + "/tests/plugins"; }

ScratchDir::ScratchDir() {
  path_ = Poco::TemporaryFile::tempName();
  Poco::File(path_).createDirectories();
}

ScratchDir::~ScratchDir() {
  try {
    Poco::File(path_).remove(true);
  } catch (...) {
  }
}

std::string ScratchDir::write(const std::string& name, const std::string& text) const {
  std::string p = path_ + "/" + name;
  std::ofstream(p, std::ios::binary | std::ios::trunc) << text;
  return p;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
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
