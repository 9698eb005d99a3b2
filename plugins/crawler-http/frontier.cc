#include "frontier.h"

#include <kestrel/plugin.hpp>

namespace kestrel::crawler {
namespace {

const char* const kSchema = R"sql(
CREATE TABLE IF NOT EXISTS crawl_runs(
  session_key TEXT PRIMARY KEY,
  seeds_json TEXT NOT NULL,
  state TEXT NOT NULL,
  started_at_us INTEGER NOT NULL,
  finished_at_us INTEGER NOT NULL DEFAULT 0,
  pages INTEGER NOT NULL DEFAULT 0,
  images INTEGER NOT NULL DEFAULT 0,
  images_unchanged INTEGER NOT NULL DEFAULT 0,
  bytes INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS crawl_runs_by_seeds ON crawl_runs(seeds_json, started_at_us);
CREATE TABLE IF NOT EXISTS frontier(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  session_key TEXT NOT NULL,
  url TEXT NOT NULL,
  kind TEXT NOT NULL,
  depth INTEGER NOT NULL,
  source_url TEXT NOT NULL DEFAULT '',
  state TEXT NOT NULL DEFAULT 'queued',
  reason TEXT NOT NULL DEFAULT '',
  detail TEXT NOT NULL DEFAULT '',
  http_status INTEGER NOT NULL DEFAULT 0,
  attempts INTEGER NOT NULL DEFAULT 0,
  bytes INTEGER NOT NULL DEFAULT 0,
  final_url TEXT NOT NULL DEFAULT '',
  UNIQUE(session_key, url));
CREATE INDEX IF NOT EXISTS frontier_by_state ON frontier(session_key, state, id);
PRAGMA user_version = 2;
)sql";

std::string column_text(sqlite3_stmt* s, int i) {
  const unsigned char* t = sqlite3_column_text(s, i);
  return t ? reinterpret_cast<const char*>(t) : "";
}

void bind_text(sqlite3_stmt* s, int i, const std::string& v) {
  sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
}

UrlKind kind_from(const std::string& k) {
  if (k == "image") return UrlKind::Image;
  if (k == "sitemap") return UrlKind::Sitemap;
  if (k == "stylesheet") return UrlKind::Stylesheet;
  return UrlKind::Page;
}

// Version 1 -> 2: the fetch status columns.
const char* const kMigrateV1 = R"sql(
ALTER TABLE frontier ADD COLUMN http_status INTEGER NOT NULL DEFAULT 0;
ALTER TABLE frontier ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE frontier ADD COLUMN bytes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE frontier ADD COLUMN final_url TEXT NOT NULL DEFAULT '';
)sql";

}  // namespace

Frontier::Frontier(const std::string& path) : path_(path) {
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                                 nullptr);
  db_.reset(raw);  // a handle is returned even on failure and must be closed
  if (rc != SQLITE_OK) fail("cannot open");
  sqlite3_busy_timeout(db_.get(), 5000);
  exec("PRAGMA journal_mode=WAL");
  // NORMAL in WAL mode: a power cut may lose the last commits but never
  // corrupts; lost entries are just fetched again on resume.
  exec("PRAGMA synchronous=NORMAL");
  int version = 0;
  {
    Stmt s;
    sqlite3_stmt* q = prepare(s, "PRAGMA user_version");
    if (sqlite3_step(q) == SQLITE_ROW) version = sqlite3_column_int(q, 0);
  }
  if (version > 2)
    throw Error(KESTREL_ERR_INVALID, path_ + ": frontier schema version " + std::to_string(version) +
                                         " is newer than this crawler (2): use a newer Kestrel or another state_path");
  if (version == 1) {
    Transaction tx(*this);
    exec(kMigrateV1);
    exec("PRAGMA user_version = 2");
    tx.commit();
  }
  exec(kSchema);
}

Frontier::~Frontier() = default;

void Frontier::fail(const std::string& what) const {
  throw Error(KESTREL_ERR_IO, path_ + ": " + what + ": " + (db_ ? sqlite3_errmsg(db_.get()) : "out of memory"));
}

void Frontier::exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_.get(), sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    throw Error(KESTREL_ERR_IO, path_ + ": " + msg);
  }
}

sqlite3_stmt* Frontier::prepare(Stmt& slot, const char* sql) {
  if (!slot) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db_.get(), sql, -1, &s, nullptr) != SQLITE_OK) fail("prepare");
    slot.reset(s);
  } else {
    sqlite3_reset(slot.get());
    sqlite3_clear_bindings(slot.get());
  }
  return slot.get();
}

void Frontier::step_done(sqlite3_stmt* s, const char* what) {
  if (sqlite3_step(s) != SQLITE_DONE) fail(what);
  sqlite3_reset(s);
}

std::optional<RunRow> Frontier::find_unfinished(const std::string& seeds_json) {
  Stmt st;
  sqlite3_stmt* s = prepare(st,
                            "SELECT session_key, seeds_json, state, started_at_us, pages, images, images_unchanged, "
                            "bytes FROM crawl_runs WHERE seeds_json = ?1 AND state != 'finished' "
                            "ORDER BY started_at_us DESC, rowid DESC LIMIT 1");
  bind_text(s, 1, seeds_json);
  const int rc = sqlite3_step(s);
  if (rc == SQLITE_DONE) return std::nullopt;
  if (rc != SQLITE_ROW) fail("find run");
  RunRow r;
  r.session_key = column_text(s, 0);
  r.seeds_json = column_text(s, 1);
  r.state = column_text(s, 2);
  r.started_at_us = sqlite3_column_int64(s, 3);
  r.counters.pages = static_cast<uint64_t>(sqlite3_column_int64(s, 4));
  r.counters.images = static_cast<uint64_t>(sqlite3_column_int64(s, 5));
  r.counters.images_unchanged = static_cast<uint64_t>(sqlite3_column_int64(s, 6));
  r.counters.bytes = static_cast<uint64_t>(sqlite3_column_int64(s, 7));
  return r;
}

void Frontier::create_run(const std::string& session_key, const std::string& seeds_json, int64_t started_at_us) {
  write_begin();
  Stmt st;
  sqlite3_stmt* s = prepare(st,
                            "INSERT INTO crawl_runs(session_key, seeds_json, state, started_at_us) "
                            "VALUES(?1, ?2, 'running', ?3)");
  bind_text(s, 1, session_key);
  bind_text(s, 2, seeds_json);
  sqlite3_bind_int64(s, 3, started_at_us);
  step_done(s, "create run");
}

void Frontier::update_run(const std::string& session_key, const std::string& state, const RunCounters& c,
                          int64_t finished_at_us) {
  write_begin();
  Stmt st;
  sqlite3_stmt* s = prepare(st,
                            "UPDATE crawl_runs SET state = ?2, pages = ?3, images = ?4, images_unchanged = ?5, "
                            "bytes = ?6, finished_at_us = ?7 WHERE session_key = ?1");
  bind_text(s, 1, session_key);
  bind_text(s, 2, state);
  sqlite3_bind_int64(s, 3, static_cast<int64_t>(c.pages));
  sqlite3_bind_int64(s, 4, static_cast<int64_t>(c.images));
  sqlite3_bind_int64(s, 5, static_cast<int64_t>(c.images_unchanged));
  sqlite3_bind_int64(s, 6, static_cast<int64_t>(c.bytes));
  sqlite3_bind_int64(s, 7, finished_at_us);
  step_done(s, "update run");
}

void Frontier::set_batching(bool on) {
  if (!on) commit_pending();
  batching_ = on;
}

void Frontier::write_begin() {
  if (!batching_ || in_batch_tx_) return;
  exec("BEGIN IMMEDIATE");
  in_batch_tx_ = true;
}

void Frontier::commit_pending() {
  if (!in_batch_tx_) return;
  exec("COMMIT");
  in_batch_tx_ = false;
}

void Frontier::rollback_pending() noexcept {
  if (!in_batch_tx_) return;
  sqlite3_exec(db_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
  in_batch_tx_ = false;
}

Frontier::Transaction::Transaction(Frontier& f) : f_(f) {
  if (f_.batching_) {
    f_.write_begin();
    f_.exec("SAVEPOINT frontier_tx");
    savepoint_ = true;
  } else {
    f_.exec("BEGIN IMMEDIATE");
  }
}

Frontier::Transaction::~Transaction() {
  if (!open_) return;
  if (savepoint_) {
    sqlite3_exec(f_.db_.get(), "ROLLBACK TO frontier_tx; RELEASE frontier_tx", nullptr, nullptr, nullptr);
  } else {
    sqlite3_exec(f_.db_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
  }
}

void Frontier::Transaction::commit() {
  f_.exec(savepoint_ ? "RELEASE frontier_tx" : "COMMIT");
  open_ = false;
}

bool Frontier::add(const std::string& session_key, const std::string& url, UrlKind kind, uint32_t depth,
                   const std::string& source_url) {
  return add_settled(session_key, url, kind, depth, source_url, "queued", "", "");
}

bool Frontier::add_settled(const std::string& session_key, const std::string& url, UrlKind kind, uint32_t depth,
                           const std::string& source_url, const char* state, const std::string& reason,
                           const std::string& detail) {
  write_begin();
  sqlite3_stmt* s = prepare(add_,
                            "INSERT OR IGNORE INTO frontier(session_key, url, kind, depth, source_url, state, reason, "
                            "detail) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
  bind_text(s, 1, session_key);
  bind_text(s, 2, url);
  sqlite3_bind_text(s, 3, kind_name(kind), -1, SQLITE_STATIC);
  sqlite3_bind_int64(s, 4, depth);
  bind_text(s, 5, source_url);
  sqlite3_bind_text(s, 6, state, -1, SQLITE_STATIC);
  bind_text(s, 7, reason);
  bind_text(s, 8, detail);
  step_done(s, "add url");
  return sqlite3_changes(db_.get()) > 0;
}

void Frontier::set_state(int64_t id, const char* state, const std::string& reason, const std::string& detail) {
  write_begin();
  sqlite3_stmt* s = prepare(set_state_, "UPDATE frontier SET state = ?2, reason = ?3, detail = ?4 WHERE id = ?1");
  sqlite3_bind_int64(s, 1, id);
  sqlite3_bind_text(s, 2, state, -1, SQLITE_STATIC);
  bind_text(s, 3, reason);
  bind_text(s, 4, detail);
  step_done(s, "set state");
}

void Frontier::record_fetch(int64_t id, const FetchRecord& r) {
  write_begin();
  sqlite3_stmt* s = prepare(record_,
                            "UPDATE frontier SET http_status = ?2, attempts = ?3, bytes = ?4, final_url = ?5 "
                            "WHERE id = ?1");
  sqlite3_bind_int64(s, 1, id);
  sqlite3_bind_int64(s, 2, r.http_status);
  sqlite3_bind_int64(s, 3, r.attempts);
  sqlite3_bind_int64(s, 4, static_cast<int64_t>(r.bytes));
  bind_text(s, 5, r.final_url);
  step_done(s, "record fetch");
}

std::vector<WorkItem> Frontier::load_queued(const std::string& session_key, int64_t after_id, size_t limit) {
  sqlite3_stmt* s = prepare(load_,
                            "SELECT id, url, kind, depth, source_url, attempts FROM frontier "
                            "WHERE session_key = ?1 AND state = 'queued' AND id > ?2 ORDER BY id LIMIT ?3");
  bind_text(s, 1, session_key);
  sqlite3_bind_int64(s, 2, after_id);
  sqlite3_bind_int64(s, 3, static_cast<int64_t>(limit));
  std::vector<WorkItem> out;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    WorkItem w;
    w.id = sqlite3_column_int64(s, 0);
    w.url = column_text(s, 1);
    w.kind = kind_from(column_text(s, 2));
    w.depth = static_cast<uint32_t>(sqlite3_column_int64(s, 3));
    w.source_url = column_text(s, 4);
    w.attempts = static_cast<uint32_t>(sqlite3_column_int64(s, 5));
    out.push_back(std::move(w));
  }
  if (rc != SQLITE_DONE) fail("load queue");
  sqlite3_reset(s);
  return out;
}

uint64_t Frontier::count_settled(const std::string& session_key, UrlKind kind) {
  sqlite3_stmt* s = prepare(settled_,
                            "SELECT COUNT(*) FROM frontier WHERE session_key = ?1 AND kind = ?2 AND state != 'queued'");
  bind_text(s, 1, session_key);
  sqlite3_bind_text(s, 2, kind_name(kind), -1, SQLITE_STATIC);
  if (sqlite3_step(s) != SQLITE_ROW) fail("count");
  const auto n = static_cast<uint64_t>(sqlite3_column_int64(s, 0));
  sqlite3_reset(s);
  return n;
}

RunCounters Frontier::recount(const std::string& session_key) {
  Stmt st;
  sqlite3_stmt* s = prepare(st,
                            "SELECT "
                            "COALESCE(SUM(kind = 'page' AND state = 'done'), 0), "
                            "COALESCE(SUM(kind = 'image' AND state = 'done' AND reason = ''), 0), "
                            "COALESCE(SUM(kind = 'image' AND state = 'done' AND reason = 'unchanged'), 0), "
                            "COALESCE(SUM(bytes), 0) FROM frontier WHERE session_key = ?1");
  bind_text(s, 1, session_key);
  if (sqlite3_step(s) != SQLITE_ROW) fail("recount");
  RunCounters c;
  c.pages = static_cast<uint64_t>(sqlite3_column_int64(s, 0));
  c.images = static_cast<uint64_t>(sqlite3_column_int64(s, 1));
  c.images_unchanged = static_cast<uint64_t>(sqlite3_column_int64(s, 2));
  c.bytes = static_cast<uint64_t>(sqlite3_column_int64(s, 3));
  return c;
}

uint64_t Frontier::count_queued(const std::string& session_key) {
  sqlite3_stmt* s = prepare(queued_, "SELECT COUNT(*) FROM frontier WHERE session_key = ?1 AND state = 'queued'");
  bind_text(s, 1, session_key);
  if (sqlite3_step(s) != SQLITE_ROW) fail("count");
  const auto n = static_cast<uint64_t>(sqlite3_column_int64(s, 0));
  sqlite3_reset(s);
  return n;
}

std::map<std::string, std::map<std::string, uint64_t>> Frontier::count_reasons(const std::string& session_key) {
  Stmt st;
  sqlite3_stmt* s = prepare(st,
                            "SELECT state, reason, COUNT(*) FROM frontier WHERE session_key = ?1 "
                            "AND state IN ('failed', 'skipped') GROUP BY state, reason");
  bind_text(s, 1, session_key);
  std::map<std::string, std::map<std::string, uint64_t>> out;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW)
    out[column_text(s, 0)][column_text(s, 1)] = static_cast<uint64_t>(sqlite3_column_int64(s, 2));
  if (rc != SQLITE_DONE) fail("count reasons");
  return out;
}

std::vector<FailedRow> Frontier::failed(const std::string& session_key, size_t limit) {
  Stmt st;
  sqlite3_stmt* s = prepare(st,
                            "SELECT url, source_url, reason, detail FROM frontier WHERE session_key = ?1 "
                            "AND state = 'failed' ORDER BY id LIMIT ?2");
  bind_text(s, 1, session_key);
  sqlite3_bind_int64(s, 2, static_cast<int64_t>(limit));
  std::vector<FailedRow> out;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW)
    out.push_back({column_text(s, 0), column_text(s, 1), column_text(s, 2), column_text(s, 3)});
  if (rc != SQLITE_DONE) fail("list failed");
  return out;
}

}  // namespace kestrel::crawler
