#include "runtime/state_store.h"

#include <kestrel/plugin.hpp>
#include <sqlite3.h>

#include <utility>
#include <vector>

namespace kestrel::host {
namespace {

const char* const kSchema = R"sql(
CREATE TABLE IF NOT EXISTS host_kv (
  component TEXT NOT NULL,
  key       BLOB NOT NULL,
  value     BLOB NOT NULL,
  version   INTEGER NOT NULL,
  PRIMARY KEY (component, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS host_kv_clock (
  id   INTEGER PRIMARY KEY CHECK (id = 1),
  last INTEGER NOT NULL
);
INSERT OR IGNORE INTO host_kv_clock (id, last) VALUES (1, 0);
)sql";

// A statement of the store's cache, borrowed for one use: bindings and
// state are reset when it goes out of scope.
class Stmt {
 public:
  explicit Stmt(sqlite3_stmt* s) : s_(s) {}
  ~Stmt() {
    if (s_) {
      sqlite3_reset(s_);
      sqlite3_clear_bindings(s_);
    }
  }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  explicit operator bool() const { return s_ != nullptr; }
  sqlite3_stmt* get() const { return s_; }
  // Keys are BLOBs so that ordering is bytewise and any UTF-8 is exact.
  void bind_blob(int i, const std::string& v) { sqlite3_bind_blob(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT); }
  void bind_text(int i, const std::string& v) { sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT); }
  void bind_int(int i, uint64_t v) { sqlite3_bind_int64(s_, i, static_cast<sqlite3_int64>(v)); }
  int step() { return sqlite3_step(s_); }
  std::string column_blob(int i) const {
    const void* p = sqlite3_column_blob(s_, i);
    return p ? std::string(static_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(s_, i))) : std::string();
  }
  uint64_t column_int(int i) const { return static_cast<uint64_t>(sqlite3_column_int64(s_, i)); }

 private:
  sqlite3_stmt* s_ = nullptr;
};

// The smallest key greater than every key starting with `prefix`, or "" when
// there is none (prefix all 0xff, or empty).
std::string prefix_end(std::string prefix) {
  while (!prefix.empty()) {
    unsigned char last = static_cast<unsigned char>(prefix.back());
    if (last != 0xff) {
      prefix.back() = static_cast<char>(last + 1);
      return prefix;
    }
    prefix.pop_back();
  }
  return prefix;
}

}  // namespace

// BEGIN IMMEDIATE ... COMMIT, rolled back unless committed.
class StateStore::Tx {
 public:
  explicit Tx(StateStore& s) : s_(s) { s_.exec_locked("BEGIN IMMEDIATE"); }
  ~Tx() {
    if (!done_) sqlite3_exec(s_.db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  void commit() {
    s_.exec_locked("COMMIT");
    done_ = true;
  }

 private:
  StateStore& s_;
  bool done_ = false;
};

StateStore::StateStore(std::string path) : path_(std::move(path)) {}

StateStore::~StateStore() {
  for (auto& st : statements_) sqlite3_finalize(st.second);
  if (db_) sqlite3_close_v2(db_);
}

sqlite3_stmt* StateStore::statement_locked(const char* sql) {
  auto it = statements_.find(sql);
  if (it != statements_.end()) return it->second;
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr) != SQLITE_OK)
    fail_locked(std::string("prepare ") + sql);
  statements_.emplace(sql, s);
  return s;
}

void StateStore::fail_locked(const std::string& what) const {
  throw Error(KESTREL_ERR_IO, "state database " + path_ + ": " + what + ": " +
                                  (db_ ? sqlite3_errmsg(db_) : "cannot allocate a connection"),
              true);
}

void StateStore::exec_locked(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errmsg(db_);
    sqlite3_free(err);
    throw Error(KESTREL_ERR_IO, "state database " + path_ + ": " + msg, true);
  }
}

void StateStore::open_locked() {
  if (db_) return;
  sqlite3* raw = nullptr;
  const int rc =
      sqlite3_open_v2(path_.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  db_ = raw;  // a handle is returned even on failure and must be closed
  if (rc != SQLITE_OK) {
    std::string msg = raw ? sqlite3_errmsg(raw) : "out of memory";
    sqlite3_close_v2(raw);
    db_ = nullptr;
    throw Error(KESTREL_ERR_IO, "state database " + path_ + ": cannot open: " + msg, true);
  }
  sqlite3_busy_timeout(db_, 5000);
  try {
    exec_locked("PRAGMA journal_mode=WAL");
    exec_locked("PRAGMA synchronous=FULL");
    exec_locked(kSchema);
  } catch (...) {
    sqlite3_close_v2(db_);
    db_ = nullptr;
    throw;
  }
}

void StateStore::check_key(const std::string& key) {
  if (key.empty() || key.size() > kMaxKeyBytes)
    throw Error(KESTREL_ERR_INVALID, "key must be 1-" + std::to_string(kMaxKeyBytes) + " bytes, not " +
                                         std::to_string(key.size()));
}

uint64_t StateStore::next_version_locked() {
  Stmt s(statement_locked("UPDATE host_kv_clock SET last = last + 1 WHERE id = 1 RETURNING last"));
  if (s.step() != SQLITE_ROW) fail_locked("cannot advance the version clock");
  return s.column_int(0);
}

void StateStore::write_locked(const std::string& ns, const std::string& key, const std::string& value,
                              uint64_t version) {
  if (value.size() > kMaxValueBytes)
    throw Error(KESTREL_ERR_INVALID, "value of " + std::to_string(value.size()) + " bytes is over the " +
                                         std::to_string(kMaxValueBytes) + "-byte limit");
  Stmt s(statement_locked("INSERT INTO host_kv (component, key, value, version) VALUES (?1, ?2, ?3, ?4) "
                          "ON CONFLICT (component, key) DO UPDATE SET value = excluded.value, version = excluded.version"));
  s.bind_text(1, ns);
  s.bind_blob(2, key);
  s.bind_blob(3, value);
  s.bind_int(4, version);
  if (s.step() != SQLITE_DONE) fail_locked("write");
}

std::optional<StateStore::Entry> StateStore::get_locked(const std::string& ns, const std::string& key) {
  Stmt s(statement_locked("SELECT value, version FROM host_kv WHERE component = ?1 AND key = ?2"));
  s.bind_text(1, ns);
  s.bind_blob(2, key);
  const int rc = s.step();
  if (rc == SQLITE_DONE) return std::nullopt;
  if (rc != SQLITE_ROW) fail_locked("read");
  return Entry{s.column_blob(0), s.column_int(1)};
}

std::optional<StateStore::Entry> StateStore::get(const std::string& ns, const std::string& key) {
  check_key(key);
  std::lock_guard<std::mutex> lock(mu_);
  open_locked();
  return get_locked(ns, key);
}

uint64_t StateStore::put(const std::string& ns, const std::string& key, const std::string& value) {
  check_key(key);
  std::lock_guard<std::mutex> lock(mu_);
  open_locked();
  Tx tx(*this);
  const uint64_t v = next_version_locked();
  write_locked(ns, key, value, v);
  tx.commit();
  return v;
}

bool StateStore::compare_and_set(const std::string& ns, const std::string& key, uint64_t expected,
                                 const std::string& value, uint64_t* version) {
  check_key(key);
  std::lock_guard<std::mutex> lock(mu_);
  open_locked();
  Tx tx(*this);  // IMMEDIATE: the read and the write see no other writer in between
  const std::optional<Entry> current = get_locked(ns, key);
  const uint64_t have = current ? current->version : 0;
  if (have != expected) {
    *version = have;
    return false;
  }
  const uint64_t v = next_version_locked();
  write_locked(ns, key, value, v);
  tx.commit();
  *version = v;
  return true;
}

bool StateStore::remove(const std::string& ns, const std::string& key) {
  check_key(key);
  std::lock_guard<std::mutex> lock(mu_);
  open_locked();
  Tx tx(*this);
  Stmt s(statement_locked("DELETE FROM host_kv WHERE component = ?1 AND key = ?2"));
  s.bind_text(1, ns);
  s.bind_blob(2, key);
  if (s.step() != SQLITE_DONE) fail_locked("delete");
  const bool existed = sqlite3_changes(db_) > 0;
  if (existed) next_version_locked();  // a delete is a change: later writes get later versions
  tx.commit();
  return existed;
}

void StateStore::list(const std::string& ns, const std::string& prefix,
                      const std::function<bool(const std::string&, const Entry&)>& fn) {
  // Collected first, so fn runs without the lock and may call the store.
  std::vector<std::pair<std::string, Entry>> rows;
  {
    std::lock_guard<std::mutex> lock(mu_);
    list_locked(ns, prefix, &rows);
  }
  for (const auto& r : rows)
    if (!fn(r.first, r.second)) return;
}

void StateStore::list_locked(const std::string& ns, const std::string& prefix,
                             std::vector<std::pair<std::string, Entry>>* rows) {
  open_locked();
  const std::string end = prefix_end(prefix);
  Stmt s(statement_locked(end.empty() ? "SELECT key, value, version FROM host_kv WHERE component = ?1 AND key >= ?2 ORDER BY key"
                          : "SELECT key, value, version FROM host_kv WHERE component = ?1 AND key >= ?2 AND key < ?3 "
                            "ORDER BY key"));
  s.bind_text(1, ns);
  s.bind_blob(2, prefix);
  if (!end.empty()) s.bind_blob(3, end);
  for (;;) {
    const int rc = s.step();
    if (rc == SQLITE_DONE) return;
    if (rc != SQLITE_ROW) fail_locked("list");
    rows->emplace_back(s.column_blob(0), Entry{s.column_blob(1), s.column_int(2)});
  }
}

}  // namespace kestrel::host
