// One write batch of the catalog contract committed in one PostgreSQL
// transaction together with the epoch fence.
#ifndef KESTREL_STORE_POSTGRES_PG_WRITE_H
#define KESTREL_STORE_POSTGRES_PG_WRITE_H

#include <catalog_schema/catalog_checks.h>

#include <cstdint>
#include <string>
#include <vector>

#include "pg_connection.h"

namespace kestrel {
namespace store_postgres {

// Commits checked `ops` (catalog_schema::check_batch) on `conn`:
//   BEGIN; SELECT epoch FROM cluster_state WHERE id = 1 FOR UPDATE — refuses
//   the batch with KESTREL_ERR_FENCED when `epoch` is below it, records a
//   higher one; then the operations as multi-row statements (image upserts
//   with ON CONFLICT (url) keep created_at and the first source_url and never
//   move updated_at backwards, so replaying an old batch changes nothing;
//   sessions and failover_events rows are upserted one statement each, by
//   session_key / event_key); then COMMIT.
// Returns the commit position: pg_current_wal_insert_lsn() read on the same
// connection right after COMMIT returned, as a 64-bit LSN. It is at or after
// the end of this transaction's commit record, so a standby whose replay LSN
// has reached it holds the batch (an upper bound: other sessions' WAL may lie
// in between). Strictly increasing across calls that do not overlap in time;
// calls that overlap may report the same position (each still bounds its own
// commit).
// Failures (the whole batch is rolled back unless said otherwise):
//   INVALID naming "op #i (upsert image URL)" for a constraint the checks
//   cannot see (a foreign key); FENCED/UNAVAILABLE per pg_errors.h; a lost
//   connection at COMMIT, or a COMMIT whose wait for a synchronous standby was
//   cancelled (the server's WARNING "canceling wait for synchronous
//   replication": committed locally, maybe not replicated) ->
//   KESTREL_ERR_UNKNOWN_OUTCOME, retryable.
// `now_us` (UTC microseconds) stands in for unset timestamps.
// REQUIRES: the caller holds `conn` exclusively.
uint64_t commit_batch(PgConnection& conn, uint64_t epoch, const std::vector<catalog_schema::CheckedOp>& ops,
                      int64_t now_us);

// Parses "X/Y" (hex halves of a pg_lsn) into a 64-bit LSN; throws
// kestrel::Error(INTERNAL) on anything else.
uint64_t parse_lsn(const std::string& text);

}  // namespace store_postgres
}  // namespace kestrel

#endif  // KESTREL_STORE_POSTGRES_PG_WRITE_H
