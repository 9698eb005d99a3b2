// PgNode: a PostgreSQL standby of a change-log cluster (a CatalogNode,
// catalog_node.h), for the seeds' "SQLite primary with PostgreSQL standbys":
// a database on any server holding the catalog schema (the shared
// migrations, run here on first contact), kept equal to the SQLite primary
// by applying its change log's row images. Reads (read_from_standby,
// reports) may use it through a store-postgres on the same node.
//
// It is a standby only: it keeps no change log of its own (its position is
// its replica_positions row, written in each apply's transaction), so it
// cannot continue the log, and promote is refused (the node must say
// nofailover: true, so that the HA catalog never picks it). Being a
// standby, it never leaves a cluster with two primaries.
//
// Row images travel as the primary's JSON text and are applied with
// json_populate_recordset ... ON CONFLICT (id) DO UPDATE, each run of one
// table and operation in log order as one statement (foreign keys hold at
// each statement's end, as on the primary, which enforces them). The
// consistency check reads each row as row_to_json() over the replicated
// columns in schema order, which prints exactly what SQLite's json_object()
// prints for the catalog's types (integers and text; PostgreSQL's and
// SQLite's JSON string escapes agree), so the per-range MD5s of both
// dialects compare directly.
//
// Threads: any thread; one write or read call at a time (an internal
// mutex, one connection, reopened after it breaks); state() has a
// connection and a mutex of its own, so that a health check never waits
// for a copy or an apply. Errors: kestrel::Error as
// store-postgres maps SQLSTATEs (pg_errors.h): UNAVAILABLE (retryable) when
// the server cannot be reached; FENCED for a batch older than the node's
// epoch or a write to a node that is not a standby; INVALID for the calls
// only a primary answers (promote, record_conflicts, record_position).
#ifndef KESTREL_REPLICATOR_CHANGELOG_PG_NODE_H
#define KESTREL_REPLICATOR_CHANGELOG_PG_NODE_H

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "catalog_node.h"

namespace kestrel {
namespace store_postgres {
class PgConnection;
}
namespace replicator_changelog {

class CatalogFile;

class PgNode : public CatalogNode {
 public:
  // spec.conninfo: libpq key=value with connect_timeout set; statement
  // timeout in milliseconds (0: none). Connects on first use.
  PgNode(NodeSpec spec, int64_t statement_timeout_ms);
  ~PgNode() override;
  PgNode(const PgNode&) = delete;
  PgNode& operator=(const PgNode&) = delete;

  const NodeSpec& spec() const override { return spec_; }
  bool promotable() const override { return false; }
  // head_seq: the highest applied_seq in replica_positions; first_seq 0.
  FileState state() override;
  int64_t head_seq() override;
  // A standby holds no log: none, nothing, a no-op.
  std::vector<Entry> entries_after(int64_t seq, size_t limit) override;
  void backlog(int64_t seq, int64_t upto, int64_t* bytes, int64_t* oldest_created_at_us) override;
  void truncate(int64_t seq) override;
  std::vector<Entry> entries_after_older_than(int64_t seq, int64_t epoch) override;
  std::string conflicts_json(uint32_t limit) override;  // "[]"
  int64_t apply(const std::string& source, const std::vector<Entry>& entries) override;
  void promote(uint64_t epoch) override;  // INVALID: a PostgreSQL standby is never promoted
  void set_role(const std::string& role, const std::string& source) override;
  void record_position(const std::string& standby, int64_t seq, int64_t commit_seq, int64_t epoch) override;
  void record_conflicts(const std::string& node, const std::vector<Entry>& entries) override;
  std::vector<RowImage> row_images(const IdRange& range) override;
  void repair(const std::vector<IdRange>& ranges,
              const std::function<std::vector<RowImage>(const IdRange&)>& fetch, int64_t* written,
              int64_t* deleted) override;
  catalog_schema::CatalogSummary summary(int64_t range_size, int64_t* head) override;

  // Replaces every replicated row, the epoch, the commit sequence and the
  // position with those of `snapshot` (a consistent copy of the primary's
  // file: snapshot.h), as a standby of `source`, in one transaction
  // (readers see the old rows or the new). FENCED when the snapshot's epoch
  // is older than this node's.
  void copy_from(const std::string& source, CatalogFile& snapshot);

 private:
  // A new connection: refuses a server in recovery, runs the migrations.
  std::unique_ptr<store_postgres::PgConnection> open(const std::string& conninfo) const;
  store_postgres::PgConnection& conn();  // REQUIRES mu_: connects and migrates on first use
  // The state row read on `c` (the caller holds the mutex guarding it).
  FileState read_state(store_postgres::PgConnection& c, const char* lock_clause);
  // BEGIN, the state locked FOR UPDATE (apply, repair and copy exclude one
  // another), FENCED (rolled back) unless a standby or, with allow_none, not
  // yet one. REQUIRES mu_
  FileState begin_standby_write(bool allow_none, const char* nothing_done);
  // Runs `f` with the connection; on an error rolls back and drops a
  // broken connection, then rethrows. REQUIRES mu_
  template <typename F>
  auto guarded(const std::string& what, F&& f) -> decltype(f());

  const NodeSpec spec_;
  const int64_t statement_timeout_ms_;
  std::mutex mu_;  // guards conn_: applies, copies, repairs, summaries
  std::unique_ptr<store_postgres::PgConnection> conn_;
  std::mutex state_mu_;  // guards state_conn_: state() only
  std::unique_ptr<store_postgres::PgConnection> state_conn_;
};

}  // namespace replicator_changelog
}  // namespace kestrel

#endif  // KESTREL_REPLICATOR_CHANGELOG_PG_NODE_H
