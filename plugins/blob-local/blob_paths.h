// Names in a blob-local root: content addresses and the checks that keep
// callers inside the root.
#ifndef KESTREL_BLOB_LOCAL_BLOB_PATHS_H
#define KESTREL_BLOB_LOCAL_BLOB_PATHS_H

#include <string>

namespace kestrel {
namespace blob_local {

// Folder under the root holding uploads in progress; never a blob path.
extern const char kTempDir[];  // ".tmp"

// Throws Error(KESTREL_ERR_INVALID) unless `sha256` is 64 lower-case hex digits.
void check_sha256(const std::string& sha256);

// Throws Error(KESTREL_ERR_INVALID) unless `extension` matches [a-z0-9]{1,8}.
void check_extension(const std::string& extension);

// "aa/<sha256>.<ext>" where aa is the hash's first byte in hex: one level of
// fan-out, at most 256 folders. (Two levels made ~1 folder per file on a
// crawl of thousands of images, and creating those inodes cost a fifth of the
// crawl's CPU; 256 folders keep each under ~4000 entries up to a million blobs.)
// REQUIRES: both arguments passed the checks above.
std::string content_path(const std::string& sha256, const std::string& extension);

// Throws Error(KESTREL_ERR_INVALID) naming the reason unless `path` is a
// relative path that stays inside the root: not empty, not absolute, no
// backslash, no empty, "." or ".." segment, not under .tmp/.
void check_relative_path(const std::string& path);

}  // namespace blob_local
}  // namespace kestrel

#endif  // KESTREL_BLOB_LOCAL_BLOB_PATHS_H
