// CatalogFile: one node's SQLite catalog file as replicator-changelog sees
// it (DESIGN §5): its replication_state, its change_log, and the calls that
// apply, copy, promote and fence it. The store-sqlite component of the same
// node keeps its own connections to the file; the two meet only through
// SQLite's locking (BEGIN IMMEDIATE, busy_timeout) and migration 3's
// triggers (replicated_tables.h), which capture a primary's writes and
// refuse a standby's or fenced file's writers.
//
// Positions are change_log sequence numbers: one sequence for the whole
// cluster, since a standby applies each entry under the primary's seq (and
// keeps it in its own change_log), so a promoted standby continues the log
// where it stopped.
//
// Threads: every method may be called from any thread; one call at a time
// per file (an internal mutex). Errors: kestrel::Error, UNAVAILABLE
// (retryable) when the file cannot be opened or was removed or replaced
// (the connection is dropped and reopened by the next call), FENCED when a
// batch carries an epoch older than the file's.
#ifndef KESTREL_REPLICATOR_CHANGELOG_CATALOG_FILE_H
#define KESTREL_REPLICATOR_CHANGELOG_CATALOG_FILE_H

#include <Poco/Data/Session.h>
#include <Poco/Nullable.h>
#include <catalog_schema/consistency_report.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <sys/types.h>

namespace kestrel {
namespace replicator_changelog {

// One node of the `nodes` list.
struct NodeSpec {
  std::string name;
  int priority = 100;
  std::string path;  // absolute path of its SQLite catalog file
};

// One change_log row.
struct Entry {
  int64_t seq = 0;
  int64_t commit_seq = 0;  // the write batch on the primary that made it
  int64_t epoch = 0;
  std::string table;       // a replicated table (catalog_schema/replicated_tables.h)
  std::string op;          // "upsert" or "delete"
  int64_t row_id = 0;
  Poco::Nullable<std::string> image;  // the row as a JSON object; null for a delete
  int64_t created_at_us = 0;          // UTC microseconds, on the primary
};

// One row of a replicated table: its id and its JSON image (the change
// log's row image, catalog_schema::sqlite_row_image).
struct RowImage {
  int64_t id = 0;
  std::string image;
};

// An id range of one table, both ends included.
struct IdRange {
  std::string table;
  int64_t from_id = 0;
  int64_t to_id = 0;
};

// What a file says about itself.
struct FileState {
  std::string role;            // none, primary, standby, fenced
  std::string source;          // a standby's primary
  int64_t promoted_at_seq = 0;
  int64_t epoch = 0;           // cluster_state.epoch: the fence
  int64_t head_seq = 0;        // the last change_log seq it holds (or held: truncation keeps the count)
  int64_t first_seq = 0;       // the oldest change_log seq it still holds (0: none)
  int64_t commit_seq = 0;      // catalog_meta.commit_seq
};

class CatalogFile {
 public:
  CatalogFile(NodeSpec spec, int64_t busy_timeout_ms);
  ~CatalogFile();
  CatalogFile(const CatalogFile&) = delete;
  CatalogFile& operator=(const CatalogFile&) = delete;

  const NodeSpec& spec() const { return spec_; }

  // Opens the file if needed (creating it on the first open only, and
  // running the catalog migrations) and reads its state: a real query, the
  // health check.
  FileState state();
  // Only head_seq: the last change_log seq (one cheap query).
  int64_t head_seq();

  // Up to `limit` entries after `seq`, in order, always ending on a whole
  // write batch (the last batch is completed past the limit).
  std::vector<Entry> entries_after(int64_t seq, size_t limit);
  // Bytes of row images (plus 64 an entry) of the entries after `seq` up to
  // `upto`, and the created_at of the first of them (0 when none): a
  // standby's lag in bytes and age at the primary's head `upto`.
  void backlog(int64_t seq, int64_t upto, int64_t* bytes, int64_t* oldest_created_at_us);

  // On a standby: applies `entries` (from `source`) in one transaction,
  // skipping those at or below its head; refuses (FENCED) a batch with an
  // entry older than the file's epoch; records the applied position in
  // replica_positions[source] in the same transaction. Returns the new head.
  int64_t apply(const std::string& source, const std::vector<Entry>& entries);

  // Replaces every replicated row, the change log, the epoch and the commit
  // sequence with those of the file at `source_path` (a rebuild: the
  // snapshot of one read transaction there), and makes this file a standby
  // of `source` — in one transaction, so readers see the old or the new.
  void copy_from(const std::string& source, const std::string& source_path);

  // Role changes. promote: primary at `epoch` (never lowered), the head
  // recorded as promoted_at_seq, cluster_state.primary_node = this node.
  void promote(uint64_t epoch);
  void set_role(const std::string& role, const std::string& source);

  // On the primary: where `standby` stands (for truncation and lag after a
  // restart; the standby's own record is the one resumed from).
  void record_position(const std::string& standby, int64_t seq, int64_t commit_seq, int64_t epoch);
  // Deletes change_log entries at or below `seq`.
  void truncate(int64_t seq);
  // Entries of this file after `seq` with an epoch below `epoch`: what a
  // former primary holds that the current primary never had.
  std::vector<Entry> entries_after_older_than(int64_t seq, int64_t epoch);
  // Keeps `entries` of former primary `node` in the conflicts table.
  void record_conflicts(const std::string& node, const std::vector<Entry>& entries);
  int64_t conflict_count();
  // The newest `limit` (0: all) conflicts as a JSON array, newest first
  // (kestrel_replicator_v1.list_conflicts gives the shape).
  std::string conflicts_json(uint32_t limit);

  // The rows of `range`, ordered by id, from one read.
  std::vector<RowImage> row_images(const IdRange& range);
  // On a standby (force-sync): makes this file's rows in each range equal
  // to those `fetch` returns for it (the primary's), in one transaction.
  // `fetch` is called with this file's write lock held, so no batch is
  // applied between the primary's read and this write: whatever the
  // standby applied was read from the primary earlier, so the primary's
  // rows are at least as new, and the log replayed after them converges.
  // Rows only this file holds in a range are deleted (children first),
  // then the primary's are upserted (parents first). FENCED unless a
  // standby. *written and *deleted count rows.
  void repair(const std::vector<IdRange>& ranges,
              const std::function<std::vector<RowImage>(const IdRange&)>& fetch, int64_t* written,
              int64_t* deleted);

  // Per replicated table: rows, min/max id, newest updated_at and an MD5 per
  // id range of `range_size` ids over the rows' JSON images, from one read
  // transaction; *head = head_seq then.
  catalog_schema::CatalogSummary summary(int64_t range_size, int64_t* head);

 private:
  Poco::Data::Session& session();  // REQUIRES mu_
  void drop() noexcept;            // REQUIRES mu_
  FileState read_state();          // REQUIRES mu_
  // BEGIN IMMEDIATE and the file's state, FENCED (rolled back, ending in
  // `nothing_done`) unless a standby (or, with allow_none, not yet one). REQUIRES mu_
  FileState begin_standby_write(Poco::Data::Session& s, bool allow_none, const char* nothing_done);

  const NodeSpec spec_;
  const int64_t busy_timeout_ms_;
  std::mutex mu_;
  std::unique_ptr<Poco::Data::Session> session_;
  dev_t dev_ = 0;
  ino_t ino_ = 0;  // the file the connection has open: a removed or replaced file is not this node any more
  bool opened_before_ = false;  // a file missing after that is lost, never created again
};

}  // namespace replicator_changelog
}  // namespace kestrel

#endif  // KESTREL_REPLICATOR_CHANGELOG_CATALOG_FILE_H
