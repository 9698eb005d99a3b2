#include "local_blob_writer.h"

#include <Poco/UUIDGenerator.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "blob_paths.h"

namespace kestrel {
namespace blob_local {

LocalBlobWriter::LocalBlobWriter(std::string root, bool sync, std::shared_ptr<BlobCounters> counters)
    : root_(std::move(root)), sync_(sync), counters_(std::move(counters)), sha256_("SHA256") {
  // A random name cannot collide in practice; O_EXCL makes sure it never
  // reuses someone else's file, and the loop survives the impossible.
  for (int attempt = 0; attempt < 8; ++attempt) {
    const std::string path =
        root_ + "/" + kTempDir + "/" + Poco::UUIDGenerator::defaultGenerator().createRandom().toString() + ".part";
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd >= 0) {
      fd_ = UniqueFd(fd);
      temp_path_ = path;
      ++counters_->open;
      return;
    }
    if (errno != EEXIST) throw_errno(errno, "creating upload file " + path);
  }
  throw Error(KESTREL_ERR_IO, "could not create a unique upload file under " + root_ + "/" + kTempDir);
}

LocalBlobWriter::~LocalBlobWriter() { discard(); }

void LocalBlobWriter::append(const void* data, size_t length) {
  if (ended_) throw Error(KESTREL_ERR_INVALID, "append to an upload that has already ended");
  if (failed_) throw Error(KESTREL_ERR_INVALID, "append after a failed append: abort this upload");
  try {
    write_all(fd_.get(), data, length, "writing upload file " + temp_path_);
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
    if (sync_) fsync_fd(fd_.get(), "fsync of upload file " + temp_path_);
    fd_.close("closing upload file " + temp_path_);

    const std::string relative = content_path(sha256, extension);
    const std::string dir_relative = relative.substr(0, 2);  // "aa"
    const std::string dir = root_ + "/" + dir_relative;
    const std::string target = root_ + "/" + relative;
    make_dirs(root_, dir_relative, sync_);

    // Same name means same bytes: keep a complete existing copy (its size
    // tells a complete one from debris) and drop ours.
    struct stat existing;
    if (::stat(target.c_str(), &existing) == 0 && S_ISREG(existing.st_mode) &&
        static_cast<uint64_t>(existing.st_size) == size_) {
      end_upload();
      ++counters_->deduplicated;
      return relative;
    }
    if (::rename(temp_path_.c_str(), target.c_str()) != 0)
      throw_errno(errno, "renaming " + temp_path_ + " to " + target);
    temp_path_.clear();  // renamed: nothing left to remove
    end_upload();
    ++counters_->committed;
    if (sync_) fsync_dir(dir);
    return relative;
  } catch (...) {
    discard();
    throw;
  }
}

void LocalBlobWriter::abort() noexcept { discard(); }

void LocalBlobWriter::discard() noexcept {
  if (ended_) return;
  end_upload();
  ++counters_->aborted;
}

void LocalBlobWriter::end_upload() noexcept {
  ended_ = true;
  fd_ = UniqueFd();
  if (!temp_path_.empty()) ::unlink(temp_path_.c_str());
  --counters_->open;
}

}  // namespace blob_local
}  // namespace kestrel
