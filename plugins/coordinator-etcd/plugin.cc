// kestrel-coordinator-etcd.so: exports kestrel_plugin_negotiate, nothing else.
#include <kestrel/plugin.hpp>

#include "etcd_coordinator.h"

KESTREL_PLUGIN("coordinator-etcd", "0.1.0", "Leader lease and cluster state in etcd (v3 JSON gateway)",
               kestrel::coordinator_etcd::component_descriptor())
