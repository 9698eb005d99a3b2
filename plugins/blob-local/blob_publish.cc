#include "blob_publish.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "blob_root.h"

namespace kestrel {
namespace blob_local {
namespace {

bool complete_copy_at(const std::string& target, uint64_t size) {
  struct stat existing;
  return ::stat(target.c_str(), &existing) == 0 && S_ISREG(existing.st_mode) &&
         static_cast<uint64_t>(existing.st_size) == size;
}

Published publish_unnamed(BlobRoot& root, FinishedUpload& up, const std::string& target, const std::string& aa) {
  // linkat through /proc follows the magic link to the open inode and needs
  // no CAP_DAC_READ_SEARCH (AT_EMPTY_PATH does). The store's probe checked it.
  char proc_path[48];
  std::snprintf(proc_path, sizeof proc_path, "/proc/self/fd/%d", up.fd.get());
  for (int attempt = 0;; ++attempt) {
    if (::linkat(AT_FDCWD, proc_path, AT_FDCWD, target.c_str(), AT_SYMLINK_FOLLOW) == 0) return Published::kNew;
    const int err = errno;
    if (err == ENOENT && attempt == 0) {
      // The folder was removed behind our back since we knew it: make it again.
      root.forget_dir(aa);
      root.ensure_dir(aa);
      continue;
    }
    if (err != EEXIST) throw_errno(err, "linking " + up.what + " to " + target);
    if (complete_copy_at(target, up.size)) return Published::kDuplicate;
    // Debris of another size: link ours under a temp name (in .tmp/, which
    // start() cleans should we crash right here), then rename it over.
    std::string temp;
    for (int tries = 0;; ++tries) {
      temp = root.next_temp_path();
      if (::linkat(AT_FDCWD, proc_path, AT_FDCWD, temp.c_str(), AT_SYMLINK_FOLLOW) == 0) break;
      if (errno != EEXIST || tries + 1 >= BlobRoot::kTempNameAttempts) throw_errno(errno, "linking " + up.what + " to " + temp);
    }
    if (::rename(temp.c_str(), target.c_str()) != 0) {
      const int rename_err = errno;
      ::unlink(temp.c_str());
      throw_errno(rename_err, "renaming " + temp + " to " + target);
    }
    return Published::kNew;
  }
}

Published publish_named(BlobRoot& root, FinishedUpload& up, const std::string& target, const std::string& aa) {
  if (complete_copy_at(target, up.size)) return Published::kDuplicate;  // drop() removes ours
  for (int attempt = 0;; ++attempt) {
    if (::rename(up.temp_path.c_str(), target.c_str()) == 0) {
      up.temp_path.clear();  // renamed: nothing left to remove
      return Published::kNew;
    }
    const int err = errno;
    if (err == ENOENT && attempt == 0) {  // the folder vanished, see publish_unnamed
      root.forget_dir(aa);
      root.ensure_dir(aa);
      continue;
    }
    throw_errno(err, "renaming " + up.temp_path + " to " + target);
  }
}

}  // namespace

Published publish(BlobRoot& root, FinishedUpload& up) {
  const bool unnamed = up.temp_path.empty();
  try {
    // A named file is closed before it gets its final name, so that a delayed
    // write error (NFS reports them at close) keeps it out. An unnamed one
    // must stay open to be linked: should its close fail, the name goes
    // again (else a retry would take the same-sized file for a complete copy).
    if (!unnamed) up.fd.close("closing " + up.what);
    const std::string aa = up.relative.substr(0, 2);
    const std::string target = root.root() + "/" + up.relative;
    root.ensure_dir(aa);
    const Published result = unnamed ? publish_unnamed(root, up, target, aa) : publish_named(root, up, target, aa);
    if (unnamed) {
      try {
        up.fd.close("closing " + up.what + " (linked to " + target + ")");
      } catch (...) {
        if (result == Published::kNew) ::unlink(target.c_str());
        throw;
      }
    }
    drop(up);  // a duplicate's own copy
    return result;
  } catch (...) {
    drop(up);
    throw;
  }
}

void drop(FinishedUpload& up) noexcept {
  up.fd = UniqueFd();  // an unnamed inode not linked anywhere is freed here
  if (!up.temp_path.empty()) ::unlink(up.temp_path.c_str());
  up.temp_path.clear();
}

}  // namespace blob_local
}  // namespace kestrel
