// CatalogNode: one node of replicator-changelog's `nodes` list as the
// replicator drives it (DESIGN §5): its state, its change log, and the calls
// that apply, promote, fence and compare it. Two kinds:
//   - CatalogFile (catalog_file.h): an SQLite catalog file on this machine;
//   - RemoteNode (remote_node.h): a file another kestreld holds, reached
//     through that daemon's HA API (POST /api/changes/{method}, served by
//     its replicator-changelog from its own CatalogFile: peer_service.h);
//   - PgNode (pg_node.h): a PostgreSQL database holding the catalog schema,
//     a standby only (never promoted: it keeps no change log of its own).
// The calls mean the same on all; each class documents its errors and the
// calls it refuses.
//
// Positions are change_log sequence numbers: one sequence for the whole
// cluster, since a standby applies each entry under the primary's seq (and
// keeps it in its own change_log), so a promoted standby continues the log
// where it stopped.
//
// Threads: every method may be called from any thread. Errors:
// kestrel::Error; UNAVAILABLE (retryable) when the node cannot be reached,
// FENCED when a batch carries an epoch older than the node's.
#ifndef KESTREL_REPLICATOR_CHANGELOG_CATALOG_NODE_H
#define KESTREL_REPLICATOR_CHANGELOG_CATALOG_NODE_H

#include <Poco/Nullable.h>
#include <catalog_schema/consistency_report.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace kestrel {
namespace replicator_changelog {

// One node of the `nodes` list: exactly one of path, url, conninfo is set.
struct NodeSpec {
  std::string name;
  int priority = 100;
  std::string path;      // absolute path of its SQLite catalog file (a node on this machine)
  std::string url;       // or: the HA API base URL of the kestreld holding it ("http://host:port")
  std::string conninfo;  // or: a PostgreSQL standby's libpq conninfo (holds the password: never logged)
  std::string server;    // a PostgreSQL node's "host:port/dbname as user", for messages
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

class CatalogNode {
 public:
  virtual ~CatalogNode() = default;

  virtual const NodeSpec& spec() const = 0;
  // True for an SQLite file on this machine (CatalogFile).
  bool is_local() const { return spec().url.empty() && spec().conninfo.empty(); }
  // False for a node that can only be a standby (PgNode): promote refuses it.
  virtual bool promotable() const { return true; }

  // The node's state: a real query (or request), the health check.
  virtual FileState state() = 0;
  // Only head_seq: the last change_log seq.
  virtual int64_t head_seq() = 0;

  // Up to `limit` entries after `seq`, in order, always ending on a whole
  // write batch (the last batch is completed past the limit).
  virtual std::vector<Entry> entries_after(int64_t seq, size_t limit) = 0;
  // Bytes of row images (plus 64 an entry) of the entries after `seq` up to
  // `upto`, and the created_at of the first of them (0 when none): a
  // standby's lag in bytes and age at the primary's head `upto`.
  virtual void backlog(int64_t seq, int64_t upto, int64_t* bytes, int64_t* oldest_created_at_us) = 0;

  // On a standby: applies `entries` (from `source`) in one transaction,
  // skipping those at or below its head; refuses (FENCED) a batch with an
  // entry older than the node's epoch; records the applied position in
  // replica_positions[source] in the same transaction. Returns the new head.
  virtual int64_t apply(const std::string& source, const std::vector<Entry>& entries) = 0;

  // Role changes. promote: primary at `epoch` (never lowered), the head
  // recorded as promoted_at_seq, cluster_state.primary_node = this node.
  virtual void promote(uint64_t epoch) = 0;
  virtual void set_role(const std::string& role, const std::string& source) = 0;

  // On the primary: where `standby` stands (for truncation and lag after a
  // restart; the standby's own record is the one resumed from).
  virtual void record_position(const std::string& standby, int64_t seq, int64_t commit_seq, int64_t epoch) = 0;
  // Deletes change_log entries at or below `seq`.
  virtual void truncate(int64_t seq) = 0;
  // Entries after `seq` with an epoch below `epoch`: what a former primary
  // holds that the current primary never had.
  virtual std::vector<Entry> entries_after_older_than(int64_t seq, int64_t epoch) = 0;
  // Keeps `entries` of former primary `node` in the conflicts table.
  virtual void record_conflicts(const std::string& node, const std::vector<Entry>& entries) = 0;
  // The newest `limit` (0: all) conflicts as a JSON array, newest first
  // (kestrel_replicator_v1.list_conflicts gives the shape).
  virtual std::string conflicts_json(uint32_t limit) = 0;

  // The rows of `range`, ordered by id, from one read.
  virtual std::vector<RowImage> row_images(const IdRange& range) = 0;
  // On a standby (force-sync): makes this node's rows in each range equal
  // to those `fetch` returns for it (the primary's), in one transaction
  // that holds the node's write lock while `fetch` runs, so no batch is
  // applied between the primary's read and this write (what the standby
  // applied was read from the primary earlier, so the primary's rows are at
  // least as new, and the log replayed after them converges). Rows only
  // this node holds in a range are deleted, then the primary's upserted.
  // FENCED unless a standby; *written and *deleted count rows. The default:
  // INVALID (a node another kestreld holds is repaired by that daemon).
  virtual void repair(const std::vector<IdRange>& ranges,
                      const std::function<std::vector<RowImage>(const IdRange&)>& fetch, int64_t* written,
                      int64_t* deleted);

  // Per replicated table: rows, min/max id, newest updated_at and an MD5 per
  // id range of `range_size` ids over the rows' JSON images, from one read
  // transaction; *head = head_seq then.
  virtual catalog_schema::CatalogSummary summary(int64_t range_size, int64_t* head) = 0;
};

}  // namespace replicator_changelog
}  // namespace kestrel

#endif  // KESTREL_REPLICATOR_CHANGELOG_CATALOG_NODE_H
