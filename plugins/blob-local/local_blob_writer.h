// One upload into a blob-local root, hashed while it is written and moved to
// its content address on commit. Two ways, chosen by the store's start():
//  - tmpfile: an unnamed inode (open(<root>/.tmp, O_TMPFILE)) that the
//    kernel frees by itself if the process dies, linked into place with
//    linkat(2) on commit. No name, no lock on a shared folder while writing.
//  - named: <root>/.tmp/<pid>-<n>.part, renamed into place on commit; a crash
//    leaves it for the next start() to remove. For filesystems without
//    O_TMPFILE (some network ones, old kernels) and the option tmpfile: off.
#ifndef KESTREL_BLOB_LOCAL_LOCAL_BLOB_WRITER_H
#define KESTREL_BLOB_LOCAL_LOCAL_BLOB_WRITER_H

#include <Poco/Crypto/DigestEngine.h>

#include <cstdint>
#include <kestrel/plugin.hpp>
#include <memory>
#include <string>

#include "blob_publish.h"
#include "blob_root.h"
#include "posix_io.h"

namespace kestrel {
namespace blob_local {

// Used by one thread at a time. Unless commit() succeeds, the destructor
// drops the upload (closes the unnamed file, or removes the named one), so
// nothing is left behind but a crash's named temp file.
class LocalBlobWriter : public BlobWriter {
 public:
  // Opens the upload file in root->temp_dir(), which must exist. Throws
  // Error (posix_io.h) naming the folder or file on failure.
  explicit LocalBlobWriter(std::shared_ptr<BlobRoot> root);
  ~LocalBlobWriter() override;

  // Appends `length` bytes. After a failure (KESTREL_ERR_NO_SPACE on a full
  // disk, KESTREL_ERR_IO otherwise) the upload can only be aborted.
  void append(const void* data, size_t length) override;

  // Checks sha256 and extension, compares sha256 with the hash of the bytes
  // written (mismatch: KESTREL_ERR_INVALID), fsyncs the file (when sync),
  // gives it the name <root>/<aa>/<sha256>.<ext> (creating <aa> on first
  // use), fsyncs that folder (when sync) and returns "aa/<sha256>.<ext>".
  // A regular file already there with as many bytes is a complete copy (the
  // name is the content's hash): it is kept, ours dropped, and the commit
  // counted as deduplicated; one of another size (debris) is replaced
  // atomically. Two writers committing the same bytes at once both succeed.
  // On failure nothing of the upload is left (NO_SPACE or IO naming the path).
  std::string commit(const std::string& sha256, const std::string& extension) override;

  // Group commit (ABI 1.2): the same checks as commit(), then the upload
  // waits, open and without its name, in root->group until the store's next
  // blob_sync() names it and makes it durable (GroupCommit). Returns its
  // future path "aa/<sha256>.<ext>". Without the fsync option it is commit().
  std::string commit_deferred(const std::string& sha256, const std::string& extension) override;

  // Drops the upload. Idempotent.
  void abort() noexcept override;

  // The named temp file; empty for an unnamed (O_TMPFILE) upload or once ended.
  const std::string& temp_path() const { return temp_path_; }

 private:
  // Checks the hash and hands the file over: the upload has ended (counted
  // as no longer open) and `up` owns its file. Throws INVALID (the upload
  // still open: discard() it).
  FinishedUpload finish(const std::string& sha256, const std::string& extension);

  // Ends an unsuccessful upload: end_upload() and count it as aborted.
  void discard() noexcept;
  // Closes the file, removes the temp file (if still there), marks the upload ended.
  void end_upload() noexcept;

  const std::shared_ptr<BlobRoot> root_;
  const bool unnamed_;     // O_TMPFILE upload
  std::string temp_path_;  // named mode, until renamed or removed
  std::string what_;       // "upload file <path>" for error messages
  UniqueFd fd_;
  Poco::Crypto::DigestEngine sha256_;  // OpenSSL's EVP SHA-256: several times Poco's own
  uint64_t size_ = 0;                  // bytes appended
  bool failed_ = false;                // an append failed
  bool ended_ = false;                 // committed or discarded
};

}  // namespace blob_local
}  // namespace kestrel

#endif  // KESTREL_BLOB_LOCAL_LOCAL_BLOB_WRITER_H
