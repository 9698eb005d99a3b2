#include "body.h"

#include <kestrel/plugin.hpp>

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

namespace kestrel::crawler {
namespace {

constexpr size_t kChunk = 256 * 1024;

[[noreturn]] void throw_errno(int err, const std::string& what) {
  const kestrel_result code = (err == ENOSPC || err == EDQUOT) ? KESTREL_ERR_NO_SPACE : KESTREL_ERR_IO;
  throw Error(code, what + ": " + std::strerror(err));
}

// An unnamed file in `dir`: O_TMPFILE where the filesystem has it, else a
// mkstemp name removed at once (the open descriptor keeps the inode).
int open_anonymous(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0) return fd;
  if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL && errno != ENOENT)
    throw_errno(errno, "creating a spill file for a large body in " + dir);
  std::string name = dir + "/.kestrel-body-XXXXXX";
  fd = ::mkostemp(name.data(), O_CLOEXEC);
  if (fd < 0) throw_errno(errno, "creating a spill file for a large body in " + dir);
  ::unlink(name.c_str());
  return fd;
}

void write_all(int fd, const char* data, size_t n, const std::string& dir) {
  while (n > 0) {
    const ssize_t w = ::write(fd, data, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      throw_errno(errno, "writing a large body to a spill file in " + dir);
    }
    data += w;
    n -= static_cast<size_t>(w);
  }
}

}  // namespace

Body::Body(std::string spill_dir, uint64_t spill_at) : spill_dir_(std::move(spill_dir)), spill_at_(spill_at) {}

Body::Body(Body&& o) noexcept
    : spill_dir_(std::move(o.spill_dir_)),
      spill_at_(o.spill_at_),
      memory_(std::move(o.memory_)),
      fd_(std::exchange(o.fd_, -1)),
      size_(std::exchange(o.size_, 0)) {}

Body& Body::operator=(Body&& o) noexcept {
  if (this != &o) {
    clear();
    spill_dir_ = std::move(o.spill_dir_);
    spill_at_ = o.spill_at_;
    memory_ = std::move(o.memory_);
    fd_ = std::exchange(o.fd_, -1);
    size_ = std::exchange(o.size_, 0);
  }
  return *this;
}

Body::~Body() { clear(); }

void Body::clear() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  std::string().swap(memory_);
  size_ = 0;
}

void Body::spill() {
  fd_ = open_anonymous(spill_dir_);
  write_all(fd_, memory_.data(), memory_.size(), spill_dir_);
  std::string().swap(memory_);
}

void Body::append(const char* data, size_t n) {
  if (n == 0) return;
  if (fd_ < 0 && spill_at_ > 0 && size_ + n > spill_at_) spill();
  if (fd_ >= 0) {
    write_all(fd_, data, n, spill_dir_);
  } else {
    memory_.append(data, n);
  }
  size_ += n;
}

std::string Body::head(size_t n) const {
  n = static_cast<size_t>(std::min<uint64_t>(n, size_));
  if (fd_ < 0) return memory_.substr(0, n);
  std::string out(n, '\0');
  size_t got = 0;
  while (got < n) {
    const ssize_t r = ::pread(fd_, out.data() + got, n - got, static_cast<off_t>(got));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) throw Error(KESTREL_ERR_IO, "reading a spilled body: " + std::string(r < 0 ? std::strerror(errno) : "short file"));
    got += static_cast<size_t>(r);
  }
  return out;
}

void Body::for_each_chunk(const std::function<void(const char*, size_t)>& fn) const {
  if (fd_ < 0) {
    for (size_t off = 0; off < memory_.size(); off += kChunk)
      fn(memory_.data() + off, std::min(kChunk, memory_.size() - off));
    return;
  }
  std::string buf(kChunk, '\0');
  uint64_t off = 0;
  while (off < size_) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(kChunk, size_ - off));
    const ssize_t r = ::pread(fd_, buf.data(), want, static_cast<off_t>(off));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) throw Error(KESTREL_ERR_IO, "reading a spilled body: " + std::string(r < 0 ? std::strerror(errno) : "short file"));
    fn(buf.data(), static_cast<size_t>(r));
    off += static_cast<uint64_t>(r);
  }
}

Body::View::View(View&& o) noexcept
    : bytes_(std::exchange(o.bytes_, std::string_view())),
      map_(std::exchange(o.map_, nullptr)),
      map_length_(std::exchange(o.map_length_, 0)) {}

Body::View& Body::View::operator=(View&& o) noexcept {
  if (this != &o) {
    if (map_) ::munmap(map_, map_length_);
    bytes_ = std::exchange(o.bytes_, std::string_view());
    map_ = std::exchange(o.map_, nullptr);
    map_length_ = std::exchange(o.map_length_, 0);
  }
  return *this;
}

Body::View::~View() {
  if (map_) ::munmap(map_, map_length_);
}

Body::View Body::view() const {
  View v;
  if (fd_ < 0 || size_ == 0) {
    v.bytes_ = memory_;
    return v;
  }
  void* p = ::mmap(nullptr, static_cast<size_t>(size_), PROT_READ, MAP_PRIVATE, fd_, 0);
  if (p == MAP_FAILED) throw Error(KESTREL_ERR_IO, "mapping a spilled body: " + std::string(std::strerror(errno)));
  v.map_ = p;
  v.map_length_ = static_cast<size_t>(size_);
  v.bytes_ = std::string_view(static_cast<const char*>(p), v.map_length_);
  return v;
}

std::string Body::str() const {
  if (fd_ < 0) return memory_;
  return head(static_cast<size_t>(size_));
}

}  // namespace kestrel::crawler
