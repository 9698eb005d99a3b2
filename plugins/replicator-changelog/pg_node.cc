#include "pg_node.h"

#include <Poco/DigestEngine.h>
#include <Poco/MD5Engine.h>
#include <Poco/Timestamp.h>
#include <catalog_schema/replicated_tables.h>

#include <kestrel/plugin.hpp>
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <set>

#include "catalog_file.h"
#include "pg_connection.h"
#include "pg_migration_target.h"

namespace kestrel {
namespace replicator_changelog {

using catalog_schema::replicated_table;
using catalog_schema::replicated_table_rank;
using catalog_schema::replicated_tables;
using catalog_schema::ReplicatedTable;
using store_postgres::PgConnection;
using store_postgres::PgResult;
using store_postgres::Phase;

namespace {

int64_t now_us() { return Poco::Timestamp().epochMicroseconds(); }

std::string column_list(const ReplicatedTable& t, const char* prefix = "") {
  std::string cols;
  for (size_t i = 0; i < t.columns.size(); ++i) cols += std::string(i ? ", " : "") + prefix + t.columns[i];
  return cols;
}

// Upserts the rows of a JSON array of row images ($1) by id.
std::string upsert_sql(const ReplicatedTable& t) {
  std::string set;
  for (size_t i = 1; i < t.columns.size(); ++i)
    set += std::string(i > 1 ? ", " : "") + t.columns[i] + " = EXCLUDED." + t.columns[i];
  const std::string cols = column_list(t);
  return "INSERT INTO " + std::string(t.name) + " (" + cols + ") SELECT " + cols + " FROM json_populate_recordset(NULL::" +
         t.name + ", $1::json) ON CONFLICT (id) DO UPDATE SET " + set;
}

// Each row as row_to_json over the replicated columns in schema order: the
// same text as SQLite's json_object() (catalog_schema::sqlite_row_image).
std::string image_select(const ReplicatedTable& t, const std::string& where) {
  return "SELECT x.id, row_to_json(x)::text FROM (SELECT " + column_list(t) + " FROM " + t.name + where +
         ") x ORDER BY x.id";
}

int64_t int_at(const PGresult* r, int row, int col) {
  return PQgetisnull(r, row, col) ? 0 : std::strtoll(PQgetvalue(r, row, col), nullptr, 10);
}

std::string json_array(const std::vector<const std::string*>& images) {
  size_t n = 2;
  for (const std::string* i : images) n += i->size() + 1;
  std::string out;
  out.reserve(n);
  out += '[';
  for (size_t i = 0; i < images.size(); ++i) {
    if (i) out += ',';
    out += *images[i];
  }
  out += ']';
  return out;
}

std::string id_array(const std::vector<int64_t>& ids) {
  std::string out = "{";
  for (size_t i = 0; i < ids.size(); ++i) out += (i ? "," : "") + std::to_string(ids[i]);
  return out + "}";
}

// Upserts `images` (distinct ids) into `t`.
void upsert(PgConnection& c, const ReplicatedTable& t, const std::vector<const std::string*>& images) {
  if (images.empty()) return;
  const std::string body = json_array(images);
  c.exec_params(upsert_sql(t), {body.c_str()}, std::string("upserting rows of ") + t.name);
}

}  // namespace

PgNode::PgNode(NodeSpec spec, int64_t statement_timeout_ms)
    : spec_(std::move(spec)), statement_timeout_ms_(statement_timeout_ms) {}

PgNode::~PgNode() = default;

std::unique_ptr<PgConnection> PgNode::open(const std::string& conninfo) const {
  store_postgres::PgOptions o;
  o.conninfo = conninfo;
  o.server = spec_.server;
  o.statement_timeout_ms = statement_timeout_ms_;
  auto c = std::make_unique<PgConnection>(o);
  PgResult r = c->exec("SELECT pg_is_in_recovery()", "reading the server's role");
  if (std::string(PQgetvalue(r.get(), 0, 0)) == "t")
    throw Error(KESTREL_ERR_INVALID, "node " + spec_.name + " (" + spec_.server +
                                         ") is a PostgreSQL physical standby (in recovery): a change-log standby "
                                         "must be a writable server of its own");
  store_postgres::migrate_locked(*c);  // idempotent; an advisory lock orders two connections
  return c;
}

PgConnection& PgNode::conn() {
  if (conn_ && !conn_->broken()) return *conn_;
  conn_.reset();
  conn_ = open(spec_.conninfo);
  return *conn_;
}

template <typename F>
auto PgNode::guarded(const std::string& what, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const Error& e) {
    if (conn_) {
      conn_->rollback();
      if (conn_->broken()) conn_.reset();
    }
    if (e.code() == KESTREL_ERR_FENCED || e.code() == KESTREL_ERR_INVALID) throw;
    throw Error(e.code(), "node " + spec_.name + ": " + what + ": " + e.what(), e.retryable());
  } catch (...) {
    conn_.reset();  // whatever it was (std::bad_alloc...), no transaction is left open on the server
    throw;
  }
}

FileState PgNode::read_state(PgConnection& c, const char* lock_clause) {
  PgResult r = c.exec(
      std::string("SELECT r.role, r.source, r.promoted_at_seq, c.epoch, m.commit_seq,"
                  " COALESCE((SELECT MAX(applied_seq) FROM replica_positions), 0)"
                  " FROM replication_state r, cluster_state c, catalog_meta m"
                  " WHERE r.id = 1 AND c.id = 1 AND m.id = 1") +
          lock_clause,
      "reading the replication state");
  if (PQntuples(r.get()) != 1)
    throw Error(KESTREL_ERR_INTERNAL, "node " + spec_.name + ": replication_state has no row 1");
  FileState f;
  f.role = PQgetvalue(r.get(), 0, 0);
  f.source = PQgetisnull(r.get(), 0, 1) ? "" : PQgetvalue(r.get(), 0, 1);
  f.promoted_at_seq = int_at(r.get(), 0, 2);
  f.epoch = int_at(r.get(), 0, 3);
  f.commit_seq = int_at(r.get(), 0, 4);
  f.head_seq = int_at(r.get(), 0, 5);
  f.first_seq = 0;
  if (f.role == "none" && f.commit_seq == 0) {
    // store-postgres never advances commit_seq: a database it wrote would
    // read as new and be replaced by a copy. Rows make it a catalog of its
    // own (bootstrap with force replaces it).
    std::string any;
    for (const ReplicatedTable& t : replicated_tables())
      any += std::string(any.empty() ? "" : " OR ") + "EXISTS (SELECT 1 FROM " + t.name + ")";
    PgResult rows = c.exec("SELECT " + any, "looking for rows of its own");
    if (std::string(PQgetvalue(rows.get(), 0, 0)) == "t") f.commit_seq = 1;
  }
  return f;
}

FileState PgNode::state() {
  // Its own connection: the health check never waits behind an apply or a
  // copy holding mu_, and gives up on an unreachable server after 2 s
  // (libpq takes the last connect_timeout of a conninfo).
  std::lock_guard<std::mutex> lock(state_mu_);
  try {
    if (!state_conn_ || state_conn_->broken()) {
      state_conn_.reset();
      state_conn_ = open(spec_.conninfo + " connect_timeout=2");
    }
    return read_state(*state_conn_, "");
  } catch (const Error& e) {
    if (state_conn_ && state_conn_->broken()) state_conn_.reset();
    if (e.code() == KESTREL_ERR_INVALID) throw;
    throw Error(KESTREL_ERR_UNAVAILABLE, "node " + spec_.name + ": reading its replication state: " + e.what(),
                true);  // the health check: unreachable, whatever the cause
  }
}

int64_t PgNode::head_seq() { return state().head_seq; }

std::vector<Entry> PgNode::entries_after(int64_t /*seq*/, size_t /*limit*/) { return {}; }

void PgNode::backlog(int64_t /*seq*/, int64_t /*upto*/, int64_t* bytes, int64_t* oldest_created_at_us) {
  *bytes = 0;
  *oldest_created_at_us = 0;
}

void PgNode::truncate(int64_t /*seq*/) {}

std::vector<Entry> PgNode::entries_after_older_than(int64_t /*seq*/, int64_t /*epoch*/) { return {}; }

std::string PgNode::conflicts_json(uint32_t /*limit*/) { return "[]"; }

FileState PgNode::begin_standby_write(bool allow_none, const char* nothing_done) {
  conn().exec("BEGIN", "BEGIN");
  const FileState f = read_state(conn(), " FOR UPDATE OF r");
  if (f.role != "standby" && !(allow_none && f.role == "none"))
    throw Error(KESTREL_ERR_FENCED, "node " + spec_.name + " is " + f.role + ", not a standby: " + nothing_done);
  return f;
}

int64_t PgNode::apply(const std::string& source, const std::vector<Entry>& entries) {
  std::lock_guard<std::mutex> lock(mu_);
  return guarded("applying changes", [&]() -> int64_t {
    const FileState f = begin_standby_write(true, "nothing applied");
    PgConnection& c = conn();
    int64_t head = f.head_seq, epoch = f.epoch, commit_seq = f.commit_seq;
    std::vector<const Entry*> todo;
    for (const Entry& e : entries) {
      if (e.seq <= head) continue;  // applied before: a repeat changes nothing
      if (e.epoch < epoch)
        throw Error(KESTREL_ERR_FENCED, "node " + spec_.name + " refuses change " + std::to_string(e.seq) +
                                            " of epoch " + std::to_string(e.epoch) + ": it has seen epoch " +
                                            std::to_string(epoch) + " (a newer primary exists)");
      replicated_table(e.table);
      if (e.op != "delete" && e.image.isNull())
        throw Error(KESTREL_ERR_INVALID, "change " + std::to_string(e.seq) + " is an upsert without a row image");
      epoch = std::max(epoch, e.epoch);
      head = e.seq;
      commit_seq = e.commit_seq;
      todo.push_back(&e);
    }
    if (todo.empty()) {
      c.rollback();
      return head;
    }
    // Each run of one table and operation, in log order, as one statement.
    // A statement may not upsert a row twice, and merging two images of one
    // row would move its change ahead of the rows between them (a UNIQUE
    // url or name freed in between would then collide): a repeated id starts
    // the next statement.
    for (size_t begin = 0; begin < todo.size();) {
      const Entry& first = *todo[begin];
      const bool deleting = first.op == "delete";
      std::set<int64_t> ids{first.row_id};
      size_t end = begin + 1;
      while (end < todo.size() && todo[end]->table == first.table && todo[end]->op == first.op &&
             (deleting || ids.insert(todo[end]->row_id).second))
        ++end;
      const ReplicatedTable& t = replicated_table(first.table);
      if (deleting) {
        std::vector<int64_t> del;
        for (size_t i = begin; i < end; ++i) del.push_back(todo[i]->row_id);
        const std::string arr = id_array(del);
        c.exec_params("DELETE FROM " + std::string(t.name) + " WHERE id = ANY($1::bigint[])", {arr.c_str()},
                      std::string("deleting rows of ") + t.name);
      } else {
        std::vector<const std::string*> images;
        for (size_t i = begin; i < end; ++i) images.push_back(&todo[i]->image.value());
        upsert(c, t, images);
      }
      begin = end;
    }
    const std::string at = std::to_string(now_us()), h = std::to_string(head), cs = std::to_string(commit_seq),
                      ep = std::to_string(epoch);
    c.exec_params("UPDATE cluster_state SET epoch = $1, primary_node = $2, updated_at = $3 WHERE id = 1",
                  {ep.c_str(), source.c_str(), at.c_str()}, "recording the epoch");
    c.exec_params("UPDATE catalog_meta SET commit_seq = $1, updated_at = $2 WHERE id = 1", {cs.c_str(), at.c_str()},
                  "recording the commit sequence");
    c.exec_params("INSERT INTO replica_positions (node, applied_seq, applied_commit_seq, epoch, updated_at)"
                  " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (node) DO UPDATE SET applied_seq = EXCLUDED.applied_seq,"
                  " applied_commit_seq = EXCLUDED.applied_commit_seq, epoch = EXCLUDED.epoch,"
                  " updated_at = EXCLUDED.updated_at",
                  {source.c_str(), h.c_str(), cs.c_str(), ep.c_str(), at.c_str()}, "recording the position");
    c.exec_params("UPDATE replication_state SET role = 'standby', source = $1, updated_at = $2 WHERE id = 1",
                  {source.c_str(), at.c_str()}, "recording the source");
    c.exec("COMMIT", "COMMIT", Phase::kCommit);
    return head;
  });
}

void PgNode::copy_from(const std::string& source, CatalogFile& snapshot) {
  const FileState ss = snapshot.state();
  std::lock_guard<std::mutex> lock(mu_);
  guarded("copying the catalog of " + source, [&] {
    PgConnection& c = conn();
    c.exec("BEGIN", "BEGIN");
    // A whole table per statement: no statement timeout, but the state
    // row's lock is waited for only that long (a half-open session of an
    // earlier call may hold it).
    c.exec("SET LOCAL statement_timeout = 0", "lifting the statement timeout for the copy");
    if (statement_timeout_ms_ > 0)
      c.exec("SET LOCAL lock_timeout = " + std::to_string(statement_timeout_ms_), "bounding the wait for the lock");
    const FileState f = read_state(conn(), " FOR UPDATE OF r");
    if (f.role == "primary" || ss.epoch < f.epoch)
      throw Error(KESTREL_ERR_FENCED, "node " + spec_.name + " is " + f.role + " at epoch " + std::to_string(f.epoch) +
                                          ": a copy of " + source + " at epoch " + std::to_string(ss.epoch) +
                                          " is refused (the copy is older)");
    const auto& tables = replicated_tables();
    // DELETE, not TRUNCATE: readers keep seeing the old rows until COMMIT.
    for (auto t = tables.rbegin(); t != tables.rend(); ++t) c.exec("DELETE FROM " + std::string(t->name), "emptying");
    for (const ReplicatedTable& t : tables) {
      const size_t chunk = t.self_referencing ? static_cast<size_t>(INT64_MAX) : 5000;
      int64_t after = 0;
      for (;;) {
        const std::vector<RowImage> rows = snapshot.rows_after(t.name, after, chunk);
        if (rows.empty()) break;
        std::vector<const std::string*> images;
        for (const RowImage& r : rows) images.push_back(&r.image);
        upsert(c, t, images);
        after = rows.back().id;
      }
    }
    const std::string at = std::to_string(now_us()), h = std::to_string(ss.head_seq),
                      cs = std::to_string(ss.commit_seq), ep = std::to_string(ss.epoch);
    c.exec("DELETE FROM change_log", "emptying the change log");
    c.exec("DELETE FROM replica_positions", "emptying the positions");
    c.exec_params("INSERT INTO replica_positions (node, applied_seq, applied_commit_seq, epoch, updated_at)"
                  " VALUES ($1, $2, $3, $4, $5)",
                  {source.c_str(), h.c_str(), cs.c_str(), ep.c_str(), at.c_str()}, "recording the position");
    c.exec_params("UPDATE cluster_state SET epoch = $1, primary_node = $2, updated_at = $3 WHERE id = 1",
                  {ep.c_str(), source.c_str(), at.c_str()}, "recording the epoch");
    c.exec_params("UPDATE catalog_meta SET commit_seq = $1, updated_at = $2 WHERE id = 1", {cs.c_str(), at.c_str()},
                  "recording the commit sequence");
    c.exec_params("UPDATE replication_state SET role = 'standby', source = $1, promoted_at_seq = 0, updated_at = $2"
                  " WHERE id = 1",
                  {source.c_str(), at.c_str()}, "recording the source");
    c.exec("COMMIT", "COMMIT", Phase::kCommit);
  });
}

void PgNode::promote(uint64_t /*epoch*/) {
  throw Error(KESTREL_ERR_INVALID, "node " + spec_.name + " is a PostgreSQL standby of the change log: it keeps no log "
                                   "of its own and is never promoted (nofailover: true); fail over to an SQLite node");
}

void PgNode::set_role(const std::string& role, const std::string& source) {
  std::lock_guard<std::mutex> lock(mu_);
  guarded("setting its role to " + role, [&] {
    const std::string at = std::to_string(now_us());
    conn().exec_params("UPDATE replication_state SET role = $1, source = $2, updated_at = $3 WHERE id = 1",
                       {role.c_str(), source.empty() ? nullptr : source.c_str(), at.c_str()}, "setting the role");
  });
}

void PgNode::record_position(const std::string& /*standby*/, int64_t /*seq*/, int64_t /*commit_seq*/,
                             int64_t /*epoch*/) {
  throw Error(KESTREL_ERR_INVALID, "node " + spec_.name + " is a PostgreSQL standby: it records no standby positions");
}

void PgNode::record_conflicts(const std::string& /*node*/, const std::vector<Entry>& /*entries*/) {
  throw Error(KESTREL_ERR_INVALID, "node " + spec_.name + " is a PostgreSQL standby: it keeps no conflicts");
}

std::vector<RowImage> PgNode::row_images(const IdRange& range) {
  const ReplicatedTable& t = replicated_table(range.table);
  std::lock_guard<std::mutex> lock(mu_);
  return guarded("reading rows of " + range.table, [&] {
    const std::string from = std::to_string(range.from_id), to = std::to_string(range.to_id);
    PgResult r = conn().exec_params(image_select(t, " WHERE id BETWEEN $1 AND $2"), {from.c_str(), to.c_str()},
                                    "reading rows");
    std::vector<RowImage> out;
    out.reserve(static_cast<size_t>(PQntuples(r.get())));
    for (int i = 0; i < PQntuples(r.get()); ++i) out.push_back({int_at(r.get(), i, 0), PQgetvalue(r.get(), i, 1)});
    return out;
  });
}

void PgNode::repair(const std::vector<IdRange>& ranges,
                    const std::function<std::vector<RowImage>(const IdRange&)>& fetch, int64_t* written,
                    int64_t* deleted) {
  *written = 0;
  *deleted = 0;
  std::lock_guard<std::mutex> lock(mu_);
  guarded("repairing ranges", [&] {
    begin_standby_write(false, "nothing repaired");
    PgConnection& c = conn();
    c.exec("SET LOCAL statement_timeout = 0", "lifting the statement timeout for the repair");
    // The primary's rows of every range first, read while this node's
    // write lock is held; then, per table, one DELETE (children's tables
    // first) and one upsert of all its ranges (parents' tables first), so
    // that a row referencing one of its own table (categories.parent_id)
    // in another range finds it at the statement's end.
    const size_t ntables = replicated_tables().size();
    std::vector<std::string> gone(ntables);  // per table rank: the DELETE's condition
    std::vector<std::vector<RowImage>> rows(ntables);
    for (const IdRange& r : ranges) {
      const size_t rank = replicated_table_rank(r.table);
      std::vector<RowImage> got = fetch(r);
      std::vector<int64_t> ids;
      for (const RowImage& row : got) ids.push_back(row.id);
      gone[rank] += std::string(gone[rank].empty() ? "" : " OR ") + "(id BETWEEN " + std::to_string(r.from_id) +
                    " AND " + std::to_string(r.to_id) + " AND NOT (id = ANY('" + id_array(ids) + "'::bigint[])))";
      for (RowImage& row : got) rows[rank].push_back(std::move(row));
    }
    for (size_t rank = ntables; rank-- > 0;) {
      if (gone[rank].empty()) continue;
      const ReplicatedTable& t = replicated_tables()[rank];
      PgResult d = c.exec("DELETE FROM " + std::string(t.name) + " WHERE " + gone[rank],
                          std::string("deleting rows of ") + t.name + " only the standby holds");
      *deleted += std::strtoll(PQcmdTuples(d.get()), nullptr, 10);
    }
    for (size_t rank = 0; rank < ntables; ++rank) {
      std::vector<const std::string*> images;
      for (const RowImage& row : rows[rank]) images.push_back(&row.image);
      upsert(c, replicated_tables()[rank], images);
      *written += static_cast<int64_t>(images.size());
    }
    c.exec("COMMIT", "COMMIT", Phase::kCommit);
  });
}

catalog_schema::CatalogSummary PgNode::summary(int64_t range_size, int64_t* head) {
  std::lock_guard<std::mutex> lock(mu_);
  return guarded("summarizing its tables", [&] {
    PgConnection& c = conn();
    c.exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", "BEGIN");  // one snapshot for every table
    c.exec("SET LOCAL statement_timeout = 0", "lifting the statement timeout for the summary");  // reads every row
    *head = read_state(c, "").head_seq;
    catalog_schema::CatalogSummary out;
    for (const ReplicatedTable& t : replicated_tables()) {
      catalog_schema::TableSummary& o = out[t.name];
      bool has_updated = false;
      for (const char* col : t.columns) has_updated = has_updated || std::string(col) == "updated_at";
      PgResult s = c.exec("SELECT COUNT(*), MIN(id), MAX(id)" + std::string(has_updated ? ", MAX(updated_at)" : "") +
                              " FROM " + t.name,
                          "counting rows");
      o.rows = int_at(s.get(), 0, 0);
      if (!PQgetisnull(s.get(), 0, 1)) o.min_id = int_at(s.get(), 0, 1);
      if (!PQgetisnull(s.get(), 0, 2)) o.max_id = int_at(s.get(), 0, 2);
      if (has_updated && !PQgetisnull(s.get(), 0, 3)) o.newest_updated_at = int_at(s.get(), 0, 3);
      // An MD5 per id range over the rows' JSON images, as CatalogFile::summary.
      PgResult r = c.exec(image_select(t, ""), "reading rows");
      Poco::MD5Engine md5;
      int64_t current = -1;
      auto flush = [&] {
        if (current >= 0) o.ranges[current].md5 = Poco::DigestEngine::digestToHex(md5.digest());  // resets md5
      };
      for (int i = 0; i < PQntuples(r.get()); ++i) {
        const int64_t range = (int_at(r.get(), i, 0) - 1) / range_size;
        if (range != current) {
          flush();
          current = range;
        }
        md5.update(PQgetvalue(r.get(), i, 1), static_cast<unsigned>(PQgetlength(r.get(), i, 1)));
        md5.update("\n", 1);
        ++o.ranges[range].rows;
      }
      flush();
    }
    c.exec("COMMIT", "COMMIT");
    return out;
  });
}

}  // namespace replicator_changelog
}  // namespace kestrel
