// LocalBlobStore: the blob-local component, image files addressed by their
// sha256 under one local folder (kestrel.blobstore.v1, plugin.h).
//
// Layout: <root>/<aa>/<sha256>.<ext> for stored files (aa: the hash's first
// byte, so at most 256 folders), <root>/.tmp/ for uploads in progress:
// unnamed O_TMPFILE inodes where the filesystem has them (a crash leaves
// nothing), else named temp files (local_blob_writer.h). A root belongs to one
// component: start() deletes whatever a crash left in .tmp/.
// Every blob call, health() and status_json() may run on any thread;
// start()/stop() on the control thread.
#ifndef KESTREL_BLOB_LOCAL_LOCAL_BLOB_STORE_H
#define KESTREL_BLOB_LOCAL_LOCAL_BLOB_STORE_H

#include <atomic>
#include <kestrel/plugin.hpp>
#include <memory>
#include <string>

#include "blob_root.h"
#include "local_blob_writer.h"

namespace kestrel {
namespace blob_local {

class LocalBlobStore : public Provides<BlobStoreProvider> {
 public:
  // Reads `root` (a relative one is resolved against the node's data dir),
  // `fsync` and `tmpfile` ("auto" or "off", else KESTREL_ERR_INVALID).
  // Touches no file.
  explicit LocalBlobStore(const CreateArgs& args);

  // Creates the root and .tmp/ if needed, removes stale temp files, and
  // (tmpfile: auto) probes .tmp/ for O_TMPFILE + linkat: uploads use unnamed
  // files if it works, named ones otherwise; the choice is logged.
  void start() override;
  // New uploads are refused from here on; open ones may still finish.
  void stop(uint32_t deadline_ms) override;
  // Throws KESTREL_ERR_IO unless the root is a writable folder.
  void health() override;
  // {"root", "fsync", "tmpfile": "auto"|"off", "batch_sync": "syncfs"|"fsync", "upload_mode":
  //  "tmpfile"|"named", "state", "stale_temp_removed", "uploads": {"open", "committed",
  //  "deduplicated", "waiting_for_sync", "aborted"}}
  std::string status_json() override;

  std::unique_ptr<BlobWriter> blob_begin() override;
  // `path` is relative to the root; one escaping it is refused (INVALID).
  bool blob_exists(const std::string& path) override;
  bool blob_remove(const std::string& path) override;
  std::string blob_root() override { return root_->root(); }
  // Group commit (ABI 1.2): names and makes durable every upload committed
  // with commit_deferred so far (GroupCommit::sync). Also after stop(), for
  // writers that outlived it.
  void blob_sync() override;

 private:
  void require_started() const;
  // Decides between unnamed and named uploads; logs the choice.
  void choose_upload_mode();

  const Host host_;
  const std::shared_ptr<BlobRoot> root_;  // shared with writers, which may outlive stop()
  const std::string batch_sync_;          // option batch_sync: syncfs | fsync
  const bool tmpfile_auto_;               // option tmpfile: auto (else off)
  std::atomic<bool> started_{false};
  std::atomic<uint64_t> stale_removed_{0};  // temp files removed by the last start()
};

}  // namespace blob_local
}  // namespace kestrel

#endif  // KESTREL_BLOB_LOCAL_LOCAL_BLOB_STORE_H
