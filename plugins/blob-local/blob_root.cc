#include "blob_root.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <kestrel/plugin.hpp>

#include "blob_paths.h"
#include "posix_io.h"

namespace kestrel {
namespace blob_local {
namespace {

int hex_digit(char c) { return c <= '9' ? c - '0' : c - 'a' + 10; }

// 0..255 for a folder name of two lower-case hex digits.
size_t dir_index(const std::string& aa) {
  if (aa.size() != 2 || !std::isxdigit(static_cast<unsigned char>(aa[0])) ||
      !std::isxdigit(static_cast<unsigned char>(aa[1])))
    throw Error(KESTREL_ERR_INTERNAL, "blob folder name '" + aa + "' is not two hex digits");
  return static_cast<size_t>(hex_digit(aa[0]) * 16 + hex_digit(aa[1]));
}

}  // namespace

BlobRoot::BlobRoot(std::string root, bool sync, GroupCommit::Barrier barrier)
    : group(barrier), root_(std::move(root)), temp_dir_(root_ + "/" + kTempDir), sync_(sync) {}

void BlobRoot::ensure_dir(const std::string& aa) {
  std::atomic<bool>& known = dir_known_[dir_index(aa)];
  if (known.load(std::memory_order_acquire)) return;
  const std::string dir = root_ + "/" + aa;
  if (::mkdir(dir.c_str(), 0755) != 0) {
    if (errno != EEXIST) throw_errno(errno, "creating folder " + dir);
    struct stat st;
    if (::stat(dir.c_str(), &st) != 0) throw_errno(errno, "checking folder " + dir);
    if (!S_ISDIR(st.st_mode)) throw Error(KESTREL_ERR_IO, "blob folder " + dir + " exists and is not a folder");
  }
  // Also after EEXIST: the thread that made it may not have synced the root yet.
  if (sync_) fsync_dir(root_);
  known.store(true, std::memory_order_release);
}

void BlobRoot::forget_dir(const std::string& aa) { dir_known_[dir_index(aa)].store(false, std::memory_order_release); }

void BlobRoot::forget_all_dirs() {
  for (auto& known : dir_known_) known.store(false, std::memory_order_release);
}

std::string BlobRoot::next_temp_path() {
  const uint64_t n = next_temp_.fetch_add(1, std::memory_order_relaxed);
  return temp_dir_ + "/" + std::to_string(::getpid()) + "-" + std::to_string(n) + ".part";
}

}  // namespace blob_local
}  // namespace kestrel
