// The blob-local component type: its option schema and operations.
#ifndef KESTREL_BLOB_LOCAL_COMPONENT_H
#define KESTREL_BLOB_LOCAL_COMPONENT_H

#include <kestrel/plugin.h>

namespace kestrel {
namespace blob_local {

// The descriptor of component type "blob-local" (provides
// kestrel.blobstore.v1). Static data, valid for the process; any thread.
const kestrel_component_desc& component_descriptor();

}  // namespace blob_local
}  // namespace kestrel

#endif  // KESTREL_BLOB_LOCAL_COMPONENT_H
