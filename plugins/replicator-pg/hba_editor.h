// pg_hba.conf edits made through SQL on a superuser connection, so they work
// on remote nodes too: the file is read with pg_read_file(), written with
// COPY ... TO, reloaded with pg_reload_conf(), and checked through
// pg_hba_file_rules (a file with errors is put back as it was).
// Kestrel's lines carry a "# kestrel" marker so edits are idempotent.
#ifndef KESTREL_REPLICATOR_PG_HBA_EDITOR_H
#define KESTREL_REPLICATOR_PG_HBA_EDITOR_H

#include <string>

#include "pg_connection.h"

namespace kestrel {
namespace replicator_pg {

// Makes sure `host replication <user> <network> scram-sha-256` is the first
// rule (never trust), then reloads. Throws kestrel::Error naming the node.
void ensure_replication_rule(PgConnection& conn, const std::string& user, const std::string& network);

// Prepends the fence block: the node's replication rules and its rules for
// superusers stay usable, then `local all all reject`, `host all all
// 0.0.0.0/0 reject` and `host all all ::/0 reject`; reloads. Idempotent.
void prepend_fence_rules(PgConnection& conn);

}  // namespace replicator_pg
}  // namespace kestrel

#endif  // KESTREL_REPLICATOR_PG_HBA_EDITOR_H
