// LocalBlobStore: the blob-local component, image files addressed by their
// sha256 under one local folder (kestrel.blobstore.v1, plugin.h).
//
// Layout: <root>/<aa>/<sha256>.<ext> for stored files (aa: the hash's first
// byte, so at most 256 folders), <root>/.tmp/ for uploads in progress. A root
// belongs to one component: start() deletes whatever a crash left in .tmp/.
// Every blob call, health() and status_json() may run on any thread;
// start()/stop() on the control thread.
#ifndef KESTREL_BLOB_LOCAL_LOCAL_BLOB_STORE_H
#define KESTREL_BLOB_LOCAL_LOCAL_BLOB_STORE_H

#include <atomic>
#include <kestrel/plugin.hpp>
#include <memory>
#include <string>

#include "local_blob_writer.h"

namespace kestrel {
namespace blob_local {

class LocalBlobStore : public Component, public BlobStoreProvider {
 public:
  // Reads `root` (a relative one is resolved against the node's data dir)
  // and `fsync`. Touches no file.
  explicit LocalBlobStore(const CreateArgs& args);

  // Creates the root and .tmp/ if needed and removes stale temp files.
  void start() override;
  // New uploads are refused from here on; open ones may still finish.
  void stop(uint32_t deadline_ms) override;
  // Throws KESTREL_ERR_IO unless the root is a writable folder.
  void health() override;
  // {"root", "fsync", "stale_temp_removed", "uploads": {"open", "committed", ...}}
  std::string status_json() override;

  std::unique_ptr<BlobWriter> blob_begin() override;
  // `path` is relative to the root; one escaping it is refused (INVALID).
  bool blob_exists(const std::string& path) override;
  bool blob_remove(const std::string& path) override;
  std::string blob_root() override { return root_; }

 private:
  void require_started() const;

  const Host host_;
  const std::string root_;  // absolute, no trailing slash
  const bool sync_;
  std::atomic<bool> started_{false};
  std::atomic<uint64_t> stale_removed_{0};  // temp files removed by the last start()
  std::shared_ptr<BlobCounters> counters_ = std::make_shared<BlobCounters>();
};

}  // namespace blob_local
}  // namespace kestrel

#endif  // KESTREL_BLOB_LOCAL_LOCAL_BLOB_STORE_H
