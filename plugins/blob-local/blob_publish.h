// Giving a finished upload its content address: the step commit() and the
// group commit's sync() share.
#ifndef KESTREL_BLOB_LOCAL_BLOB_PUBLISH_H
#define KESTREL_BLOB_LOCAL_BLOB_PUBLISH_H

#include <cstdint>
#include <string>

#include "posix_io.h"

namespace kestrel {
namespace blob_local {

class BlobRoot;

// An upload whose bytes are all written and whose hash is verified, not yet
// at its name. Movable, not copyable.
struct FinishedUpload {
  UniqueFd fd;            // the open file (an unnamed one must stay open until linked)
  std::string temp_path;  // a named upload's temp file; "" for an unnamed one
  std::string what;       // "upload file <path>", for messages
  uint64_t size = 0;      // bytes
  std::string relative;   // "aa/<sha256>.<ext>"
};

enum class Published { kNew, kDuplicate };

// Gives `up` its name <root>/<relative> (linkat of the unnamed inode, or
// rename of the named file; creating <aa> on first use), then closes it. A
// regular file already there with as many bytes is a complete copy (the name
// is the content's hash): it is kept and ours dropped (kDuplicate); one of
// another size (debris) is replaced atomically. Makes nothing durable: the
// caller fsyncs. On failure nothing of `up` is left; throws Error
// (posix_io.h) naming the path. Any thread; concurrent calls for the same
// content both succeed.
Published publish(BlobRoot& root, FinishedUpload& up);

// Closes `up` and removes its temp file, if any. Never throws.
void drop(FinishedUpload& up) noexcept;

}  // namespace blob_local
}  // namespace kestrel

#endif  // KESTREL_BLOB_LOCAL_BLOB_PUBLISH_H
