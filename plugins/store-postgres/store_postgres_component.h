// The store-postgres component type: its option schema and operations.
#ifndef KESTREL_STORE_POSTGRES_COMPONENT_H
#define KESTREL_STORE_POSTGRES_COMPONENT_H

#include <kestrel/plugin.h>

namespace kestrel {
namespace store_postgres {

// The descriptor of component type "store-postgres" (provides
// kestrel.catalog.v1). Static data, valid for the process; any thread.
const kestrel_component_desc& component_descriptor();

}  // namespace store_postgres
}  // namespace kestrel

#endif  // KESTREL_STORE_POSTGRES_COMPONENT_H
