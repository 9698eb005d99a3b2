// ChangelogReplicator: the replicator-changelog component
// (kestrel.replicator.v1, DESIGN §5, issue 10): SQLite catalog files kept in
// step through the durable change log of migration 3. The primary's
// triggers write each change beside the change itself; one shipper thread
// per standby reads batches after the standby's own recorded position and
// applies them there in one transaction (catalog_file.h); the HA catalog
// waits in wait_replicated() for the standbys the mode requires before it
// acknowledges a write. Nothing lives only in memory: a restart of either
// side resumes from the standby's file.
//
// A node is an SQLite file on this machine (its `path`: CatalogFile) or one
// another kestreld holds (its `url`: RemoteNode, reached through that
// daemon's HA API, POST /api/changes/{method}, which its own
// replicator-changelog serves in replicator_peer_request). Batches are
// shipped only by the daemon holding the primary; a remote standby is
// rebuilt from a snapshot (SQLite's backup API) sent in checksummed chunks.
// A PostgreSQL database may be a standby too (its `host`: PgNode), never
// promoted.
//
// Threads: the kestrel.replicator.v1 calls from any thread (one mutating
// call at a time: op_mu_); one shipper thread per node (it ships only while
// its node is a standby); one maintenance thread (truncation, positions).
#ifndef KESTREL_REPLICATOR_CHANGELOG_CHANGELOG_REPLICATOR_H
#define KESTREL_REPLICATOR_CHANGELOG_CHANGELOG_REPLICATOR_H

#include <kestrel/plugin.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "catalog_file.h"

namespace kestrel {
namespace replicator_changelog {

class ChangelogReplicator : public Provides<ReplicatorProvider> {
 public:
  // Parses options; throws Error(KESTREL_ERR_INVALID) naming a bad one. Opens nothing.
  explicit ChangelogReplicator(const CreateArgs& args);
  ~ChangelogReplicator() override;

  // Opens every file (creating and migrating it), finds the primary (the
  // file whose role is primary with the highest epoch, else the first
  // node), makes the others its standbys (copying those that are new, with
  // bootstrap: auto) and starts the shippers.
  void start() override;
  void stop(uint32_t deadline_ms) override;
  void health() override;
  std::string status_json() override;

  // ReplicatorProvider (plugin.h for each call)
  void replicator_bootstrap(const std::string& standby, bool force) override;
  void replicator_set_mode(kestrel_replication_mode mode, bool force) override;
  kestrel_replication_mode replicator_mode() override;
  std::vector<NodeStatus> replicator_node_status() override;
  void replicator_promote(const std::string& node, uint64_t epoch, uint32_t timeout_ms) override;
  void replicator_fence(const std::string& node) override;
  void replicator_rejoin(const std::string& node) override;
  std::string replicator_check_consistency(const std::string& standby) override;
  void replicator_wait_replicated(const std::string& primary, uint64_t position, uint32_t timeout_ms) override;
  // Checks, repairs the ranges that differ (CatalogFile::repair), checks again.
  std::string replicator_force_sync(const std::string& standby) override;
  // From the primary's file, where a rejoin records them.
  std::string replicator_list_conflicts(uint32_t limit) override;
  // A peer daemon's call on a node this daemon holds (peer_service.cc).
  std::string replicator_peer_request(const std::string& method, const std::string& body) override;

 private:
  // A standby's progress as its shipper last saw it.
  struct Progress {
    int64_t applied_seq = 0;
    int64_t applied_commit_seq = 0;
    int64_t epoch = 0;
    bool streaming = false;   // the last ship (or idle check) succeeded
    bool needs_rebuild = false;  // the primary's log no longer holds what it lacks
    std::string detail;       // the last error, or why it does not stream
    int64_t persisted_seq = -1;  // what the primary's replica_positions last got
    std::chrono::steady_clock::time_point persisted_at;
    std::chrono::steady_clock::time_point retry_at;  // backing off after an error until then
    int64_t backoff_ms = 0;
  };

  CatalogNode& file(const std::string& name);
  // The file of `name` on this machine; INVALID naming `what` for a node another kestreld holds.
  CatalogFile& local_file(const std::string& name, const std::string& what);
  std::string primary_name() const;
  void ship_loop(size_t index);
  // One round for standby `f`: true when it applied something.
  bool ship_once(CatalogNode& f);
  void maintenance_loop();
  void rebuild(CatalogNode& standby, const std::string& why);
  // The node with role primary and the highest epoch, if it differs from
  // primary_: made primary_ (a peer or another daemon's HA catalog
  // promoted it). Every maintenance round.
  void discover_primary();
  // Records `node` as the primary at `epoch`, unless the primary known
  // now has a higher epoch (or the same epoch and another name): a late
  // peer request or an old primary's file never replaces a newer one.
  void adopt_primary(const std::string& node, int64_t epoch, const char* why);
  bool is_standby(const std::string& name) const;
  // The check's JSON report; the ranges that differ into *differences when not null.
  std::string consistency_report(const std::string& standby, std::vector<catalog_schema::RangeDifference>* differences);

  const Host host_;
  std::vector<std::unique_ptr<CatalogNode>> files_;  // in nodes: order
  kestrel_replication_mode configured_mode_ = KESTREL_REPLICATION_ASYNC;
  bool bootstrap_auto_ = true;
  bool sync_fallback_async_ = false;
  int64_t batch_size_ = 500;
  int64_t ship_interval_ms_ = 100;
  int64_t sync_timeout_ms_ = 5000;
  int64_t max_log_entries_ = 1000000;
  int64_t range_size_ = 1000;
  int64_t busy_timeout_ms_ = 5000;
  int64_t snapshot_chunk_bytes_ = 4 << 20;

  std::mutex op_mu_;  // one mutating call (promote, fence, rejoin, bootstrap, set_mode) at a time

  mutable std::mutex mu_;  // guards the fields below
  std::condition_variable ship_cv_;     // wakes the shippers (a write to ship, a stop)
  std::condition_variable applied_cv_;  // wakes wait_replicated (a standby applied)
  std::string primary_;
  int64_t primary_epoch_ = -1;  // the epoch primary_ was promoted (or found) at
  kestrel_replication_mode mode_ = KESTREL_REPLICATION_ASYNC;
  std::map<std::string, Progress> progress_;  // by standby name
  bool fell_back_ = false;  // sync_fallback: async is in effect now
  bool stopping_ = false;
  uint64_t ship_requests_ = 0;  // bumped by wait_replicated so shippers do not sleep

  std::vector<std::thread> threads_;
  struct StandbyMetrics {
    Metric lag_entries, lag_bytes, lag_seconds, applied_total;
  };
  std::map<std::string, StandbyMetrics> metrics_;  // by node; fixed after start()
  Metric fallbacks_total_;
};

}  // namespace replicator_changelog
}  // namespace kestrel

#endif  // KESTREL_REPLICATOR_CHANGELOG_CHANGELOG_REPLICATOR_H
