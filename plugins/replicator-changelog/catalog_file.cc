#include "catalog_file.h"

#include <Poco/Data/RecordSet.h>
#include <Poco/Data/Statement.h>
#include <Poco/File.h>
#include <Poco/MD5Engine.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Path.h>
#include <Poco/Timestamp.h>
#include <catalog_schema/migration_runner.h>
#include <catalog_schema/replicated_tables.h>

#include <kestrel/plugin.hpp>
#include <algorithm>
#include <set>
#include <sstream>

#include <sys/stat.h>

#include "sqlite_errors.h"
#include "sqlite_migration_target.h"
#include "sqlite_session.h"

namespace kestrel {
namespace replicator_changelog {

using namespace Poco::Data::Keywords;
using Poco::Data::Statement;
using catalog_schema::replicated_table;
using catalog_schema::replicated_table_rank;
using catalog_schema::replicated_tables;
using catalog_schema::ReplicatedTable;
using store_sqlite::rethrow_translated;

namespace {

int64_t now_us() { return Poco::Timestamp().epochMicroseconds(); }

// INSERT ... VALUES (json_extract(?1, '$.id'), ...) ON CONFLICT (id) DO
// UPDATE: the row image applied by id, idempotently.
std::string upsert_sql(const ReplicatedTable& t) {
  std::string cols, values, set;
  for (size_t i = 0; i < t.columns.size(); ++i) {
    const std::string c = t.columns[i];
    cols += (i ? ", " : "") + c;
    values += std::string(i ? ", " : "") + "json_extract(?1, '$." + c + "')";
    if (i) set += std::string(set.empty() ? "" : ", ") + c + " = excluded." + c;
  }
  return "INSERT INTO " + std::string(t.name) + " (" + cols + ") VALUES (" + values + ") ON CONFLICT (id) DO UPDATE SET " +
         set;
}

std::string column_list(const ReplicatedTable& t) {
  std::string cols;
  for (size_t i = 0; i < t.columns.size(); ++i) cols += std::string(i ? ", " : "") + t.columns[i];
  return cols;
}

void rollback(Poco::Data::Session& s) noexcept {
  try {
    s << "ROLLBACK", now;
  } catch (...) {
  }
}

}  // namespace

CatalogFile::CatalogFile(NodeSpec spec, int64_t busy_timeout_ms)
    : spec_(std::move(spec)), busy_timeout_ms_(busy_timeout_ms) {}

CatalogFile::~CatalogFile() = default;

void CatalogFile::drop() noexcept {
  try {
    session_.reset();
  } catch (...) {
  }
  dev_ = 0;
  ino_ = 0;
}

Poco::Data::Session& CatalogFile::session() {
  if (session_) {
    // The file this connection has open must still be the node's file: a
    // removed or replaced one (a lost disk, a restore behind Kestrel's back)
    // is not.
    struct stat st {};
    if (::stat(spec_.path.c_str(), &st) != 0 || st.st_dev != dev_ || st.st_ino != ino_) {
      drop();
      throw Error(KESTREL_ERR_UNAVAILABLE,
                  "node " + spec_.name + ": catalog file " + spec_.path + " is gone or was replaced", true);
    }
    return *session_;
  }
  const bool existed = Poco::File(spec_.path).exists();
  if (!existed && opened_before_)
    throw Error(KESTREL_ERR_UNAVAILABLE,
                "node " + spec_.name + ": catalog file " + spec_.path + " is gone (not created again: a new empty "
                "file is no copy of this node)", true);
  if (!existed) {
    try {
      Poco::File(Poco::Path(spec_.path).parent()).createDirectories();
    } catch (const Poco::Exception& e) {
      throw Error(KESTREL_ERR_UNAVAILABLE, "node " + spec_.name + ": cannot create the folder of " + spec_.path + ": " +
                                               e.displayText(), true);
    }
  }
  store_sqlite::StoreOptions o;
  o.path = spec_.path;
  o.busy_timeout_ms = busy_timeout_ms_;
  o.readers = 1;
  try {
    auto s = store_sqlite::open_session(o, store_sqlite::Role::kWriter);
    store_sqlite::SqliteMigrationTarget target(*s);
    catalog_schema::run_migrations(target);
    struct stat st {};
    if (::stat(spec_.path.c_str(), &st) != 0)
      throw Error(KESTREL_ERR_UNAVAILABLE, "catalog file " + spec_.path + " vanished while opened", true);
    dev_ = st.st_dev;
    ino_ = st.st_ino;
    session_ = std::move(s);
    opened_before_ = true;
  } catch (const Error& e) {
    throw Error(e.code() == KESTREL_ERR_INVALID ? e.code() : KESTREL_ERR_UNAVAILABLE,
                "node " + spec_.name + ": " + e.what(), e.code() != KESTREL_ERR_INVALID);
  }
  return *session_;
}

FileState CatalogFile::read_state() {
  Poco::Data::Session& s = session();
  FileState f;
  try {
    // One statement: this runs in every apply and health check.
    Poco::Nullable<std::string> source;
    Poco::Nullable<Poco::Int64> head, first;
    s << "SELECT r.role, r.source, r.promoted_at_seq, c.epoch, m.commit_seq,"
         " (SELECT seq FROM sqlite_sequence WHERE name = 'change_log'), (SELECT MIN(seq) FROM change_log)"
         " FROM replication_state r, cluster_state c, catalog_meta m WHERE r.id = 1 AND c.id = 1 AND m.id = 1",
        into(f.role), into(source), into(f.promoted_at_seq), into(f.epoch), into(f.commit_seq), into(head),
        into(first), now;
    f.source = source.isNull() ? "" : source.value();
    f.head_seq = head.isNull() ? 0 : head.value();
    f.first_seq = first.isNull() ? 0 : first.value();
  } catch (...) {
    drop();
    try {
      rethrow_translated("node " + spec_.name + ": reading its replication state");
    } catch (const Error& e) {
      throw Error(KESTREL_ERR_UNAVAILABLE, e.what(), true);
    }
  }
  return f;
}

FileState CatalogFile::state() {
  std::lock_guard<std::mutex> lock(mu_);
  return read_state();
}

int64_t CatalogFile::head_seq() {
  std::lock_guard<std::mutex> lock(mu_);
  Poco::Data::Session& s = session();
  Poco::Nullable<Poco::Int64> head;
  try {
    s << "SELECT seq FROM sqlite_sequence WHERE name = 'change_log'", into(head), now;
  } catch (...) {
    drop();
    rethrow_translated("node " + spec_.name + ": reading its change-log head");
  }
  return head.isNull() ? 0 : head.value();
}

std::vector<Entry> CatalogFile::entries_after(int64_t seq, size_t limit) {
  std::lock_guard<std::mutex> lock(mu_);
  Poco::Data::Session& s = session();
  std::vector<Entry> out;
  // `where` has one ? per element of `binds`.
  auto read = [&](const std::string& where, std::vector<Poco::Int64> binds, size_t n) {
    // Bulk into vectors: a RecordSet's per-cell conversions cost more than the read.
    std::vector<Poco::Int64> seqs, commits, epochs, rows, created;
    std::vector<std::string> tables, ops;
    std::vector<Poco::Nullable<std::string>> images;
    Statement st(s);
    st << "SELECT seq, commit_seq, epoch, table_name, op, row_id, row_image, created_at FROM change_log WHERE " +
              where + " ORDER BY seq LIMIT " + std::to_string(n),
        into(seqs), into(commits), into(epochs), into(tables), into(ops), into(rows), into(images), into(created);
    for (Poco::Int64& b : binds) st, use(b);  // by reference: `binds` outlives execute()
    st.execute();
    out.reserve(out.size() + seqs.size());
    for (size_t i = 0; i < seqs.size(); ++i) {
      Entry e;
      e.seq = seqs[i];
      e.commit_seq = commits[i];
      e.epoch = epochs[i];
      e.table = std::move(tables[i]);
      e.op = std::move(ops[i]);
      e.row_id = rows[i];
      e.image = std::move(images[i]);
      e.created_at_us = created[i];
      out.push_back(std::move(e));
    }
  };
  try {
    read("seq > ?", {seq}, limit);
    if (out.size() == limit && !out.empty()) {
      // Complete the last batch: a standby never holds half of a write.
      const int64_t last = out.back().seq, batch = out.back().commit_seq;
      read("seq > ? AND commit_seq = ?", {last, batch}, 1u << 30);
    }
  } catch (...) {
    rethrow_translated("node " + spec_.name + ": reading its change log");
  }
  return out;
}

void CatalogFile::backlog(int64_t seq, int64_t upto, int64_t* bytes, int64_t* oldest_created_at_us) {
  std::lock_guard<std::mutex> lock(mu_);
  Poco::Data::Session& s = session();
  Poco::Nullable<Poco::Int64> b, oldest;
  try {
    s << "SELECT SUM(LENGTH(COALESCE(row_image, '')) + 64), MIN(created_at) FROM change_log"
         " WHERE seq > ? AND seq <= ?",
        use(seq), use(upto), into(b), into(oldest), now;
  } catch (...) {
    rethrow_translated("node " + spec_.name + ": measuring a standby's backlog");
  }
  *bytes = b.isNull() ? 0 : b.value();
  *oldest_created_at_us = oldest.isNull() ? 0 : oldest.value();
}

FileState CatalogFile::begin_standby_write(Poco::Data::Session& s, bool allow_none, const char* nothing_done) {
  try {
    s << "BEGIN IMMEDIATE", now;
  } catch (...) {
    rethrow_translated("node " + spec_.name + ": BEGIN IMMEDIATE");
  }
  try {
    const FileState f = read_state();
    if (f.role != "standby" && !(allow_none && f.role == "none"))
      throw Error(KESTREL_ERR_FENCED, "node " + spec_.name + " is " + f.role + ", not a standby: " + nothing_done);
    return f;
  } catch (...) {
    if (session_) rollback(s);  // read_state drops a failing connection (closing it rolls back)
    throw;
  }
}

int64_t CatalogFile::apply(const std::string& source, const std::vector<Entry>& entries) {
  std::lock_guard<std::mutex> lock(mu_);
  Poco::Data::Session& s = session();
  const FileState f = begin_standby_write(s, true, "nothing applied");
  try {
    int64_t head = f.head_seq, epoch = f.epoch, commit_seq = f.commit_seq, last_epoch = f.epoch;
    if (entries.empty() || entries.back().seq <= head) {
      rollback(s);
      return head;  // nothing new
    }
    s << "UPDATE replication_state SET role = 'applying' WHERE id = 1", now;
    // The entries to apply, checked first; then each run of one table and
    // operation as one compiled statement stepped once per row (compiling
    // per row cost more than applying).
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
      last_epoch = std::max(last_epoch, e.epoch);
      todo.push_back(&e);
    }
    for (size_t begin = 0; begin < todo.size();) {
      size_t end = begin + 1;
      while (end < todo.size() && todo[end]->table == todo[begin]->table && todo[end]->op == todo[begin]->op) ++end;
      const ReplicatedTable& t = replicated_table(todo[begin]->table);
      Statement st(s);
      std::vector<Poco::Int64> ids;      // bound by reference: they outlive execute()
      std::vector<std::string> images;
      if (todo[begin]->op == "delete") {
        for (size_t i = begin; i < end; ++i) ids.push_back(todo[i]->row_id);
        st << "DELETE FROM " + std::string(t.name) + " WHERE id = ?", use(ids);
      } else {
        for (size_t i = begin; i < end; ++i) images.push_back(todo[i]->image.value());
        st << upsert_sql(t), use(images);
      }
      st.execute();
      begin = end;
    }
    if (!todo.empty()) {
      // The entries themselves, under the primary's seq: this file continues
      // the log if it is promoted.
      std::vector<Poco::Int64> seq, cs, ep, row, at;
      std::vector<std::string> table, op;
      std::vector<Poco::Nullable<std::string>> image;
      for (const Entry* e : todo) {
        seq.push_back(e->seq);
        cs.push_back(e->commit_seq);
        ep.push_back(e->epoch);
        table.push_back(e->table);
        op.push_back(e->op);
        row.push_back(e->row_id);
        image.push_back(e->image);
        at.push_back(e->created_at_us);
      }
      Statement st(s);
      st << "INSERT INTO change_log (seq, commit_seq, epoch, table_name, op, row_id, row_image, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
          use(seq), use(cs), use(ep), use(table), use(op), use(row), use(image), use(at);
      st.execute();
    }
    Poco::Int64 at = now_us(), h = head, cs = commit_seq, ep = last_epoch;
    std::string src = source;
    s << "UPDATE cluster_state SET epoch = ?, primary_node = ?, updated_at = ? WHERE id = 1", use(ep), use(src),
        use(at), now;
    s << "UPDATE catalog_meta SET commit_seq = ?, updated_at = ? WHERE id = 1", use(cs), use(at), now;
    s << "INSERT INTO replica_positions (node, applied_seq, applied_commit_seq, epoch, updated_at)"
         " VALUES (?, ?, ?, ?, ?) ON CONFLICT (node) DO UPDATE SET applied_seq = excluded.applied_seq,"
         " applied_commit_seq = excluded.applied_commit_seq, epoch = excluded.epoch, updated_at = excluded.updated_at",
        use(src), use(h), use(cs), use(ep), use(at), now;
    s << "UPDATE replication_state SET role = 'standby', source = ?, updated_at = ? WHERE id = 1", use(src), use(at),
        now;
    s << "COMMIT", now;
    return head;
  } catch (const Error&) {
    rollback(s);
    throw;
  } catch (...) {
    rollback(s);
    rethrow_translated("node " + spec_.name + ": applying changes");
  }
  return 0;  // not reached
}

void CatalogFile::copy_from(const std::string& source, const std::string& source_path) {
  std::lock_guard<std::mutex> lock(mu_);
  Poco::Data::Session& s = session();
  std::string path = source_path;
  try {
    s << "ATTACH DATABASE ? AS src", use(path), now;
  } catch (...) {
    rethrow_translated("node " + spec_.name + ": opening " + source_path + " to copy from");
  }
  try {
    s << "BEGIN IMMEDIATE", now;
    // Never over a primary, never with an older epoch than this file's: a
    // snapshot that arrives after this node was promoted would erase what
    // it acknowledged since.
    std::string role;
    Poco::Int64 mine = 0, theirs = 0;
    s << "SELECT role FROM main.replication_state WHERE id = 1", into(role), now;
    s << "SELECT epoch FROM main.cluster_state WHERE id = 1", into(mine), now;
    s << "SELECT epoch FROM src.cluster_state WHERE id = 1", into(theirs), now;
    if (role == "primary" || theirs < mine)
      throw Error(KESTREL_ERR_FENCED, "node " + spec_.name + " is " + role + " at epoch " + std::to_string(mine) +
                                          ": a copy of " + source + " at epoch " + std::to_string(theirs) +
                                          " is refused (fence or demote it first; the copy is older)");
    s << "UPDATE main.replication_state SET role = 'applying' WHERE id = 1", now;
    const auto& tables = replicated_tables();
    for (auto t = tables.rbegin(); t != tables.rend(); ++t) s << ("DELETE FROM main." + std::string(t->name)), now;
    for (const ReplicatedTable& t : tables) {
      const std::string cols = column_list(t);
      s << ("INSERT INTO main." + std::string(t.name) + " (" + cols + ") SELECT " + cols + " FROM src." + t.name +
            " ORDER BY id"),
          now;
    }
    s << "DELETE FROM main.change_log", now;
    s << "INSERT INTO main.change_log SELECT * FROM src.change_log", now;
    s << "DELETE FROM main.sqlite_sequence WHERE name = 'change_log'", now;
    s << "INSERT INTO main.sqlite_sequence (name, seq) SELECT name, seq FROM src.sqlite_sequence"
         " WHERE name = 'change_log'",
        now;
    Poco::Int64 at = now_us();
    std::string src = source;
    s << "UPDATE main.cluster_state SET epoch = (SELECT epoch FROM src.cluster_state WHERE id = 1),"
         " primary_node = ?, updated_at = ? WHERE id = 1",
        use(src), use(at), now;
    s << "UPDATE main.catalog_meta SET commit_seq = (SELECT commit_seq FROM src.catalog_meta WHERE id = 1),"
         " updated_at = ? WHERE id = 1",
        use(at), now;
    s << "DELETE FROM main.replica_positions", now;
    s << "INSERT INTO main.replica_positions (node, applied_seq, applied_commit_seq, epoch, updated_at)"
         " SELECT ?, COALESCE((SELECT seq FROM src.sqlite_sequence WHERE name = 'change_log'), 0),"
         " (SELECT commit_seq FROM src.catalog_meta WHERE id = 1), (SELECT epoch FROM src.cluster_state WHERE id = 1), ?",
        use(src), use(at), now;
    s << "UPDATE main.replication_state SET role = 'standby', source = ?, promoted_at_seq = 0, updated_at = ?"
         " WHERE id = 1",
        use(src), use(at), now;
    s << "COMMIT", now;
  } catch (...) {
    rollback(s);
    try {
      s << "DETACH DATABASE src", now;
    } catch (...) {
    }
    rethrow_translated("node " + spec_.name + ": copying the catalog of " + source);
  }
  try {
    s << "DETACH DATABASE src", now;
  } catch (...) {
    drop();  // a connection with a stray attachment is not reused
  }
}

void CatalogFile::promote(uint64_t epoch) {
  std::lock_guard<std::mutex> lock(mu_);
  Poco::Data::Session& s = session();
  try {
    s << "BEGIN IMMEDIATE", now;
    const FileState f = read_state();
    Poco::Int64 e = std::max<Poco::Int64>(f.epoch, static_cast<Poco::Int64>(epoch)), at = now_us();
    Poco::Int64 head = f.role == "primary" ? f.promoted_at_seq : f.head_seq;
    std::string me = spec_.name;
    s << "UPDATE cluster_state SET epoch = ?, primary_node = ?, updated_at = ? WHERE id = 1", use(e), use(me), use(at),
        now;
    s << "UPDATE replication_state SET role = 'primary', source = NULL, promoted_at_seq = ?, updated_at = ? WHERE id = 1",
        use(head), use(at), now;
    s << "COMMIT", now;
  } catch (...) {
    if (session_) rollback(s);  // read_state drops a failing connection (closing it rolls back)
    rethrow_translated("node " + spec_.name + ": promoting it");
  }
}

void CatalogFile::set_role(const std::string& role, const std::string& source) {
  std::lock_guard<std::mutex> lock(mu_);
  Poco::Data::Session& s = session();
  try {
    Poco::Int64 at = now_us();
    std::string r = role;
    Poco::Nullable<std::string> src;
    if (!source.empty()) src = source;
    s << "UPDATE replication_state SET role = ?, source = ?, updated_at = ? WHERE id = 1", use(r), use(src), use(at),
        now;
  } catch (...) {
    rethrow_translated("node " + spec_.name + ": setting its role to " + role);
  }
}

void CatalogFile::record_position(const std::string& standby, int64_t seq, int64_t commit_seq, int64_t epoch) {
  std::lock_guard<std::mutex> lock(mu_);
  Poco::Data::Session& s = session();
  try {
    std::string n = standby;
    Poco::Int64 a = seq, c = commit_seq, e = epoch, at = now_us();
    s << "INSERT INTO replica_positions (node, applied_seq, applied_commit_seq, epoch, updated_at)"
         " VALUES (?, ?, ?, ?, ?) ON CONFLICT (node) DO UPDATE SET applied_seq = excluded.applied_seq,"
         " applied_commit_seq = excluded.applied_commit_seq, epoch = excluded.epoch, updated_at = excluded.updated_at",
        use(n), use(a), use(c), use(e), use(at), now;
  } catch (...) {
    rethrow_translated("node " + spec_.name + ": recording " + standby + "'s position");
  }
}

void CatalogFile::truncate(int64_t seq) {
  std::lock_guard<std::mutex> lock(mu_);
  Poco::Data::Session& s = session();
  try {
    Poco::Int64 upto = seq;
    s << "DELETE FROM change_log WHERE seq <= ?", use(upto), now;
  } catch (...) {
    rethrow_translated("node " + spec_.name + ": truncating its change log");
  }
}

std::vector<Entry> CatalogFile::entries_after_older_than(int64_t seq, int64_t epoch) {
  std::vector<Entry> all = entries_after(seq, 1u << 30);
  std::vector<Entry> out;
  for (Entry& e : all)
    if (e.epoch < epoch) out.push_back(std::move(e));
  return out;
}

void CatalogFile::record_conflicts(const std::string& node, const std::vector<Entry>& entries) {
  std::lock_guard<std::mutex> lock(mu_);
  Poco::Data::Session& s = session();
  try {
    s << "BEGIN IMMEDIATE", now;
    for (const Entry& e : entries) {
      std::string n = node, table = e.table, op = e.op;
      Poco::Int64 seq = e.seq, ep = e.epoch, cs = e.commit_seq, row = e.row_id, changed = e.created_at_us,
                  at = now_us();
      Poco::Nullable<std::string> image = e.image;
      s << "INSERT OR IGNORE INTO conflicts (node, seq, epoch, commit_seq, table_name, op, row_id, row_image,"
           " changed_at, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
          use(n), use(seq), use(ep), use(cs), use(table), use(op), use(row), use(image), use(changed), use(at), now;
    }
    s << "COMMIT", now;
  } catch (...) {
    rollback(s);
    rethrow_translated("node " + spec_.name + ": recording conflicts of " + node);
  }
}

int64_t CatalogFile::conflict_count() {
  std::lock_guard<std::mutex> lock(mu_);
  Poco::Data::Session& s = session();
  Poco::Int64 n = 0;
  try {
    s << "SELECT COUNT(*) FROM conflicts", into(n), now;
  } catch (...) {
    rethrow_translated("node " + spec_.name + ": counting conflicts");
  }
  return n;
}

std::string CatalogFile::conflicts_json(uint32_t limit) {
  std::lock_guard<std::mutex> lock(mu_);
  Poco::Data::Session& s = session();
  Poco::JSON::Array out;
  try {
    Statement st(s);
    st << "SELECT node, seq, epoch, commit_seq, table_name, op, row_id, row_image, changed_at, recorded_at"
          " FROM conflicts ORDER BY recorded_at DESC, id DESC" +
              (limit > 0 ? " LIMIT " + std::to_string(limit) : std::string());
    st.execute();
    Poco::Data::RecordSet rs(st);
    for (bool more = rs.moveFirst(); more; more = rs.moveNext()) {
      Poco::JSON::Object c;
      c.set("node", rs[0].convert<std::string>());
      c.set("seq", rs[1].convert<Poco::Int64>());
      c.set("epoch", rs[2].convert<Poco::Int64>());
      c.set("commit_seq", rs[3].convert<Poco::Int64>());
      c.set("table", rs[4].convert<std::string>());
      c.set("op", rs[5].convert<std::string>());
      c.set("row_id", rs[6].convert<Poco::Int64>());
      if (rs[7].isEmpty())
        c.set("row_image", Poco::Dynamic::Var());
      else
        c.set("row_image", Poco::JSON::Parser().parse(rs[7].convert<std::string>()));
      c.set("changed_at_us", rs[8].convert<Poco::Int64>());
      c.set("recorded_at_us", rs[9].convert<Poco::Int64>());
      out.add(c);
    }
  } catch (...) {
    rethrow_translated("node " + spec_.name + ": reading its conflicts");
  }
  std::ostringstream text;
  out.stringify(text);
  return text.str();
}

std::vector<RowImage> CatalogFile::row_images(const IdRange& range) {
  const ReplicatedTable& t = replicated_table(range.table);
  std::lock_guard<std::mutex> lock(mu_);
  Poco::Data::Session& s = session();
  std::vector<RowImage> out;
  try {
    std::vector<Poco::Int64> ids;
    std::vector<std::string> images;
    Poco::Int64 from = range.from_id, to = range.to_id;
    s << "SELECT id, " + catalog_schema::sqlite_row_image(t, "") + " FROM " + t.name +
             " WHERE id BETWEEN ? AND ? ORDER BY id",
        into(ids), into(images), use(from), use(to), now;
    out.reserve(ids.size());
    for (size_t i = 0; i < ids.size(); ++i) out.push_back({ids[i], std::move(images[i])});
  } catch (...) {
    rethrow_translated("node " + spec_.name + ": reading rows of " + range.table);
  }
  return out;
}

std::vector<RowImage> CatalogFile::rows_after(const std::string& table, int64_t after_id, size_t limit) {
  const ReplicatedTable& t = replicated_table(table);
  std::lock_guard<std::mutex> lock(mu_);
  Poco::Data::Session& s = session();
  std::vector<RowImage> out;
  try {
    std::vector<Poco::Int64> ids;
    std::vector<std::string> images;
    Poco::Int64 after = after_id;
    s << "SELECT id, " + catalog_schema::sqlite_row_image(t, "") + " FROM " + t.name + " WHERE id > ? ORDER BY id LIMIT " +
             std::to_string(limit),
        into(ids), into(images), use(after), now;
    out.reserve(ids.size());
    for (size_t i = 0; i < ids.size(); ++i) out.push_back({ids[i], std::move(images[i])});
  } catch (...) {
    rethrow_translated("node " + spec_.name + ": reading rows of " + table);
  }
  return out;
}

void CatalogFile::repair(const std::vector<IdRange>& ranges,
                         const std::function<std::vector<RowImage>(const IdRange&)>& fetch, int64_t* written,
                         int64_t* deleted) {
  *written = 0;
  *deleted = 0;
  // Table order of the schema: parents before children.
  std::vector<IdRange> order = ranges;
  std::stable_sort(order.begin(), order.end(),
                   [&](const IdRange& a, const IdRange& b) { return replicated_table_rank(a.table) < replicated_table_rank(b.table); });
  std::lock_guard<std::mutex> lock(mu_);
  Poco::Data::Session& s = session();
  begin_standby_write(s, false, "nothing repaired");
  try {
    std::vector<std::vector<RowImage>> rows;
    rows.reserve(order.size());
    for (const IdRange& r : order) rows.push_back(fetch(r));  // the primary's, under this file's lock
    s << "UPDATE replication_state SET role = 'applying' WHERE id = 1", now;
    for (size_t i = order.size(); i-- > 0;) {  // children first
      const ReplicatedTable& t = replicated_table(order[i].table);
      std::vector<Poco::Int64> here;
      Poco::Int64 from = order[i].from_id, to = order[i].to_id;
      s << "SELECT id FROM " + std::string(t.name) + " WHERE id BETWEEN ? AND ?", into(here), use(from), use(to), now;
      std::set<int64_t> keep;
      for (const RowImage& r : rows[i]) keep.insert(r.id);
      std::vector<Poco::Int64> gone;
      for (Poco::Int64 id : here)
        if (!keep.count(id)) gone.push_back(id);
      if (!gone.empty()) s << "DELETE FROM " + std::string(t.name) + " WHERE id = ?", use(gone), now;
      *deleted += static_cast<int64_t>(gone.size());
    }
    for (size_t i = 0; i < order.size(); ++i) {  // parents first
      if (rows[i].empty()) continue;
      std::vector<std::string> images;
      images.reserve(rows[i].size());
      for (const RowImage& r : rows[i]) images.push_back(r.image);
      s << upsert_sql(replicated_table(order[i].table)), use(images), now;
      *written += static_cast<int64_t>(images.size());
    }
    s << "UPDATE replication_state SET role = 'standby' WHERE id = 1", now;
    s << "COMMIT", now;
  } catch (const Error&) {
    rollback(s);
    throw;
  } catch (...) {
    rollback(s);
    rethrow_translated("node " + spec_.name + ": repairing ranges");
  }
}

catalog_schema::CatalogSummary CatalogFile::summary(int64_t range_size, int64_t* head) {
  std::lock_guard<std::mutex> lock(mu_);
  Poco::Data::Session& s = session();
  catalog_schema::CatalogSummary out;
  try {
    s << "BEGIN", now;  // one read snapshot for every table
    Poco::Nullable<Poco::Int64> h;
    s << "SELECT seq FROM sqlite_sequence WHERE name = 'change_log'", into(h), now;
    *head = h.isNull() ? 0 : h.value();
    for (const ReplicatedTable& t : replicated_tables()) {
      catalog_schema::TableSummary& o = out[t.name];
      Poco::Int64 rows = 0;
      Poco::Nullable<Poco::Int64> min_id, max_id, newest;
      s << ("SELECT COUNT(*), MIN(id), MAX(id) FROM " + std::string(t.name)), into(rows), into(min_id), into(max_id),
          now;
      o.rows = rows;
      if (!min_id.isNull()) o.min_id = min_id.value();
      if (!max_id.isNull()) o.max_id = max_id.value();
      bool has_updated = false;
      for (const char* c : t.columns) has_updated = has_updated || std::string(c) == "updated_at";
      if (has_updated) {
        s << ("SELECT MAX(updated_at) FROM " + std::string(t.name)), into(newest), now;
        if (!newest.isNull()) o.newest_updated_at = newest.value();
      }
      // An MD5 per id range over the rows' canonical JSON images.
      std::vector<Poco::Int64> ids;
      std::vector<std::string> images;
      s << "SELECT id, " + catalog_schema::sqlite_row_image(t, "") + " FROM " + t.name + " ORDER BY id", into(ids),
          into(images), now;
      Poco::MD5Engine md5;
      int64_t current = -1;
      auto flush = [&] {
        if (current >= 0) o.ranges[current].md5 = Poco::DigestEngine::digestToHex(md5.digest());  // resets md5
      };
      for (size_t i = 0; i < ids.size(); ++i) {
        const int64_t r = (ids[i] - 1) / range_size;
        if (r != current) {
          flush();
          current = r;
        }
        md5.update(images[i]);
        md5.update("\n", 1);
        ++o.ranges[r].rows;
      }
      flush();
    }
    s << "COMMIT", now;
  } catch (...) {
    rollback(s);
    rethrow_translated("node " + spec_.name + ": summarizing its tables");
  }
  return out;
}

}  // namespace replicator_changelog
}  // namespace kestrel
