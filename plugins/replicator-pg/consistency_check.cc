// check_consistency: the primary and a standby compared at a common WAL
// position, per table and per id range (see pg_replicator.h, DESIGN §5).
#include <Poco/JSON/Object.h>
#include <catalog_schema/consistency_report.h>

#include <chrono>
#include <sstream>
#include <thread>

#include "pg_connection.h"
#include "pg_replicator.h"

namespace kestrel {
namespace replicator_pg {
namespace {

const char* const kTables[] = {"images", "categories", "crawl_sessions"};

using catalog_schema::CatalogSummary;
using catalog_schema::RangeChecksum;
using catalog_schema::TableSummary;

// Reads one table's summary inside the caller's snapshot. The canonical text
// of a row is PostgreSQL's record output (t::text), the same on both nodes.
TableSummary summarize(PgConnection& conn, const std::string& table, int64_t range_size) {
  TableSummary t;
  t.exists = !conn.value("SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema()"
                         " AND table_name = $1",
                         {table})
                  .empty();
  if (!t.exists) return t;
  const bool has_updated = !conn.value("SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema()"
                                       " AND table_name = $1 AND column_name = 'updated_at'",
                                       {table})
                                .empty();
  const std::string q = conn.ident(table);
  Rows r = conn.query("SELECT count(*), coalesce(min(id)::text, ''), coalesce(max(id)::text, ''), " +
                      std::string(has_updated ? "coalesce(max(updated_at)::text, '')" : "''") + " FROM " + q);
  t.rows = to_int(r[0][0]);
  if (!r[0][1].empty()) t.min_id = to_int(r[0][1]);
  if (!r[0][2].empty()) t.max_id = to_int(r[0][2]);
  if (!r[0][3].empty()) t.newest_updated_at = to_int(r[0][3]);
  const std::string n = std::to_string(range_size);
  for (const auto& row : conn.query("SELECT (id - 1) / " + n + " AS r, count(*), md5(string_agg(md5(t::text), '' ORDER BY id))"
                                    " FROM " + q + " AS t GROUP BY r ORDER BY r"))
    t.ranges[to_int(row[0])] = RangeChecksum{to_int(row[1]), row[2]};
  return t;
}

}  // namespace

std::string PgReplicator::replicator_check_consistency(const std::string& standby) {
  const NodeSpec s = node(standby);
  const NodeSpec p = primary();
  if (s.name == p.name) throw Error(KESTREL_ERR_INVALID, "node " + standby + " is the primary: name a standby");
  auto pconn = connect(p);
  auto sconn = connect(s);

  // The primary's snapshot first; every commit it sees is at or before the
  // LSN read right after it, so the standby waits for that LSN.
  pconn->exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
  CatalogSummary primary_tables;
  for (const char* table : kTables) primary_tables[table] = summarize(*pconn, table, range_size_);
  const std::string primary_lsn = pconn->value("SELECT pg_current_wal_lsn()::text");
  pconn->exec("COMMIT");

  std::string note;
  const bool recovering = sconn->value("SELECT pg_is_in_recovery()") == "t";
  std::string standby_lsn;
  if (recovering) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(catch_up_timeout_ms_);
    for (;;) {
      standby_lsn = sconn->value("SELECT coalesce(pg_last_wal_replay_lsn()::text, '')");
      if (parse_lsn(standby_lsn) >= parse_lsn(primary_lsn)) break;
      if (std::chrono::steady_clock::now() > deadline) {
        const bool paused = sconn->value("SELECT pg_is_wal_replay_paused()") == "t";
        throw Error(KESTREL_ERR_TIMEOUT,
                    "standby " + standby + " did not replay up to the primary's LSN " + primary_lsn + " within " +
                        std::to_string(catch_up_timeout_ms_) + " ms (it is at " + standby_lsn + ")" +
                        (paused ? ": its replay is paused (SELECT pg_wal_replay_resume())"
                                : ": check node_status for its lag and its log"),
                    true);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  } else {
    standby_lsn = sconn->value("SELECT pg_current_wal_lsn()::text");
    note = "node " + standby + " is not in recovery (it accepts writes): compared without a common position";
  }
  sconn->exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
  CatalogSummary standby_tables;
  for (const char* table : kTables) standby_tables[table] = summarize(*sconn, table, range_size_);
  sconn->exec("COMMIT");

  Poco::JSON::Object report;
  bool consistent = true;
  Poco::JSON::Object::Ptr tables = catalog_schema::tables_report(primary_tables, standby_tables, range_size_, &consistent);
  report.set("primary", p.name);
  report.set("standby", s.name);
  report.set("primary_lsn", primary_lsn);
  report.set("standby_lsn", standby_lsn);
  report.set("range_size", range_size_);
  if (!note.empty()) report.set("note", note);
  report.set("tables", tables);
  report.set("consistent", consistent);
  std::ostringstream out;
  report.stringify(out);
  return out.str();
}

}  // namespace replicator_pg
}  // namespace kestrel
