#include "blob_paths.h"

#include <kestrel/plugin.hpp>

namespace kestrel {
namespace blob_local {

const char kTempDir[] = ".tmp";

void check_sha256(const std::string& sha256) {
  bool ok = sha256.size() == 64;
  for (char c : sha256) ok = ok && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
  if (!ok) throw Error(KESTREL_ERR_INVALID, "sha256 '" + sha256 + "' is not 64 lower-case hex digits");
}

void check_extension(const std::string& extension) {
  bool ok = !extension.empty() && extension.size() <= 8;
  for (char c : extension) ok = ok && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z'));
  if (!ok) throw Error(KESTREL_ERR_INVALID, "extension '" + extension + "' does not match [a-z0-9]{1,8}");
}

std::string content_path(const std::string& sha256, const std::string& extension) {
  return sha256.substr(0, 2) + "/" + sha256 + "." + extension;
}

void check_relative_path(const std::string& path) {
  const auto refuse = [&path](const std::string& why) {
    throw Error(KESTREL_ERR_INVALID, "blob path '" + path + "' refused: " + why);
  };
  if (path.empty()) refuse("it is empty");
  if (path.size() > 1024) refuse("longer than 1024 bytes");
  if (path.front() == '/') refuse("absolute paths escape the store root");
  if (path.find('\\') != std::string::npos) refuse("backslashes are not allowed");
  if (path.find('\0') != std::string::npos) refuse("NUL bytes are not allowed");
  size_t start = 0;
  for (;;) {
    const size_t slash = path.find('/', start);
    const std::string segment = path.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (segment.empty()) refuse("empty path segment");
    if (segment == "..") refuse("'..' escapes the store root");
    if (segment == ".") refuse("'.' segments are not allowed");
    if (start == 0 && segment == kTempDir) refuse("uploads in progress are not blobs");
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
}

}  // namespace blob_local
}  // namespace kestrel
