// BlobRoot: what a blob-local store shares with its writers (which may
// outlive a stop()): the root's paths and options, the upload counters, the
// names of named temp files, and which of the 256 <aa> folders are known to
// exist. Every member may be used from any thread at once.
#ifndef KESTREL_BLOB_LOCAL_BLOB_ROOT_H
#define KESTREL_BLOB_LOCAL_BLOB_ROOT_H

#include <array>
#include <atomic>
#include <cstdint>
#include <string>

#include "group_commit.h"

namespace kestrel {
namespace blob_local {

struct BlobCounters {
  std::atomic<uint64_t> open{0};          // uploads begun and not yet ended
  std::atomic<uint64_t> committed{0};     // commits that stored a new file
  std::atomic<uint64_t> deduplicated{0};  // commits whose content was already stored
  std::atomic<uint64_t> aborted{0};       // uploads ended without a stored file
};

class BlobRoot {
 public:
  // `root`: absolute, no trailing slash. `sync`: the fsync option.
  // `barrier`: how the group commit makes a batch durable (option batch_sync).
  BlobRoot(std::string root, bool sync, GroupCommit::Barrier barrier = GroupCommit::Barrier::kSyncfs);
  BlobRoot(const BlobRoot&) = delete;
  BlobRoot& operator=(const BlobRoot&) = delete;

  const std::string& root() const { return root_; }
  const std::string& temp_dir() const { return temp_dir_; }  // <root>/.tmp
  bool sync() const { return sync_; }

  // True: uploads are unnamed O_TMPFILE inodes in temp_dir(), linked into
  // place on commit. False: named temp files in temp_dir(), renamed. Set by
  // the store's start() (its probe); a writer reads it once, when it begins.
  bool use_tmpfile() const { return use_tmpfile_.load(std::memory_order_acquire); }
  void set_use_tmpfile(bool on) { use_tmpfile_.store(on, std::memory_order_release); }

  // Makes sure <root>/<aa> exists. `aa` is two lower-case hex digits (a
  // checked sha256's first byte). The first call per folder runs mkdir
  // (EEXIST is fine) and, when sync, fsyncs the root so the folder's entry is
  // durable even if another thread created it; later calls cost nothing.
  // Throws Error (posix_io.h) naming the folder.
  void ensure_dir(const std::string& aa);
  // Forgets that <root>/<aa> exists (it vanished: someone removed it).
  void forget_dir(const std::string& aa);
  // Forgets every folder (start(): they may have been removed while stopped).
  void forget_all_dirs();

  // A fresh name "<temp_dir>/<pid>-<n>.part" (n counts up per BlobRoot). No
  // other call returns it, but a file of that name may exist (a crash of an
  // earlier process with the same pid): create it with O_EXCL or link(2)
  // and take the next name on EEXIST.
  std::string next_temp_path();
  // Names next_temp_path() callers take before giving up: only a folder full
  // of a crashed process's files with our pid could need more than one.
  static constexpr int kTempNameAttempts = 100;

  BlobCounters counters;
  GroupCommit group;  // uploads committed with commit_deferred, waiting for a sync

 private:
  const std::string root_;
  const std::string temp_dir_;
  const bool sync_;
  std::atomic<bool> use_tmpfile_{false};
  std::atomic<uint64_t> next_temp_{0};
  std::array<std::atomic<bool>, 256> dir_known_{};  // index: the folder's name as a number
};

}  // namespace blob_local
}  // namespace kestrel

#endif  // KESTREL_BLOB_LOCAL_BLOB_ROOT_H
