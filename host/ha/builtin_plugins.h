// The plugins compiled into kestreld (the HA catalog and the local
// coordinator), registered with a PluginRegistry as if loaded from files.
// One list, used by kestreld, the benchmarks and the tests that build a
// runtime themselves.
#ifndef KESTREL_HOST_HA_BUILTIN_PLUGINS_H_
#define KESTREL_HOST_HA_BUILTIN_PLUGINS_H_

#include "ha/ha_catalog.h"
#include "ha/local_coordinator.h"
#include "loader/plugin_registry.h"

namespace kestrel::host::ha {

// Control thread, before any config graph is built on `registry`.
inline void load_builtin_plugins(PluginRegistry& registry) {
  registry.load_builtin("ha-catalog", &ha_catalog_negotiate);
  registry.load_builtin("coordinator-local", &coordinator_local_negotiate);
}

}  // namespace kestrel::host::ha

#endif  // KESTREL_HOST_HA_BUILTIN_PLUGINS_H_
