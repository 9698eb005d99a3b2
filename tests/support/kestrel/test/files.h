// Small file helpers for tests: read, write, hash and list files.
#ifndef KESTREL_TEST_FILES_H
#define KESTREL_TEST_FILES_H

#include <string>
#include <vector>

namespace kestrel {
namespace test {

// Returns the whole content of `path` (bytes). Throws std::runtime_error
// naming the file when it cannot be read.
std::string read_file(const std::string& path);

// Creates or truncates `path` with `content` (bytes). Throws std::runtime_error
// naming the file on failure.
void write_file(const std::string& path, const std::string& content);

// Lower-case hex SHA-256 (64 chars) / MD5 (32 chars) of the file's bytes
// (Poco::SHA2Engine / Poco::MD5Engine). Throw like read_file.
std::string sha256_file(const std::string& path);
std::string md5_file(const std::string& path);

// Paths, relative to `dir` and sorted, of every regular file below `dir`
// (recursively; symlinks are not followed). Empty when `dir` does not exist.
std::vector<std::string> list_files(const std::string& dir);

// True when `path` exists (any type).
bool path_exists(const std::string& path);

}  // namespace test
}  // namespace kestrel

#endif  // KESTREL_TEST_FILES_H
