#include "group_commit.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <set>
#include <string>

#include "blob_root.h"

namespace kestrel {
namespace blob_local {

void GroupCommit::add(FinishedUpload up) {
  std::lock_guard<std::mutex> lock(mu_);
  pending_.push_back(std::move(up));
}

size_t GroupCommit::pending() const {
  std::lock_guard<std::mutex> lock(mu_);
  return pending_.size();
}

void GroupCommit::clear(BlobRoot& root) noexcept {
  std::vector<FinishedUpload> dropped;
  {
    std::lock_guard<std::mutex> lock(mu_);
    dropped.swap(pending_);
  }
  for (auto& up : dropped) drop(up);
  root.counters.aborted += dropped.size();
}

void GroupCommit::barrier(const BlobRoot& root, std::vector<FinishedUpload>& batch, bool names) {
  if (barrier_ == Barrier::kSyncfs) {
    UniqueFd fd(::open(root.root().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd.valid()) throw_errno(errno, "opening " + root.root() + " to sync its filesystem");
    // Since Linux 5.8 syncfs also reports a writeback error of any file on
    // the filesystem since the descriptor was opened.
    if (::syncfs(fd.get()) != 0) throw_errno(errno, "syncfs of the filesystem holding " + root.root());
    return;
  }
  if (!names) {
    for (auto& up : batch) fsync_fd(up.fd.get(), "fsync of " + up.what);
    return;
  }
  std::set<std::string> folders;
  for (auto& up : batch) folders.insert(up.relative.substr(0, 2));
  for (const auto& aa : folders) fsync_dir(root.root() + "/" + aa);
}

void GroupCommit::sync(BlobRoot& root) {
  std::lock_guard<std::mutex> one_at_a_time(sync_mu_);
  std::vector<FinishedUpload> batch;
  {
    std::lock_guard<std::mutex> lock(mu_);
    batch.swap(pending_);
  }
  if (batch.empty()) return;
  size_t published = 0;
  try {
    barrier(root, batch, false);  // the bytes, before any name points at them
    std::vector<Published> results;
    results.reserve(batch.size());
    for (auto& up : batch) {
      results.push_back(publish(root, up));
      ++published;
    }
    barrier(root, batch, true);  // the names
    for (Published r : results) ++(r == Published::kNew ? root.counters.committed : root.counters.deduplicated);
  } catch (...) {
    // Named ones stay, harmless (each holds its hash's bytes); the caller
    // stores them again and finds them as duplicates.
    for (size_t i = published; i < batch.size(); ++i) drop(batch[i]);
    root.counters.aborted += batch.size();
    throw;
  }
}

}  // namespace blob_local
}  // namespace kestrel
