// Small POSIX file helpers for blob-local: an owning descriptor, complete
// writes, fsync of files and folders. Every failure throws kestrel::Error
// naming the path and the OS reason: ENOSPC/EDQUOT -> KESTREL_ERR_NO_SPACE,
// anything else -> KESTREL_ERR_IO. Any thread.
#ifndef KESTREL_BLOB_LOCAL_POSIX_IO_H
#define KESTREL_BLOB_LOCAL_POSIX_IO_H

#include <cstddef>
#include <string>

namespace kestrel {
namespace blob_local {

// Owns one file descriptor; closes it on destruction (errors ignored there:
// call close() to see them).
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd();

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  // Closes now; throws Error naming `what` if close(2) reports a failure
  // (e.g. a delayed write error on NFS).
  void close(const std::string& what);

 private:
  int fd_ = -1;
};

// Throws the Error for errno value `err` while doing `what` ("writing /x").
[[noreturn]] void throw_errno(int err, const std::string& what);

// Writes all `length` bytes, retrying on EINTR and short writes.
void write_all(int fd, const void* data, size_t length, const std::string& what);

// fsync(2) of an open file.
void fsync_fd(int fd, const std::string& what);

// Opens folder `dir` and fsyncs it, making entries created or renamed in it durable.
void fsync_dir(const std::string& dir);

// Creates `base`/`relative_dir` one segment at a time (mode 0755); when
// `sync`, fsyncs the parent of every folder it created. `base` must exist.
void make_dirs(const std::string& base, const std::string& relative_dir, bool sync);

}  // namespace blob_local
}  // namespace kestrel

#endif  // KESTREL_BLOB_LOCAL_POSIX_IO_H
