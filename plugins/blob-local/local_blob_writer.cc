#include "local_blob_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "blob_paths.h"

namespace kestrel {
namespace blob_local {
namespace {

// Uploads waiting for a group-commit sync before commit_deferred syncs them
// itself (bounds the open descriptors of a caller that never syncs).
constexpr size_t kMaxDeferred = 1024;

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
      } else if (errno != EEXIST || attempt + 1 >= BlobRoot::kTempNameAttempts) {
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

FinishedUpload LocalBlobWriter::finish(const std::string& sha256, const std::string& extension) {
  if (ended_) throw Error(KESTREL_ERR_INVALID, "commit of an upload that has already ended");
  if (failed_) throw Error(KESTREL_ERR_INVALID, "commit after a failed append: the bytes are incomplete");
  check_sha256(sha256);
  check_extension(extension);
  const std::string actual = Poco::DigestEngine::digestToHex(sha256_.digest());
  if (actual != sha256)
    throw Error(KESTREL_ERR_INVALID, "content hash mismatch: the caller says sha256 " + sha256 + ", the " +
                                         std::to_string(size_) + " bytes written hash to " + actual);
  FinishedUpload up;
  up.fd = std::move(fd_);
  up.temp_path = std::move(temp_path_);
  temp_path_.clear();
  up.what = what_;
  up.size = size_;
  up.relative = content_path(sha256, extension);
  end_upload();  // the upload's file now belongs to `up`
  return up;
}

std::string LocalBlobWriter::commit(const std::string& sha256, const std::string& extension) {
  FinishedUpload up;
  try {
    up = finish(sha256, extension);
  } catch (...) {
    discard();
    throw;
  }
  try {
    if (root_->sync()) fsync_fd(up.fd.get(), "fsync of " + up.what);
    const Published result = publish(*root_, up);
    ++(result == Published::kNew ? root_->counters.committed : root_->counters.deduplicated);
    // Also for a duplicate: another writer may have linked it a moment ago
    // and not yet made its entry durable.
    if (root_->sync()) fsync_dir(root_->root() + "/" + up.relative.substr(0, 2));
    return up.relative;
  } catch (...) {
    drop(up);
    ++root_->counters.aborted;
    throw;
  }
}

std::string LocalBlobWriter::commit_deferred(const std::string& sha256, const std::string& extension) {
  if (!root_->sync()) return commit(sha256, extension);  // nothing to defer without fsync
  FinishedUpload up;
  try {
    up = finish(sha256, extension);
  } catch (...) {
    discard();
    throw;
  }
  const std::string relative = up.relative;
  // Bounded even for a caller that never syncs: past kMaxDeferred waiting
  // uploads the writer syncs them itself.
  if (root_->group.pending() >= kMaxDeferred) root_->group.sync(*root_);
  root_->group.add(std::move(up));
  return relative;
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
