// Group commit (kestrel.blobstore.v1, ABI 1.2): uploads committed with
// commit_deferred wait here, still without their names, until sync() makes
// a whole batch durable with one flush of the disk instead of two per file.
//
// sync(): (1) a barrier that makes the batch's bytes durable, (2) every upload
// given its name, (3) a barrier that makes the names durable. Names appear
// only once the bytes are on stable storage, so after a crash or power loss a
// content address never holds other bytes than its hash says; an upload whose
// sync never came is an unnamed inode the kernel frees, or (named uploads) a
// temp file the next start() removes.
//
// The barrier is syncfs(2) of the root's filesystem ("syncfs": one flush
// whatever the batch size; it also writes back other programs' dirty data on
// that filesystem, so it suits a blob root with a filesystem of its own) or
// fsync(2) of each file and then of each folder ("fsync").
//
// Thread-safe: add() from any thread; sync() calls are serialized, and a
// sync returns only when every upload added before it began is durable.
#ifndef KESTREL_BLOB_LOCAL_GROUP_COMMIT_H
#define KESTREL_BLOB_LOCAL_GROUP_COMMIT_H

#include <cstddef>
#include <mutex>
#include <vector>

#include "blob_publish.h"

namespace kestrel {
namespace blob_local {

class BlobRoot;

class GroupCommit {
 public:
  enum class Barrier { kSyncfs, kFsync };
  explicit GroupCommit(Barrier barrier) : barrier_(barrier) {}
  GroupCommit(const GroupCommit&) = delete;
  GroupCommit& operator=(const GroupCommit&) = delete;

  // Queues a finished (verified, still open) upload for the next sync.
  void add(FinishedUpload up);
  // Uploads waiting for a sync.
  size_t pending() const;

  // Makes every upload added before the call durable at its name, counting
  // each as committed or deduplicated in root.counters. On failure the
  // uploads it took are dropped (not stored: upload them again), counted as
  // aborted, and Error (posix_io.h) is thrown naming the path.
  void sync(BlobRoot& root);

  // Drops every waiting upload (counted as aborted). Never throws.
  void clear(BlobRoot& root) noexcept;

 private:
  void barrier(const BlobRoot& root, std::vector<FinishedUpload>& batch, bool names);

  const Barrier barrier_;
  mutable std::mutex mu_;        // guards pending_
  std::vector<FinishedUpload> pending_;
  std::mutex sync_mu_;           // one sync at a time
};

}  // namespace blob_local
}  // namespace kestrel

#endif  // KESTREL_BLOB_LOCAL_GROUP_COMMIT_H
