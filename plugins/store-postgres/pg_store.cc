#include "pg_store.h"

#include <Poco/JSON/Object.h>
#include <catalog_schema/catalog_checks.h>
#include <catalog_schema/catalog_sql.h>
#include <catalog_schema/migration_runner.h>

#include <cstdlib>
#include <deque>
#include <sstream>

#include "pg_migration_target.h"
#include "pg_write.h"

namespace kestrel {
namespace store_postgres {

using CallGate = catalog_schema::CallGate;

namespace {

// The WHERE clause of `q` and its text parameters, in placeholder order.
struct Filter {
  std::string where;
  std::deque<std::string> values;
  std::vector<const char*> params;

  Filter(const kestrel_image_query& q, bool paging) {
    if (q.url != nullptr) add("url = ", q.url);
    if (q.sha256 != nullptr) add("sha256 = ", q.sha256);
    if (q.format != nullptr) add("format = ", q.format);
    if (q.crawl_session_id != 0) add("crawl_session_id = ", std::to_string(q.crawl_session_id));
    if (q.min_width != 0) add("width >= ", std::to_string(q.min_width));
    if (paging && q.after_id != 0) add("id > ", std::to_string(q.after_id));
  }

 private:
  void add(const char* condition, const std::string& value) {
    values.push_back(value);
    params.push_back(values.back().c_str());
    where += (where.empty() ? " WHERE " : " AND ") + std::string(condition) + "$" + std::to_string(params.size());
  }
};

int64_t int_at(const PGresult* r, int row, int col) {
  return PQgetisnull(r, row, col) ? 0 : std::strtoll(PQgetvalue(r, row, col), nullptr, 10);
}
const char* text_at(const PGresult* r, int row, int col) {
  return PQgetisnull(r, row, col) ? nullptr : PQgetvalue(r, row, col);
}

// Stops a streaming query early: asks the server to cancel it and reads what
// is left, so the connection goes back to the pool idle.
void abandon_query(PgConnection& conn) noexcept {
  // Only a running query on a live connection is cancelled: PQcancel opens a
  // new socket and has no timeout, so it must not aim at a dead server.
  if (PQstatus(conn.raw()) != CONNECTION_OK || PQtransactionStatus(conn.raw()) != PQTRANS_ACTIVE) return;
  if (PGcancel* cancel = PQgetCancel(conn.raw())) {
    char err[256];
    PQcancel(cancel, err, sizeof err);
    PQfreeCancel(cancel);
  }
  while (PGresult* rest = PQgetResult(conn.raw())) PQclear(rest);
}

}  // namespace

PgStore::PgStore(const CreateArgs& args) : host_(args), options_(parse_options(args)) {}

PgStore::~PgStore() = default;

void PgStore::start() {
  if (pool_) return;  // already started
  auto pool = std::make_unique<PgPool>(options_);
  catalog_schema::MigrationReport report;
  try {
    open_schema(*pool, &report);
  } catch (const Error& e) {
    // A node of an HA catalog may be down when the daemon starts (the HA
    // catalog routes around it): the store starts, and checks the schema on
    // its first write. A store used alone fails its first call instead.
    if (e.code() != KESTREL_ERR_UNAVAILABLE) throw;
    host_.logf(KESTREL_LOG_WARNING, "catalog %s: the server does not answer (%s); the store starts and checks "
               "the schema on its first write", options_.server.c_str(), e.what());
    pool_ = std::move(pool);
    gate_.open();
    return;
  }
  if (!report.applied.empty())
    host_.logf(KESTREL_LOG_INFO, "%s: schema migrated from version %d to %d", options_.server.c_str(),
               report.from_version, report.to_version);
  schema_checked_ = true;
  pool_ = std::move(pool);
  gate_.open();
  host_.logf(KESTREL_LOG_INFO, "catalog %s open (schema version %d, pool of %d)", options_.server.c_str(),
             report.to_version, options_.pool_size);
}

void PgStore::open_schema(PgPool& pool, catalog_schema::MigrationReport* report) {
  std::unique_ptr<PgPool::Lease> lease = pool.acquire();
  PgConnection& conn = **lease;
  if (schema_is_current(conn, report)) return;
  // Nothing to write on a standby (or a fenced, read-only server): it gets
  // the schema from its primary's store through replication.
  PgResult r = conn.exec("SELECT pg_is_in_recovery()", "reading the server's role");
  if (std::string(PQgetvalue(r.get(), 0, 0)) == "t") {
    host_.logf(KESTREL_LOG_INFO, "catalog %s is a standby with an older schema: its primary's store migrates it",
               options_.server.c_str());
    return;
  }
  // Two stores starting on one database at once migrate one after the other.
  migrate(conn, report);
}

bool PgStore::schema_is_current(PgConnection& conn, catalog_schema::MigrationReport* report) {
  PgResult exists = conn.exec("SELECT to_regclass('schema_migrations') IS NOT NULL", "reading the schema version");
  if (std::string(PQgetvalue(exists.get(), 0, 0)) != "t") return false;
  PgMigrationTarget target(conn);
  const int version = catalog_schema::current_version(target);
  if (version != catalog_schema::latest_version()) return false;
  report->from_version = report->to_version = version;
  return true;
}

void PgStore::migrate(PgConnection& conn, catalog_schema::MigrationReport* report) {
  *report = migrate_locked(conn);
}

void PgStore::stop(uint32_t /*deadline_ms*/) {
  // Calls in flight are bounded by statement_timeout; waiting for them keeps
  // a statement from outliving its connection.
  gate_.close();
  pool_.reset();
}

void PgStore::health() {
  const CallGate::Pass pass = gate_.enter("catalog " + options_.server);
  std::unique_ptr<PgPool::Lease> lease = pool_->acquire();
  PgResult r = (*lease)->exec("SELECT 1", "health check");
  if (PQntuples(r.get()) != 1 || std::string(PQgetvalue(r.get(), 0, 0)) != "1")
    throw Error(KESTREL_ERR_UNAVAILABLE, options_.server + ": SELECT 1 returned no 1", true);
}

std::string PgStore::status_json() {
  Poco::JSON::Object status;
  status.set("server", options_.server);
  status.set("pool_size", options_.pool_size);
  const std::unique_ptr<CallGate::Pass> pass = gate_.try_enter();
  if (!pass) {
    status.set("state", "stopped");
  } else {
    status.set("state", "running");
    status.set("open_connections", pool_->open_count());
    std::unique_ptr<PgPool::Lease> lease = pool_->acquire();
    // One statement: the counts and the position come from one snapshot.
    PgResult r = (*lease)->exec(
        "SELECT (SELECT MAX(version) FROM schema_migrations),"
        " CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_insert_lsn() END,"
        " pg_is_in_recovery(), epoch, primary_node,"
        " (SELECT COUNT(*) FROM images), (SELECT COUNT(*) FROM crawl_sessions), (SELECT COUNT(*) FROM categories),"
        " (SELECT COUNT(*) FROM failover_events)"
        " FROM cluster_state WHERE id = 1",
        "status");
    if (PQntuples(r.get()) == 1) {
      const PGresult* g = r.get();
      status.set("schema_version", int_at(g, 0, 0));
      const char* lsn = text_at(g, 0, 1);
      status.set("wal_lsn", lsn ? lsn : "");
      status.set("commit_position", lsn ? parse_lsn(lsn) : 0);
      status.set("in_recovery", std::string(PQgetvalue(g, 0, 2)) == "t");
      status.set("epoch", int_at(g, 0, 3));
      if (const char* primary = text_at(g, 0, 4)) status.set("primary_node", std::string(primary));
      Poco::JSON::Object rows;
      rows.set("images", int_at(g, 0, 5));
      rows.set("crawl_sessions", int_at(g, 0, 6));
      rows.set("categories", int_at(g, 0, 7));
      rows.set("failover_events", int_at(g, 0, 8));
      status.set("rows", rows);
    }
  }
  std::ostringstream out;
  status.stringify(out);
  return out.str();
}

uint64_t PgStore::catalog_write(uint64_t epoch, const std::vector<kestrel_catalog_op>& ops) {
  // Checked before any connection: a bad batch costs the database nothing.
  const std::vector<catalog_schema::CheckedOp> checked = catalog_schema::check_batch(ops);
  const CallGate::Pass pass = gate_.enter("catalog " + options_.server);
  if (!schema_checked_) {
    // The server did not answer at start: check (and migrate) now, once.
    std::lock_guard<std::mutex> lock(schema_mu_);
    if (!schema_checked_) {
      catalog_schema::MigrationReport report;
      open_schema(*pool_, &report);
      schema_checked_ = true;
    }
  }
  std::unique_ptr<PgPool::Lease> lease = pool_->acquire();
  return commit_batch(**lease, epoch, checked, catalog_schema::wall_clock_us());
}

void PgStore::catalog_read_images(uint64_t /*epoch*/, const kestrel_image_query& query,
                                  const std::function<bool(const kestrel_image_row&)>& fn) {
  // Reads are never fenced: only writes from an old primary are dangerous.
  const CallGate::Pass pass = gate_.enter("catalog " + options_.server);
  std::unique_ptr<PgPool::Lease> lease = pool_->acquire();
  PgConnection& conn = **lease;
  Filter filter(query, true);
  std::string sql =
      "SELECT id, url, source_url, filename, file_path, file_size, width, height, format, mime_type, md5, sha256,"
      " etag, last_modified, category_id, crawl_session_id, created_at, updated_at FROM images" +
      filter.where + " ORDER BY id";
  if (query.limit != 0) sql += " LIMIT " + std::to_string(query.limit);
  if (!PQsendQueryParams(conn.raw(), sql.c_str(), static_cast<int>(filter.params.size()), nullptr, filter.params.data(),
                         nullptr, nullptr, 0))
    throw_pg_error(conn.raw(), nullptr, conn.server(), "reading images");
  PQsetSingleRowMode(conn.raw());  // rows stream one at a time, none pile up
  bool more = true;
  try {
    while (PGresult* raw = PQgetResult(conn.raw())) {
      PgResult r(raw);
      const ExecStatusType st = PQresultStatus(raw);
      if (st == PGRES_TUPLES_OK) continue;  // the end marker
      if (st != PGRES_SINGLE_TUPLE) {
        while (PGresult* rest = PQgetResult(conn.raw())) PQclear(rest);
        throw_pg_error(conn.raw(), raw, conn.server(), "reading images");
      }
      if (!more) continue;
      kestrel_image_record record{};
      record.struct_size = sizeof record;
      record.url = PQgetvalue(raw, 0, 1);
      record.source_url = text_at(raw, 0, 2);
      record.filename = text_at(raw, 0, 3);
      record.file_path = text_at(raw, 0, 4);
      record.file_size = static_cast<uint64_t>(int_at(raw, 0, 5));
      record.width = static_cast<uint32_t>(int_at(raw, 0, 6));
      record.height = static_cast<uint32_t>(int_at(raw, 0, 7));
      record.format = text_at(raw, 0, 8);
      record.mime_type = text_at(raw, 0, 9);
      record.md5 = text_at(raw, 0, 10);
      record.sha256 = text_at(raw, 0, 11);
      record.etag = text_at(raw, 0, 12);
      record.last_modified = text_at(raw, 0, 13);
      record.category_id = int_at(raw, 0, 14);
      record.crawl_session_id = int_at(raw, 0, 15);
      record.fetched_at_us = int_at(raw, 0, 17);
      kestrel_image_row row{};
      row.struct_size = sizeof row;
      row.id = int_at(raw, 0, 0);
      row.record = &record;
      row.created_at_us = int_at(raw, 0, 16);
      row.updated_at_us = record.fetched_at_us;
      more = fn(row);
      if (!more) {
        abandon_query(conn);
        break;
      }
    }
  } catch (...) {
    abandon_query(conn);  // the callback threw: leave the connection idle
    throw;
  }
}

int64_t PgStore::catalog_session_id(uint64_t /*epoch*/, const std::string& session_key) {
  const CallGate::Pass pass = gate_.enter("catalog " + options_.server);
  std::unique_ptr<PgPool::Lease> lease = pool_->acquire();
  PgResult r = (*lease)->exec_params("SELECT id FROM crawl_sessions WHERE session_key = $1", {session_key.c_str()},
                                     "looking up crawl session " + session_key);
  if (PQntuples(r.get()) == 0) throw Error(KESTREL_ERR_NOT_FOUND, "no crawl session with key '" + session_key + "'");
  return int_at(r.get(), 0, 0);
}

uint64_t PgStore::catalog_count_images(uint64_t /*epoch*/, const kestrel_image_query& query) {
  const CallGate::Pass pass = gate_.enter("catalog " + options_.server);
  std::unique_ptr<PgPool::Lease> lease = pool_->acquire();
  Filter filter(query, false);
  PgResult r = (*lease)->exec_params("SELECT COUNT(*) FROM images" + filter.where, filter.params, "counting images");
  return static_cast<uint64_t>(int_at(r.get(), 0, 0));
}

void PgStore::catalog_read_failover_events(
    uint64_t /*epoch*/, uint32_t limit, const std::function<bool(int64_t, const kestrel_failover_record&)>& fn) {
  const CallGate::Pass pass = gate_.enter("catalog " + options_.server);
  std::unique_ptr<PgPool::Lease> lease = pool_->acquire();
  std::string sql = catalog_schema::kFailoverSelectNewestFirst;
  if (limit != 0) sql += " LIMIT " + std::to_string(limit);
  PgResult r = (*lease)->exec(sql, "reading failover_events");
  const PGresult* g = r.get();
  for (int row = 0, n = PQntuples(g); row < n; ++row) {
    kestrel_failover_record f{};
    f.struct_size = sizeof f;
    f.event_key = text_at(g, row, 1);
    f.kind = text_at(g, row, 2);
    f.from_node = text_at(g, row, 3);
    f.to_node = text_at(g, row, 4);
    f.reason = text_at(g, row, 5);
    f.automatic = static_cast<int32_t>(int_at(g, row, 6));
    f.succeeded = static_cast<int32_t>(int_at(g, row, 7));
    f.epoch_before = static_cast<uint64_t>(int_at(g, row, 8));  // CHECKed >= 0
    f.epoch_after = static_cast<uint64_t>(int_at(g, row, 9));
    f.started_at_us = int_at(g, row, 10);
    f.finished_at_us = int_at(g, row, 11);
    f.lost_bytes = int_at(g, row, 12);
    f.write_pause_ms = int_at(g, row, 13);
    f.detail = text_at(g, row, 14);
    if (!fn(int_at(g, row, 0), f)) return;
  }
}

void PgStore::catalog_cluster_state(uint64_t* epoch, std::string* primary) {
  const CallGate::Pass pass = gate_.enter("catalog " + options_.server);
  std::unique_ptr<PgPool::Lease> lease = pool_->acquire();
  PgResult r = (*lease)->exec(catalog_schema::kClusterStateSelect, "reading cluster_state");
  if (PQntuples(r.get()) != 1) throw Error(KESTREL_ERR_INTERNAL, options_.server + ": cluster_state has no row 1");
  *epoch = static_cast<uint64_t>(int_at(r.get(), 0, 0));  // CHECKed >= 0
  const char* node = text_at(r.get(), 0, 1);
  *primary = node != nullptr ? node : "";
}

}  // namespace store_postgres
}  // namespace kestrel
