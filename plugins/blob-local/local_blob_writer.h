// One upload into a blob-local root: a temporary file under <root>/.tmp/,
// hashed while it is written, renamed to its content address on commit.
#ifndef KESTREL_BLOB_LOCAL_LOCAL_BLOB_WRITER_H
#define KESTREL_BLOB_LOCAL_LOCAL_BLOB_WRITER_H

#include <Poco/Crypto/DigestEngine.h>

#include <atomic>
#include <cstdint>
#include <kestrel/plugin.hpp>
#include <memory>
#include <string>

#include "posix_io.h"

namespace kestrel {
namespace blob_local {

// Counters a store shares with its writers (writers may outlive a stop()).
struct BlobCounters {
  std::atomic<uint64_t> open{0};          // uploads begun and not yet ended
  std::atomic<uint64_t> committed{0};     // commits that stored a new file
  std::atomic<uint64_t> deduplicated{0};  // commits whose content was already stored
  std::atomic<uint64_t> aborted{0};       // uploads ended without a stored file
};

// Used by one thread at a time. Unless commit() succeeds, the destructor
// removes the temporary file, so no path leaves a temp behind but a crash
// (which the next start() cleans).
class LocalBlobWriter : public BlobWriter {
 public:
  // Creates <root>/.tmp/<random>.part with O_CREAT|O_EXCL. `root` is
  // absolute and holds .tmp/. Throws Error (posix_io.h) on failure.
  LocalBlobWriter(std::string root, bool sync, std::shared_ptr<BlobCounters> counters);
  ~LocalBlobWriter() override;

  // Appends `length` bytes. After a failure (KESTREL_ERR_NO_SPACE on a full
  // disk, KESTREL_ERR_IO otherwise) the upload can only be aborted.
  void append(const void* data, size_t length) override;

  // Checks sha256 and extension, compares sha256 with the hash of the bytes
  // written (mismatch: KESTREL_ERR_INVALID), fsyncs the file (when sync),
  // moves it to <root>/<aa>/<sha256>.<ext> (creating and fsyncing the
  // folder) unless an identical file is already there, fsyncs the folder,
  // and returns "aa/<sha256>.<ext>". On failure the temp file is removed.
  std::string commit(const std::string& sha256, const std::string& extension) override;

  // Removes the temp file. Idempotent.
  void abort() noexcept override;

  const std::string& temp_path() const { return temp_path_; }

 private:
  // Ends an unsuccessful upload: end_upload() and count it as aborted.
  void discard() noexcept;
  // Closes the file, removes the temp file (if still there), marks the upload ended.
  void end_upload() noexcept;

  const std::string root_;
  const bool sync_;
  std::shared_ptr<BlobCounters> counters_;
  std::string temp_path_;
  UniqueFd fd_;
  Poco::Crypto::DigestEngine sha256_;  // OpenSSL's EVP SHA-256: several times Poco's own
  uint64_t size_ = 0;    // bytes appended
  bool failed_ = false;  // an append failed
  bool ended_ = false;   // committed or discarded
};

}  // namespace blob_local
}  // namespace kestrel

#endif  // KESTREL_BLOB_LOCAL_LOCAL_BLOB_WRITER_H
