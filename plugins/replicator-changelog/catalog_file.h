// CatalogFile: a node's SQLite catalog file on this machine (a CatalogNode,
// catalog_node.h): its replication_state, its change_log, and the calls
// that apply, copy, promote and fence it. The store-sqlite component of the
// same node keeps its own connections to the file; the two meet only through
// SQLite's locking (BEGIN IMMEDIATE, busy_timeout) and migration 3's
// triggers (replicated_tables.h), which capture a primary's writes and
// refuse a standby's or fenced file's writers.
//
// Threads: every method may be called from any thread; one call at a time
// per file (an internal mutex). Errors: kestrel::Error, UNAVAILABLE
// (retryable) when the file cannot be opened or was removed or replaced
// (the connection is dropped and reopened by the next call), FENCED when a
// batch carries an epoch older than the file's.
#ifndef KESTREL_REPLICATOR_CHANGELOG_CATALOG_FILE_H
#define KESTREL_REPLICATOR_CHANGELOG_CATALOG_FILE_H

#include <Poco/Data/Session.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <sys/types.h>

#include "catalog_node.h"

namespace kestrel {
namespace replicator_changelog {

class CatalogFile : public CatalogNode {
 public:
  CatalogFile(NodeSpec spec, int64_t busy_timeout_ms);
  ~CatalogFile() override;
  CatalogFile(const CatalogFile&) = delete;
  CatalogFile& operator=(const CatalogFile&) = delete;

  // CatalogNode (catalog_node.h). state() opens the file if needed
  // (creating it on the first open only, and running the catalog
  // migrations); a file missing after it was opened once is lost
  // (UNAVAILABLE), never created again.
  const NodeSpec& spec() const override { return spec_; }
  FileState state() override;
  int64_t head_seq() override;
  std::vector<Entry> entries_after(int64_t seq, size_t limit) override;
  void backlog(int64_t seq, int64_t upto, int64_t* bytes, int64_t* oldest_created_at_us) override;
  int64_t apply(const std::string& source, const std::vector<Entry>& entries) override;
  void promote(uint64_t epoch) override;
  void set_role(const std::string& role, const std::string& source) override;
  void record_position(const std::string& standby, int64_t seq, int64_t commit_seq, int64_t epoch) override;
  void truncate(int64_t seq) override;
  std::vector<Entry> entries_after_older_than(int64_t seq, int64_t epoch) override;
  void record_conflicts(const std::string& node, const std::vector<Entry>& entries) override;
  std::string conflicts_json(uint32_t limit) override;
  std::vector<RowImage> row_images(const IdRange& range) override;
  catalog_schema::CatalogSummary summary(int64_t range_size, int64_t* head) override;

  // Replaces every replicated row, the change log, the epoch and the commit
  // sequence with those of the SQLite file at `source_path` (the primary's
  // file, or a snapshot of it: the copy is one read transaction there), and
  // makes this file a standby of `source` — in one transaction, so readers
  // see the old or the new.
  void copy_from(const std::string& source, const std::string& source_path);
  int64_t conflict_count();
  // CatalogNode::repair. Rows are deleted children first, then upserted
  // parents first.
  void repair(const std::vector<IdRange>& ranges,
              const std::function<std::vector<RowImage>(const IdRange&)>& fetch, int64_t* written,
              int64_t* deleted) override;
  // Up to `limit` rows of `table` with an id above `after_id`, in id order
  // (to copy the file elsewhere in pieces).
  std::vector<RowImage> rows_after(const std::string& table, int64_t after_id, size_t limit);

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
