#include "failover_query.h"

#include <Poco/Data/SQLite/Utility.h>
#include <catalog_schema/catalog_sql.h>

#include <kestrel/plugin.hpp>
#include <string>

#include "sqlite_errors.h"

namespace kestrel {
namespace store_sqlite {
namespace {

const std::string kSelect = std::string(catalog_schema::kFailoverSelectNewestFirst) + " LIMIT ?";

const char* text_or_null(sqlite3_stmt* s, int i) {
  return sqlite3_column_type(s, i) == SQLITE_NULL ? nullptr : reinterpret_cast<const char*>(sqlite3_column_text(s, i));
}

// Resets the cached statement however the loop ends, so that it holds no
// read snapshot (which would keep WAL checkpoints from finishing) between calls.
struct ResetOnExit {
  sqlite3_stmt* stmt;
  ~ResetOnExit() {
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
  }
};

}  // namespace

void stream_failover_events(ReaderPool::Lease& lease, uint32_t limit,
                            const std::function<bool(int64_t, const kestrel_failover_record&)>& fn) {
  try {
    sqlite3* db = Poco::Data::SQLite::Utility::dbHandle(lease.session());
    sqlite3_stmt* s = lease.statements().get(db, kSelect);
    ResetOnExit reset{s};
    sqlite3_bind_int64(s, 1, limit != 0 ? static_cast<int64_t>(limit) : -1);  // -1: no limit
    for (;;) {
      const int rc = sqlite3_step(s);
      if (rc == SQLITE_DONE) return;
      if (rc != SQLITE_ROW) Poco::Data::SQLite::Utility::throwException(db, rc, "reading failover_events");
      kestrel_failover_record r{};
      r.struct_size = sizeof r;
      r.event_key = text_or_null(s, 1);
      r.kind = text_or_null(s, 2);
      r.from_node = text_or_null(s, 3);
      r.to_node = text_or_null(s, 4);
      r.reason = text_or_null(s, 5);
      r.automatic = static_cast<int32_t>(sqlite3_column_int64(s, 6));
      r.succeeded = static_cast<int32_t>(sqlite3_column_int64(s, 7));
      r.epoch_before = static_cast<uint64_t>(sqlite3_column_int64(s, 8));  // CHECKed >= 0
      r.epoch_after = static_cast<uint64_t>(sqlite3_column_int64(s, 9));
      r.started_at_us = sqlite3_column_int64(s, 10);
      r.finished_at_us = sqlite3_column_int64(s, 11);
      r.lost_bytes = sqlite3_column_int64(s, 12);
      r.write_pause_ms = sqlite3_column_int64(s, 13);
      r.detail = text_or_null(s, 14);
      if (!fn(sqlite3_column_int64(s, 0), r)) return;
    }
  } catch (const Error&) {
    throw;
  } catch (const Poco::Exception&) {
    rethrow_translated("reading failover_events");
  }
}

}  // namespace store_sqlite
}  // namespace kestrel
