#include "local_blob_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "blob_paths.h"

namespace kestrel {
namespace blob_local {
namespace {

// Names taken before giving up on finding a free temp name; only a folder
// full of a crashed process's files with our pid could use more than one.
constexpr int kTempNameAttempts = 100;

}  // namespace

LocalBlobWriter::LocalBlobWriter(std::shared_ptr<BlobRoot> root)
    : root_(std::move(root)), unnamed_(root_->use_tmpfile()), sha256_("SHA256") {
  if (unnamed_) {
    // The inode lives in .tmp's filesystem (so linkat can reach <aa>/) and
    // has no name: no random, no entry in a folder every writer shares.
    what_ = "unnamed upload file in " + root_->temp_dir() + "/";
    const int fd = ::open(root_->temp_dir().c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
    if (fd < 0) throw_errno(errno, "creating " + what_);
    fd_ = UniqueFd(fd);
  } else {
    for (int attempt = 0; !fd_.valid(); ++attempt) {
      const std::string path = root_->next_temp_path();
      const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
      if (fd >= 0) {
        fd_ = UniqueFd(fd);
        temp_path_ = path;
        what_ = "upload file " + path;
      } else if (errno != EEXIST || attempt + 1 >= kTempNameAttempts) {
        throw_errno(errno, "creating upload file " + path);
      }
    }
  }
  ++root_->counters.open;
}

LocalBlobWriter::~LocalBlobWriter() { discard(); }

void LocalBlobWriter::append(const void* data, size_t length) {
  if (ended_) throw Error(KESTREL_ERR_INVALID, "append to an upload that has already ended");
  if (failed_) throw Error(KESTREL_ERR_INVALID, "append after a failed append: abort this upload");
  try {
    write_all(fd_.get(), data, length, "writing " + what_);
  } catch (...) {
    failed_ = true;
    throw;
  }
  sha256_.update(data, length);
  size_ += length;
}

std::string LocalBlobWriter::commit(const std::string& sha256, const std::string& extension) {
  if (ended_) throw Error(KESTREL_ERR_INVALID, "commit of an upload that has already ended");
  try {
    if (failed_) throw Error(KESTREL_ERR_INVALID, "commit after a failed append: the bytes are incomplete");
    check_sha256(sha256);
    check_extension(extension);
    const std::string actual = Poco::DigestEngine::digestToHex(sha256_.digest());
    if (actual != sha256)
      throw Error(KESTREL_ERR_INVALID, "content hash mismatch: the caller says sha256 " + sha256 + ", the " +
                                           std::to_string(size_) + " bytes written hash to " + actual);
    if (root_->sync()) fsync_fd(fd_.get(), "fsync of " + what_);
    // A named file is closed before it gets its final name, so that a delayed
    // write error (NFS reports them at close) keeps it out. An unnamed one
    // must stay open to be linked: should its close fail, the name goes
    // again (else a retry would take the same-sized file for a complete copy).
    if (!unnamed_) fd_.close("closing " + what_);

    const std::string relative = content_path(sha256, extension);
    const std::string aa = relative.substr(0, 2);
    const std::string target = root_->root() + "/" + relative;
    root_->ensure_dir(aa);
    const Published result = unnamed_ ? publish_unnamed(target, aa) : publish_named(target, aa);
    if (unnamed_) {
      try {
        fd_.close("closing " + what_ + " (linked to " + target + ")");
      } catch (...) {
        if (result == Published::kNew) ::unlink(target.c_str());
        throw;
      }
    }
    end_upload();
    ++(result == Published::kNew ? root_->counters.committed : root_->counters.deduplicated);
    // Also for a duplicate: another writer may have linked it a moment ago
    // and not yet made its entry durable.
    if (root_->sync()) fsync_dir(root_->root() + "/" + aa);
    return relative;
  } catch (...) {
    discard();
    throw;
  }
}

LocalBlobWriter::Published LocalBlobWriter::publish_unnamed(const std::string& target, const std::string& aa) {
  // linkat through /proc follows the magic link to the open inode and needs
  // no CAP_DAC_READ_SEARCH (AT_EMPTY_PATH does). The store's probe checked it.
  char proc_path[48];
  std::snprintf(proc_path, sizeof proc_path, "/proc/self/fd/%d", fd_.get());
  for (int attempt = 0;; ++attempt) {
    if (::linkat(AT_FDCWD, proc_path, AT_FDCWD, target.c_str(), AT_SYMLINK_FOLLOW) == 0) return Published::kNew;
    const int err = errno;
    if (err == ENOENT && attempt == 0) {
      // The folder was removed behind our back since we knew it: make it again.
      root_->forget_dir(aa);
      root_->ensure_dir(aa);
      continue;
    }
    if (err != EEXIST) throw_errno(err, "linking " + what_ + " to " + target);
    if (complete_copy_at(target)) return Published::kDuplicate;
    // Debris of another size: link ours under a temp name (in .tmp/, which
    // start() cleans should we crash right here), then rename it over.
    std::string temp;
    for (int tries = 0;; ++tries) {
      temp = root_->next_temp_path();
      if (::linkat(AT_FDCWD, proc_path, AT_FDCWD, temp.c_str(), AT_SYMLINK_FOLLOW) == 0) break;
      if (errno != EEXIST || tries + 1 >= kTempNameAttempts) throw_errno(errno, "linking " + what_ + " to " + temp);
    }
    if (::rename(temp.c_str(), target.c_str()) != 0) {
      const int rename_err = errno;
      ::unlink(temp.c_str());
      throw_errno(rename_err, "renaming " + temp + " to " + target);
    }
    return Published::kNew;
  }
}

LocalBlobWriter::Published LocalBlobWriter::publish_named(const std::string& target, const std::string& aa) {
  if (complete_copy_at(target)) return Published::kDuplicate;  // end_upload() removes ours
  for (int attempt = 0;; ++attempt) {
    if (::rename(temp_path_.c_str(), target.c_str()) == 0) {
      temp_path_.clear();  // renamed: nothing left to remove
      return Published::kNew;
    }
    const int err = errno;
    if (err == ENOENT && attempt == 0) {  // the folder vanished, see publish_unnamed
      root_->forget_dir(aa);
      root_->ensure_dir(aa);
      continue;
    }
    throw_errno(err, "renaming " + temp_path_ + " to " + target);
  }
}

bool LocalBlobWriter::complete_copy_at(const std::string& target) const {
  struct stat existing;
  return ::stat(target.c_str(), &existing) == 0 && S_ISREG(existing.st_mode) &&
         static_cast<uint64_t>(existing.st_size) == size_;
}

void LocalBlobWriter::abort() noexcept { discard(); }

void LocalBlobWriter::discard() noexcept {
  if (ended_) return;
  end_upload();
  ++root_->counters.aborted;
}

void LocalBlobWriter::end_upload() noexcept {
  ended_ = true;
  fd_ = UniqueFd();  // an unnamed inode not linked anywhere is freed here
  if (!temp_path_.empty()) ::unlink(temp_path_.c_str());
  temp_path_.clear();
  --root_->counters.open;
}

}  // namespace blob_local
}  // namespace kestrel
