// kestrel-replicator-changelog.so: the option schema (the documentation) and
// the exported negotiate symbol.
#include <kestrel/plugin.hpp>

#include "changelog_replicator.h"

namespace {

using kestrel::option;

// One node of the `nodes` list (shared with the ha-catalog and the stores:
// "nodes: catalog").
const kestrel_option_desc kNodeFields[] = {
    option("name", KESTREL_OPT_STRING, nullptr, "node name, also its store's component id",
           KESTREL_OPTION_REQUIRED | KESTREL_OPTION_UNIQUE),
    option("priority", KESTREL_OPT_INT, "100", "failover priority, lower wins"),
    option("path", KESTREL_OPT_PATH, nullptr, "the node's SQLite catalog file (on this machine)"),
    option("url", KESTREL_OPT_STRING, nullptr,
           "else: the HA API (http://host:port) of the kestreld holding the node, reached through POST "
           "/api/changes/{method}"),
    option("host", KESTREL_OPT_STRING, nullptr,
           "else: a PostgreSQL standby's server (host name or address); its credentials are the conninfo option"),
    option("port", KESTREL_OPT_INT, "5432", "a PostgreSQL node's TCP port"),
    option("dbname", KESTREL_OPT_STRING, "kestrel", "a PostgreSQL node's database"),
    option("nofailover", KESTREL_OPT_BOOL, "false",
           "never promoted (required on a PostgreSQL node: it keeps no change log of its own)"),
};

const kestrel_option_desc kOptions[] = {
    kestrel::map_list("nodes", kNodeFields,
                      "the nodes, the first one the primary of a new cluster; or the id of the component holding "
                      "the list (nodes: catalog)",
                      KESTREL_OPTION_REQUIRED),
    option("mode", KESTREL_OPT_STRING, "async",
           "async (a write is acknowledged at the primary's commit), semi-sync (once one standby applied it) or "
           "sync (once every standby did)"),
    option("sync_timeout", KESTREL_OPT_DURATION, "5s",
           "semi-sync and sync: how long a write waits for the standbys, then a retryable error"),
    option("sync_fallback", KESTREL_OPT_STRING, "none",
           "none: a write the standbys did not apply in sync_timeout fails (retryable); async: it is acknowledged "
           "anyway and the status says the mode fell back"),
    option("bootstrap", KESTREL_OPT_STRING, "auto",
           "auto: a new standby file (and one the primary's log no longer covers) is copied from the primary; "
           "manual: reported, never copied"),
    option("batch_size", KESTREL_OPT_INT, "500", "change-log entries shipped per standby transaction (whole writes)"),
    option("ship_interval", KESTREL_OPT_DURATION, "100ms",
           "how often an idle shipper looks for new changes (a waiting sync write wakes it at once)"),
    option("max_log_entries", KESTREL_OPT_INT, "1000000",
           "entries kept for the slowest standby; one further behind is rebuilt instead (the log never grows "
           "without bound)"),
    option("busy_timeout", KESTREL_OPT_DURATION, "5s", "SQLite busy_timeout on the replicator's connections"),
    option("range_size", KESTREL_OPT_INT, "1000", "rows per checksummed id range in the consistency check"),
    option("peer_token", KESTREL_OPT_STRING, nullptr,
           "the bearer token of the other daemons' HA APIs (their admin.token), for nodes with a url",
           KESTREL_OPTION_SECRET),
    option("peer_timeout", KESTREL_OPT_DURATION, "10s",
           "per request to another daemon's HA API; per connection attempt and statement on a PostgreSQL node"),
    option("conninfo", KESTREL_OPT_STRING, nullptr,
           "libpq credentials for the PostgreSQL nodes ('user=kestrel password=...'; the address is the node's): "
           "a role owning the catalog database",
           KESTREL_OPTION_SECRET),
    option("snapshot_chunk", KESTREL_OPT_SIZE, "4MiB",
           "bytes per chunk of a snapshot sent to rebuild a node another daemon holds (each with its SHA-256)"),
};
}  // namespace

KESTREL_PLUGIN("replicator-changelog", "0.1.0", "SQLite catalogs replicated through a durable change log",
               kestrel::describe<kestrel::replicator_changelog::ChangelogReplicator>(
                   "replicator-changelog",
                   "SQLite catalog files kept in step by a change log written in each write's transaction "
                   "(async, semi-sync, sync; lag, promote, fence, rejoin with conflicts, rebuild)",
                   kOptions))
