#include "kestrel/test/temp_dir.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <stdexcept>
#include <system_error>
#include <vector>

namespace kestrel {
namespace test {

TempDir::TempDir(const std::string& tag) {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base && *base ? base : "/tmp") + "/kestrel-test-" + tag + "-XXXXXX";
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr)
    throw std::runtime_error("cannot create temporary folder " + pattern + ": " + std::strerror(errno));
  path_ = buf.data();
}

TempDir::~TempDir() { remove(); }

TempDir::TempDir(TempDir&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }

TempDir& TempDir::operator=(TempDir&& other) noexcept {
  if (this != &other) {
    remove();
    path_ = std::move(other.path_);
    other.path_.clear();
  }
  return *this;
}

std::string TempDir::make_dir(const std::string& relative) const {
  std::string p = file(relative);
  std::error_code ec;
  std::filesystem::create_directories(p, ec);
  if (ec) throw std::runtime_error("cannot create folder " + p + ": " + ec.message());
  return p;
}

void TempDir::remove() noexcept {
  if (path_.empty()) return;
  const char* keep = std::getenv("KESTREL_KEEP_TEMP");
  if (keep && std::strcmp(keep, "1") == 0) {
    std::cerr << "KESTREL_KEEP_TEMP: kept " << path_ << "\n";
  } else {
    std::error_code ec;  // remove_all does not follow symlinks
    std::filesystem::remove_all(path_, ec);
    if (ec) std::cerr << "warning: cannot remove " << path_ << ": " << ec.message() << "\n";
  }
  path_.clear();
}

}  // namespace test
}  // namespace kestrel
