// kestrel-replicator-pg.so: the option schema (the documentation) and the
// exported negotiate symbol.
#include <kestrel/plugin.hpp>

#include "pg_replicator.h"

namespace {

using kestrel::option;

// One node of the `nodes` list (shared with the ha-catalog and the stores:
// "nodes: catalog"). The same defaults as theirs.
const kestrel_option_desc kNodeFields[] = {
    option("name", KESTREL_OPT_STRING, nullptr, "node name ([A-Za-z0-9_.-]+)",
           KESTREL_OPTION_REQUIRED | KESTREL_OPTION_UNIQUE),
    option("priority", KESTREL_OPT_INT, "100", "failover priority, lower wins"),
    option("host", KESTREL_OPT_STRING, nullptr, "the server's host name or address", KESTREL_OPTION_REQUIRED),
    option("port", KESTREL_OPT_INT, "5432", "the server's TCP port"),
    option("dbname", KESTREL_OPT_STRING, "kestrel", "the catalog database"),
    option("data_dir", KESTREL_OPT_PATH, nullptr,
           "the data directory when the server runs on this machine (pg_ctl, pg_basebackup, pg_rewind)"),
    option("bindir", KESTREL_OPT_PATH, nullptr, "PostgreSQL's bin folder (default: /usr/lib/postgresql/15/bin)"),
    option("fence", KESTREL_OPT_STRING, nullptr, "stop (the default with data_dir) or sql"),
};

const kestrel_option_desc kOptions[] = {
    kestrel::map_list("nodes", kNodeFields,
                      "the nodes, the first one the primary to bootstrap from; or the id of the component holding "
                      "the list (nodes: catalog)",
                      KESTREL_OPTION_REQUIRED),
    option("conninfo", KESTREL_OPT_STRING, nullptr,
           "libpq keywords for every node (a superuser: user=, password=, sslmode=...); host, port and dbname "
           "come from the node",
           KESTREL_OPTION_SECRET),
    option("mode", KESTREL_OPT_STRING, "async",
           "replication mode: async, semi-sync (ANY 1) or sync (FIRST n, all); applied at start as far as the "
           "streaming standbys allow (held back, logged and unhealthy until they stream, never blocking writes)"),
    option("bootstrap", KESTREL_OPT_STRING, "auto",
           "auto: copy local standbys whose data_dir is empty from the primary (pg_basebackup, in the background); "
           "manual: only report them as not bootstrapped, with the command that fixes it"),
    option("synchronous_commit", KESTREL_OPT_STRING, "on", "synchronous_commit on the primary: on or remote_apply"),
    option("replication_user", KESTREL_OPT_STRING, "replicator", "role standbys stream as (LOGIN REPLICATION)"),
    option("replication_password", KESTREL_OPT_STRING, nullptr, "its password (scram-sha-256)",
           KESTREL_OPTION_REQUIRED | KESTREL_OPTION_SECRET),
    option("replication_network", KESTREL_OPT_STRING, "127.0.0.1/32",
           "address range standbys connect from (pg_hba host replication rule)"),
    option("poll_interval", KESTREL_OPT_DURATION, "5s",
           "how often every node is observed (lag gauges, split brain, bootstrap state, held-back mode)"),
    option("connect_timeout", KESTREL_OPT_DURATION, "5s", "libpq connect timeout per node (whole seconds)"),
    option("command_timeout", KESTREL_OPT_DURATION, "5m", "limit for pg_basebackup, pg_rewind, pg_ctl"),
    option("catch_up_timeout", KESTREL_OPT_DURATION, "60s",
           "wait for a standby to stream / reach a common LSN before reporting an error"),
    option("wal_keep_size", KESTREL_OPT_SIZE, "256MiB",
           "at least this much WAL kept on the primary (ALTER SYSTEM) so a former primary can be rewound; 0: leave it"),
    option("range_size", KESTREL_OPT_INT, "1000", "rows per checksummed id range in the consistency check"),
};
}  // namespace

KESTREL_PLUGIN("replicator-pg", "0.1.0", "PostgreSQL streaming replication managed by Kestrel",
               kestrel::describe<kestrel::replicator_pg::PgReplicator>(
                   "replicator-pg", "PostgreSQL native streaming replication (bootstrap, modes, lag, failover)",
                   kOptions))
