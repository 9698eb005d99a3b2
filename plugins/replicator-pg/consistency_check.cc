// check_consistency: the primary and a standby compared at a common WAL
// position, per table and per id range (see pg_replicator.h, DESIGN §5).
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <chrono>
#include <map>
#include <sstream>
#include <thread>

#include "pg_connection.h"
#include "pg_replicator.h"

namespace kestrel {
namespace replicator_pg {
namespace {

const char* const kTables[] = {"images", "categories", "crawl_sessions"};

struct Range {
  int64_t rows = 0;
  std::string md5;
};

struct TableSummary {
  bool exists = false;
  int64_t rows = 0;
  std::string min_id, max_id, newest_updated_at;
  std::map<int64_t, Range> ranges;  // range index -> rows, checksum
};

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
  t.min_id = r[0][1];
  t.max_id = r[0][2];
  t.newest_updated_at = r[0][3];
  const std::string n = std::to_string(range_size);
  for (const auto& row : conn.query("SELECT (id - 1) / " + n + " AS r, count(*), md5(string_agg(md5(t::text), '' ORDER BY id))"
                                    " FROM " + q + " AS t GROUP BY r ORDER BY r"))
    t.ranges[to_int(row[0])] = Range{to_int(row[1]), row[2]};
  return t;
}

Poco::JSON::Object::Ptr to_json(const TableSummary& t) {
  Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
  o->set("exists", t.exists);
  o->set("rows", t.rows);
  if (!t.min_id.empty()) o->set("min_id", to_int(t.min_id));
  if (!t.max_id.empty()) o->set("max_id", to_int(t.max_id));
  if (!t.newest_updated_at.empty()) o->set("newest_updated_at", to_int(t.newest_updated_at));
  o->set("ranges", static_cast<int64_t>(t.ranges.size()));
  return o;
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
  std::map<std::string, TableSummary> primary_tables;
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
  std::map<std::string, TableSummary> standby_tables;
  for (const char* table : kTables) standby_tables[table] = summarize(*sconn, table, range_size_);
  sconn->exec("COMMIT");

  Poco::JSON::Object report;
  Poco::JSON::Object tables;
  bool consistent = true;
  for (const char* table : kTables) {
    const TableSummary& a = primary_tables[table];
    const TableSummary& b = standby_tables[table];
    Poco::JSON::Object t;
    t.set("primary", to_json(a));
    t.set("standby", to_json(b));
    Poco::JSON::Array diffs;
    std::map<int64_t, bool> keys;
    for (const auto& kv : a.ranges) keys[kv.first] = true;
    for (const auto& kv : b.ranges) keys[kv.first] = true;
    for (const auto& k : keys) {
      auto ia = a.ranges.find(k.first);
      auto ib = b.ranges.find(k.first);
      const bool same = ia != a.ranges.end() && ib != b.ranges.end() && ia->second.rows == ib->second.rows &&
                        ia->second.md5 == ib->second.md5;
      if (same) continue;
      Poco::JSON::Object d;
      d.set("from_id", k.first * range_size_ + 1);
      d.set("to_id", (k.first + 1) * range_size_);
      d.set("primary_rows", ia == a.ranges.end() ? 0 : ia->second.rows);
      d.set("standby_rows", ib == b.ranges.end() ? 0 : ib->second.rows);
      diffs.add(d);
    }
    const bool same_table = diffs.size() == 0 && a.exists == b.exists && a.rows == b.rows;
    consistent = consistent && same_table;
    t.set("differences", diffs);
    t.set("consistent", same_table);
    tables.set(table, t);
  }
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
