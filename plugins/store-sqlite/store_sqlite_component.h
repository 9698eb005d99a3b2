// The store-sqlite component type: its option schema and operations.
#ifndef KESTREL_STORE_SQLITE_COMPONENT_H
#define KESTREL_STORE_SQLITE_COMPONENT_H

#include <kestrel/plugin.h>

namespace kestrel {
namespace store_sqlite {

// The descriptor of component type "store-sqlite" (provides
// kestrel.catalog.v1). Static data, valid for the process; any thread.
const kestrel_component_desc& component_descriptor();

}  // namespace store_sqlite
}  // namespace kestrel

#endif  // KESTREL_STORE_SQLITE_COMPONENT_H
