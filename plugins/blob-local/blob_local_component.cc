// Option table of blob-local; it doubles as the documentation of the options.
#include "blob_local_component.h"

#include <kestrel/plugin.hpp>

#include "local_blob_store.h"

namespace kestrel {
namespace blob_local {
namespace {

const kestrel_option_desc kOptions[] = {
    option("root", KESTREL_OPT_PATH, "images",
           "folder holding the files as <aa>/<sha256>.<ext> (aa: the hash's first byte, at most 256 "
           "folders); relative to the node's data dir"),
    option("fsync", KESTREL_OPT_BOOL, "true",
           "make each stored file survive power loss: fsync of the file and its folder before a commit returns, "
           "or for a group commit (the crawler's) one barrier per batch, see batch_sync"),
    option("batch_sync", KESTREL_OPT_STRING, "syncfs",
           "how a group commit makes a batch durable: syncfs (one flush of the root's filesystem per batch; "
           "it also writes back other programs' data there, so best when the root has a filesystem of its own) "
           "or fsync (each file, then each folder)"),
    option("tmpfile", KESTREL_OPT_STRING, "auto",
           "auto: each upload is an unnamed O_TMPFILE file in <root>/.tmp, linked to its name on commit, so a "
           "crash leaves nothing behind; used when start() finds the filesystem supports it, else as off (the "
           "choice is logged). off: named temp files <root>/.tmp/<pid>-<n>.part, renamed on commit; a crash "
           "leaves them for the next start to remove"),
};

}  // namespace

const kestrel_component_desc& component_descriptor() {
  static const kestrel_component_desc desc =
      describe<LocalBlobStore>("blob-local", "Content-addressed image files in a local folder", kOptions);
  return desc;
}

}  // namespace blob_local
}  // namespace kestrel
