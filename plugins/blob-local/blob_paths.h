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

// "aa/bb/<sha256>.<ext>" where aa and bb are the hash's first two byte pairs.
// REQUIRES: both arguments passed the checks above.
std::string content_path(const std::string& sha256, const std::string& extension);

// Throws Error(KESTREL_ERR_INVALID) naming the reason unless `path` is a
// relative path that stays inside the root: not empty, not absolute, no
// backslash, no empty, "." or ".." segment, not under .tmp/.
void check_relative_path(const std::string& path);

}  // namespace blob_local
}  // namespace kestrel

#endif  // KESTREL_BLOB_LOCAL_BLOB_PATHS_H
