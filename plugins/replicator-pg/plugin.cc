// kestrel-replicator-pg.so: the option schema (the documentation) and the
// exported negotiate symbol.
#include <kestrel/plugin.hpp>

#include "pg_replicator.h"

namespace {

using kestrel::option;

const kestrel_option_desc kOptions[] = {
    option("primary", KESTREL_OPT_STRING, nullptr,
           "primary node spec: libpq key=value (a superuser) plus name=, priority=, data_dir= (local), bindir=, fence=",
           KESTREL_OPTION_REQUIRED),
    option("standbys", KESTREL_OPT_STRING_LIST, nullptr, "standby node specs, same syntax as primary"),
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
const char* const kProvides[] = {KESTREL_IFACE_REPLICATOR_V1};

}  // namespace

KESTREL_PLUGIN("replicator-pg", "0.1.0", "PostgreSQL streaming replication managed by Kestrel",
               kestrel::describe<kestrel::replicator_pg::PgReplicator>(
                   "replicator-pg", "PostgreSQL native streaming replication (bootstrap, modes, lag, failover)",
                   kProvides, kOptions))
