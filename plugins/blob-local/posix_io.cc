#include "posix_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <kestrel/plugin.hpp>
#include <system_error>

namespace kestrel {
namespace blob_local {

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

UniqueFd::~UniqueFd() {
  if (fd_ >= 0) ::close(fd_);
}

void UniqueFd::close(const std::string& what) {
  if (fd_ < 0) return;
  const int fd = fd_;
  fd_ = -1;
  // Linux always releases the descriptor, even on EINTR: never retry close.
  if (::close(fd) != 0 && errno != EINTR) throw_errno(errno, what);
}

void throw_errno(int err, const std::string& what) {
  // std::system_category().message is thread-safe, unlike strerror().
  const std::string message = what + ": " + std::system_category().message(err);
  if (err == ENOSPC || err == EDQUOT) throw Error(KESTREL_ERR_NO_SPACE, message);
  throw Error(KESTREL_ERR_IO, message);
}

void write_all(int fd, const void* data, size_t length, const std::string& what) {
  const char* p = static_cast<const char*>(data);
  while (length > 0) {
    const ssize_t n = ::write(fd, p, length);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno(errno, what);
    }
    if (n == 0) throw_errno(EIO, what);  // a zero-byte write of a non-empty buffer: give up, not spin
    p += n;
    length -= static_cast<size_t>(n);
  }
}

void fsync_fd(int fd, const std::string& what) {
  while (::fsync(fd) != 0) {
    if (errno != EINTR) throw_errno(errno, what);
  }
}

void fsync_dir(const std::string& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) throw_errno(errno, "opening folder " + dir + " to fsync it");
  fsync_fd(fd.get(), "fsync of folder " + dir);
  fd.close("closing folder " + dir);
}

void make_dirs(const std::string& base, const std::string& relative_dir, bool sync) {
  std::string parent = base;
  size_t start = 0;
  while (start < relative_dir.size()) {
    size_t slash = relative_dir.find('/', start);
    if (slash == std::string::npos) slash = relative_dir.size();
    const std::string dir = base + "/" + relative_dir.substr(0, slash);
    if (::mkdir(dir.c_str(), 0755) == 0) {
      if (sync) fsync_dir(parent);
    } else if (errno != EEXIST) {
      throw_errno(errno, "creating folder " + dir);
    }
    parent = dir;
    start = slash + 1;
  }
}

}  // namespace blob_local
}  // namespace kestrel
