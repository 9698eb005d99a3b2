// Lowers this process's RLIMIT_FSIZE for the scope of one test, so that
// writes past `bytes` fail with EFBIG (SIGXFSZ ignored meanwhile): a real,
// unprivileged way to make the OS refuse a write. Restores both on
// destruction. Not thread-safe: the limit and the signal disposition are
// process-wide, so use it only while the test runs no other threads.
#ifndef KESTREL_TESTS_UNIT_STORE_FILE_SIZE_LIMIT_H
#define KESTREL_TESTS_UNIT_STORE_FILE_SIZE_LIMIT_H

#include <sys/resource.h>

#include <csignal>
#include <stdexcept>

namespace kestrel {
namespace store_test {

class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    if (::getrlimit(RLIMIT_FSIZE, &saved_) != 0) throw std::runtime_error("getrlimit(RLIMIT_FSIZE) failed");
    previous_handler_ = std::signal(SIGXFSZ, SIG_IGN);
    struct rlimit lowered = saved_;
    lowered.rlim_cur = bytes;
    if (::setrlimit(RLIMIT_FSIZE, &lowered) != 0) throw std::runtime_error("setrlimit(RLIMIT_FSIZE) failed");
  }
  ~FileSizeLimit() {
    ::setrlimit(RLIMIT_FSIZE, &saved_);
    std::signal(SIGXFSZ, previous_handler_);
  }
  FileSizeLimit(const FileSizeLimit&) = delete;
  FileSizeLimit& operator=(const FileSizeLimit&) = delete;

 private:
  struct rlimit saved_ {};
  void (*previous_handler_)(int) = SIG_DFL;
};

}  // namespace store_test
}  // namespace kestrel

#endif  // KESTREL_TESTS_UNIT_STORE_FILE_SIZE_LIMIT_H
