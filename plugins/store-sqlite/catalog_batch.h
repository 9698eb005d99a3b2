// One write batch of the catalog contract committed in one SQLite
// transaction together with the epoch fence and the commit sequence. The
// batch is checked first by catalog_schema::check_batch (shared with
// store-postgres, catalog_schema/catalog_checks.h).
#ifndef KESTREL_STORE_SQLITE_CATALOG_BATCH_H
#define KESTREL_STORE_SQLITE_CATALOG_BATCH_H

#include <Poco/Data/Session.h>
#include <Poco/Nullable.h>
#include <catalog_schema/catalog_checks.h>
#include <kestrel/plugin.h>

#include <cstdint>
#include <string>
#include <vector>

namespace kestrel {
namespace store_sqlite {

using catalog_schema::check_batch;
using catalog_schema::CheckedOp;
using catalog_schema::FailoverValues;
using catalog_schema::ImageValues;
using catalog_schema::SessionValues;
using catalog_schema::wall_clock_us;

// Commits `ops` in one BEGIN IMMEDIATE transaction on the writer `session`:
// refuses the batch with KESTREL_ERR_FENCED when `epoch` is below the epoch
// recorded in cluster_state, records a higher one, applies the operations
// (image upserts keep created_at and the first source_url, and never move
// updated_at backwards, so replaying an old batch changes nothing; session
// and failover_events upserts replace their row by key), adds 1 to
// catalog_meta.commit_seq and returns the new value. `now_us` (UTC
// microseconds) stands in for unset timestamps. On any failure the whole
// batch is rolled back and kestrel::Error thrown (sqlite_errors.h).
// REQUIRES: the caller holds the writer session exclusively.
uint64_t commit_batch(Poco::Data::Session& session, uint64_t epoch, const std::vector<CheckedOp>& ops, int64_t now_us);

}  // namespace store_sqlite
}  // namespace kestrel

#endif  // KESTREL_STORE_SQLITE_CATALOG_BATCH_H
