#include "kestrel/test/files.h"

#include <Poco/DigestEngine.h>
#include <Poco/MD5Engine.h>
#include <Poco/SHA2Engine.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>

namespace kestrel {
namespace test {
namespace {

std::string hex_digest(const std::string& path, Poco::DigestEngine& engine) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path + " to hash it");
  char buf[64 * 1024];
  while (in) {
    in.read(buf, sizeof buf);
    engine.update(buf, static_cast<unsigned>(in.gcount()));
  }
  if (in.bad()) throw std::runtime_error("cannot read " + path + " to hash it");
  return Poco::DigestEngine::digestToHex(engine.digest());
}

}  // namespace

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::ostringstream out;
  out << in.rdbuf();
  if (in.bad()) throw std::runtime_error("cannot read " + path);
  return out.str();
}

void write_file(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  out.close();
  if (!out) throw std::runtime_error("cannot write " + path);
}

std::string sha256_file(const std::string& path) {
  Poco::SHA2Engine engine(Poco::SHA2Engine::SHA_256);
  return hex_digest(path, engine);
}

std::string md5_file(const std::string& path) {
  Poco::MD5Engine engine;
  return hex_digest(path, engine);
}

std::vector<std::string> list_files(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return out;
  std::filesystem::recursive_directory_iterator it(dir, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    if (it->is_regular_file(ec) && !it->is_symlink(ec))
      out.push_back(std::filesystem::relative(it->path(), dir, ec).generic_string());
  }
  if (ec) throw std::runtime_error("cannot list " + dir + ": " + ec.message());
  std::sort(out.begin(), out.end());
  return out;
}

bool path_exists(const std::string& path) {
  std::error_code ec;
  return std::filesystem::exists(std::filesystem::symlink_status(path, ec));
}

}  // namespace test
}  // namespace kestrel
