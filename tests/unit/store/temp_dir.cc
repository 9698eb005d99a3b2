#include "temp_dir.h"

#include <Poco/File.h>

#include <cerrno>
#include <cstdlib>
#include <stdexcept>
#include <system_error>
#include <vector>

namespace kestrel {
namespace store_test {

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base && *base ? base : "/tmp") + "/kestrel-store-XXXXXX";
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr)
    throw std::runtime_error("mkdtemp " + pattern + ": " + std::system_category().message(errno));
  path_ = buf.data();
}

TempDir::~TempDir() {
  try {
    Poco::File(path_).remove(true);
  } catch (...) {
    // Leave it for the OS's temp cleaner rather than fail a destructor.
  }
}

}  // namespace store_test
}  // namespace kestrel
