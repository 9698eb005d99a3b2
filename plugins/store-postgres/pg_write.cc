#include "pg_write.h"

#include <climits>
#include <deque>
#include <kestrel/plugin.hpp>
#include <optional>
#include <set>

#include "catalog_schema/catalog_sql.h"

namespace kestrel {
namespace store_postgres {

using catalog_schema::CheckedOp;
using catalog_schema::FailoverValues;
using catalog_schema::ImageValues;
using catalog_schema::SessionValues;

namespace {

// The shared statements (catalog_schema/catalog_sql.h) with PostgreSQL's
// placeholders: images as multi-row VALUES, sessions one row each.
const std::string kImageColumns = std::string(catalog_schema::kImageInsertHead) + " VALUES ";
const int kImageParams = catalog_schema::kImageColumnCount;
const char* const kImageConflict = catalog_schema::kImageOnConflict;
const std::string kUpsertSession = [] {
  std::string sql = std::string(catalog_schema::kSessionInsertHead) + " VALUES (";
  for (int i = 1; i <= catalog_schema::kSessionColumnCount; ++i) sql += (i > 1 ? ", $" : "$") + std::to_string(i);
  return sql + ")" + catalog_schema::kSessionOnConflict;
}();

// Rows per multi-row statement: PostgreSQL allows 65535 parameters.
const size_t kRowsPerStatement = 1000;

// Text parameters of one statement; strings stay put while pointers are used.
class Params {
 public:
  void text(const std::string& s) {
    store_.push_back(s);
    ptrs_.push_back(store_.back().c_str());
  }
  void text(const Poco::Nullable<std::string>& s) {
    if (s.isNull())
      ptrs_.push_back(nullptr);
    else
      text(s.value());
  }
  void number(int64_t v) { text(std::to_string(v)); }
  void number(const Poco::Nullable<Poco::Int64>& v) {
    if (v.isNull())
      ptrs_.push_back(nullptr);
    else
      number(v.value());
  }
  size_t size() const { return ptrs_.size(); }
  const std::vector<const char*>& get() const { return ptrs_; }

 private:
  std::deque<std::string> store_;
  std::vector<const char*> ptrs_;
};

std::string placeholders(size_t first, size_t count) {
  std::string s = "(";
  for (size_t i = 0; i < count; ++i) s += (i ? ", $" : "$") + std::to_string(first + i);
  return s + ")";
}

// One row each: failovers are rare, and ON CONFLICT may touch a row once per statement.
const std::string kUpsertFailover = std::string(catalog_schema::kFailoverInsertHead) + " VALUES " +
                                    placeholders(1, catalog_schema::kFailoverColumnCount) +
                                    catalog_schema::kFailoverOnConflict;

void add_failover(Params& p, const FailoverValues& v, int64_t now_us) {
  p.text(v.event_key);
  p.text(v.kind);
  p.text(v.from_node);
  p.text(v.to_node);
  p.text(v.reason);
  p.number(v.automatic);
  p.number(v.succeeded);
  p.number(v.epoch_before);
  p.number(v.epoch_after);
  p.number(v.started_at_us);
  p.number(v.finished_at_us);
  p.number(v.duration_ms);
  p.number(v.lost_bytes);
  p.number(v.write_pause_ms);
  p.text(v.detail);
  p.number(now_us);  // created_at, used only when the row is new
}

void add_image(Params& p, const ImageValues& v, int64_t now_us) {
  const int64_t at = v.fetched_at_us != 0 ? v.fetched_at_us : now_us;
  p.text(v.url);
  p.text(v.source_url);
  p.text(v.filename);
  p.text(v.file_path);
  p.number(v.file_size);
  p.number(v.width);
  p.number(v.height);
  p.text(v.format);
  p.text(v.mime_type);
  p.text(v.md5);
  p.text(v.sha256);
  p.text(v.etag);
  p.text(v.last_modified);
  p.number(v.category_id);
  p.number(v.crawl_session_id);
  p.number(at);  // created_at, used only when the row is new
  p.number(at);  // updated_at
}


// Executes ops[begin, end), all of one kind and (for upserts) with distinct
// urls, as one statement.
void execute_ops(PgConnection& conn, const std::vector<CheckedOp>& ops, size_t begin, size_t end, int64_t now_us,
                 const std::string& context) {
  Params p;
  const int32_t kind = ops[begin].kind;
  if (kind == KESTREL_OP_UPSERT_IMAGE) {
    std::string sql = kImageColumns;
    for (size_t i = begin; i < end; ++i) {
      sql += (i == begin ? "" : ", ") + placeholders(p.size() + 1, kImageParams);
      add_image(p, ops[i].image, now_us);
    }
    conn.exec_params(sql + kImageConflict, p.get(), context);
  } else if (kind == KESTREL_OP_DELETE_IMAGE) {
    for (size_t i = begin; i < end; ++i) p.text(ops[i].image.url);
    conn.exec_params("DELETE FROM images WHERE url IN " + placeholders(1, end - begin), p.get(), context);
  } else if (kind == KESTREL_OP_RECORD_FAILOVER) {
    for (size_t i = begin; i < end; ++i) {
      Params f;
      add_failover(f, ops[i].failover, now_us);
      conn.exec_params(kUpsertFailover, f.get(), end - begin == 1 ? context : describe_op(i, ops[i]));
    }
  } else {
    for (size_t i = begin; i < end; ++i) {
      Params s;
      const SessionValues& v = ops[i].session;
      s.text(v.session_key);
      s.text(v.node_name);
      s.text(v.seeds_json);
      s.text(v.state);
      s.number(v.started_at_us);
      s.number(v.finished_at_us);
      s.number(v.pages);
      s.number(v.images);
      s.number(v.bytes);
      s.number(v.errors);
      s.text(v.errors_json);
      s.number(now_us);
      conn.exec_params(kUpsertSession, s.get(), end - begin == 1 ? context : describe_op(i, ops[i]));
    }
  }
}

// Consecutive operations of one kind run as one statement, split where an
// upsert's url repeats (ON CONFLICT may touch a row once per statement).
void run_all(PgConnection& conn, const std::vector<CheckedOp>& ops, int64_t now_us) {
  for (size_t begin = 0; begin < ops.size();) {
    size_t end = begin + 1;
    std::set<std::string> urls{ops[begin].image.url};
    while (end < ops.size() && ops[end].kind == ops[begin].kind && end - begin < kRowsPerStatement &&
           (ops[end].kind != KESTREL_OP_UPSERT_IMAGE || urls.insert(ops[end].image.url).second))
      ++end;
    const std::string context = end - begin == 1 ? describe_op(begin, ops[begin])
                                                 : "ops #" + std::to_string(begin) + "-#" + std::to_string(end - 1);
    execute_ops(conn, ops, begin, end, now_us, context);
    begin = end;
  }
}

// After a batch failed with INVALID, finds the operation at fault by running
// each alone in a throw-away transaction, and throws its error. Rethrows
// `original` when none fails alone.
[[noreturn]] void blame_one(PgConnection& conn, const std::vector<CheckedOp>& ops, int64_t now_us,
                            const Error& original) {
  conn.rollback();
  conn.exec("BEGIN", "BEGIN");
  for (size_t i = 0; i < ops.size(); ++i) {
    try {
      execute_ops(conn, ops, i, i + 1, now_us, describe_op(i, ops[i]));
    } catch (const Error&) {
      conn.rollback();
      throw;
    }
  }
  conn.rollback();
  throw original;
}

void fence(PgConnection& conn, uint64_t epoch, int64_t now_us) {
  PgResult r = conn.exec("BEGIN; SELECT epoch FROM cluster_state WHERE id = 1 FOR UPDATE", "epoch check");
  if (PQntuples(r.get()) != 1) throw Error(KESTREL_ERR_INTERNAL, conn.server() + ": cluster_state has no row 1");
  const int64_t seen = std::stoll(PQgetvalue(r.get(), 0, 0));
  const auto mine = static_cast<int64_t>(epoch);
  if (mine < seen)
    throw Error(KESTREL_ERR_FENCED, conn.server() + ": write at epoch " + std::to_string(epoch) +
                                        " refused: this store has seen epoch " + std::to_string(seen) +
                                        " (a newer primary exists)");
  if (mine > seen) {
    const std::string e = std::to_string(mine), at = std::to_string(now_us);
    conn.exec_params("UPDATE cluster_state SET epoch = $1, updated_at = $2 WHERE id = 1", {e.c_str(), at.c_str()},
                     "recording epoch " + e);
  }
}

}  // namespace

uint64_t parse_lsn(const std::string& text) {
  const size_t slash = text.find('/');
  try {
    if (slash == std::string::npos || slash == 0 || slash + 1 == text.size()) throw std::invalid_argument(text);
    size_t used_hi = 0, used_lo = 0;
    const uint64_t hi = std::stoull(text.substr(0, slash), &used_hi, 16);
    const uint64_t lo = std::stoull(text.substr(slash + 1), &used_lo, 16);
    if (used_hi != slash || used_lo != text.size() - slash - 1 || hi > 0xffffffffu || lo > 0xffffffffu)
      throw std::invalid_argument(text);
    return (hi << 32) | lo;
  } catch (const std::exception&) {
    throw Error(KESTREL_ERR_INTERNAL, "'" + text + "' is not a pg_lsn (X/Y in hex)");
  }
}

uint64_t commit_batch(PgConnection& conn, uint64_t epoch, const std::vector<CheckedOp>& ops, int64_t now_us) {
  if (epoch > static_cast<uint64_t>(INT64_MAX))
    throw Error(KESTREL_ERR_INVALID, "epoch " + std::to_string(epoch) + " is above 2^63-1");
  try {
    fence(conn, epoch, now_us);
    try {
      run_all(conn, ops, now_us);
    } catch (const Error& e) {
      if (e.code() == KESTREL_ERR_INVALID && ops.size() > 1 && !conn.broken()) blame_one(conn, ops, now_us, e);
      throw;
    }
  } catch (...) {
    conn.rollback();
    throw;
  }
  conn.take_notices();
  // One round trip: the position is read right after the commit record.
  PgResult r = conn.exec("COMMIT; SELECT pg_current_wal_insert_lsn()", "COMMIT", Phase::kCommit);
  for (const PgNotice& n : conn.take_notices()) {
    if (n.severity == "WARNING" && n.message.find("synchronous replication") != std::string::npos)
      throw Error(KESTREL_ERR_UNKNOWN_OUTCOME,
                  conn.server() + ": COMMIT: " + n.message +
                      ": the batch is committed on this server but may not have reached the synchronous standbys "
                      "(retry it: the write is idempotent)",
                  true);
  }
  if (PQntuples(r.get()) != 1) throw Error(KESTREL_ERR_INTERNAL, conn.server() + ": no WAL position after COMMIT");
  return parse_lsn(PQgetvalue(r.get(), 0, 0));
}

}  // namespace store_postgres
}  // namespace kestrel
