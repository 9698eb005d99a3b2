// The ha-catalog's schema and its negotiate function: a plugin compiled into
// kestreld (PluginRegistry::load_builtin), built with the same SDK wrapper as
// every .so plugin, so the host checks its options like any other's.
#include <kestrel/plugin.hpp>

#include "ha/ha_catalog.h"

namespace kestrel::host::ha {
namespace {

// One node of the cluster. The list is written here once; the stores and the
// replicator read it too ("nodes: catalog"), each the keys it needs (the
// replicator also data_dir, bindir, fence).
const kestrel_option_desc kNodeFields[] = {
    option("name", KESTREL_OPT_STRING, nullptr, "node name, also its store's component id",
           KESTREL_OPTION_REQUIRED | KESTREL_OPTION_UNIQUE),
    option("priority", KESTREL_OPT_INT, "100", "failover priority, lower wins"),
    option("host", KESTREL_OPT_STRING, nullptr, "the server's host name or address"),
    option("port", KESTREL_OPT_INT, "5432", "the server's TCP port"),
    option("dbname", KESTREL_OPT_STRING, "kestrel", "the catalog database"),
    option("data_dir", KESTREL_OPT_PATH, nullptr,
           "a local server's data directory: its postmaster is watched as a process (postmaster.pid), so a "
           "crash is checked at once"),
    option("nofailover", KESTREL_OPT_BOOL, "false",
           "never promoted by a failover or switchover (Patroni's tag; required on a PostgreSQL standby of "
           "replicator-changelog)"),
    option("url", KESTREL_OPT_STRING, nullptr,
           "a node another kestreld holds: that daemon's HA API base URL (http://host:port); this daemon opens "
           "no store for it, and its replicator reaches it through POST /api/changes"),
};

const kestrel_option_desc kOptions[] = {
    map_list("nodes", kNodeFields,
             "the cluster's nodes (name, priority, host, port, dbname, data_dir, nofailover; bindir, fence for replicator-pg; "
             "path, an SQLite node's file, for store-sqlite and replicator-changelog; url, a node another "
             "kestreld holds)"),
    option("stores", KESTREL_OPT_REF_LIST, nullptr,
           "one catalog component per node, each component id being its node's name in the nodes list",
           KESTREL_OPTION_REQUIRED, KESTREL_IFACE_CATALOG_V1),
    option("replicator", KESTREL_OPT_REF, nullptr,
           "the replicator keeping the stores in step (unset: one node, nothing to fail over to)", 0,
           KESTREL_IFACE_REPLICATOR_V1),
    option("coordinator", KESTREL_OPT_REF, nullptr,
           "who may fail over: the daemon holding this coordinator's lease (unset: a local coordinator in this "
           "daemon's host-state.db, one daemon managing every node)", 0, KESTREL_IFACE_COORDINATOR_V1),
    option("health_check_interval", KESTREL_OPT_DURATION, "5s", "between health checks of a healthy cluster"),
    option("retry_interval", KESTREL_OPT_DURATION, "500ms", "between re-checks after a failed check"),
    option("failure_threshold", KESTREL_OPT_INT, "3", "consecutive failed checks that mark a node down"),
    option("health_check_timeout", KESTREL_OPT_DURATION, "2s",
           "per check; enforced by the replicator's connect_timeout, set it no higher"),
    option("auto_failover", KESTREL_OPT_BOOL, "true", "fail over when the primary is confirmed down"),
    option("auto_rejoin", KESTREL_OPT_BOOL, "true",
           "rejoin former primaries and the other standbys as standbys of the new primary"),
    option("maximum_lag_on_failover", KESTREL_OPT_SIZE, "1MiB",
           "async mode: a standby further behind (bytes) is not promoted automatically"),
    option("read_from_standby", KESTREL_OPT_BOOL, "false",
           "image reads and counts go to a healthy standby within max_read_lag"),
    option("max_read_lag", KESTREL_OPT_DURATION, "1s", "replay lag a standby may have to serve reads"),
    option("failover_timeout", KESTREL_OPT_DURATION, "30s",
           "writes wait at most this long during a failover (then a retryable error); bounds promote and "
           "the switchover's catch-up"),
};
const char* const kProvides[] = {KESTREL_IFACE_CATALOG_V1, kHaControlInterface};

}  // namespace

kestrel_result ha_catalog_negotiate(const kestrel_loader_info* loader, kestrel_plugin_info* out,
                                    kestrel_status* status) {
  static const kestrel_component_desc components[] = {
      describe<HaCatalog>("ha-catalog",
                          "the HA catalog: routes catalog calls to the primary of the current epoch, "
                          "watches the nodes, fails over, switches over, rejoins",
                          kProvides, kOptions)};
  return detail::negotiate(loader, out, status, "ha-catalog", KESTREL_VERSION,
                           "built into kestreld", components, 1);
}

}  // namespace kestrel::host::ha
