// PgReplicator: the replicator-pg component (kestrel.replicator.v1 over
// PostgreSQL native streaming replication, DESIGN §5).
//
// Which node is the primary: the configured `primary` until promote() names
// another. Mutating calls (bootstrap, set_mode, promote, fence, rejoin) are
// serialized by op_mu_; node_status and check_consistency open their own
// connections and may run beside them. Every failure is a kestrel::Error
// whose message names the node and the fix.
//
// What it reports is read from the servers, never the configuration:
//   - the mode in force is SHOW synchronous_standby_names/synchronous_commit on
//     the primary mapped back to async/semi-sync/sync (mode_from_settings);
//   - lag is known only for a standby the primary's pg_stat_replication shows
//     streaming: otherwise the gauges read NaN (and
//     kestrel_replication_standby_streaming 0), the primary's series included;
//   - a standby is `not bootstrapped` when its local data directory holds no
//     cluster, or when it answers with another system identifier;
//   - split brain: two unfenced nodes of the cluster (same system identifier)
//     out of recovery, or one out of recovery on a timeline ahead of the
//     primary's while the primary does not answer. A node this replicator
//     demoted by promote() is not counted (it is to be fenced: the epoch
//     already says who won). Split brain is sticky: it clears only when all
//     its nodes but one are fenced or back in recovery.
//
// Modes. The configured (or set_mode'd) mode is a target. start() and
// promote() apply the strongest mode up to the target that the standbys
// streaming now can confirm, never weakening one in force below the target
// (a sync standby that drops keeps commits waiting: that is what sync means).
// While that is short of the target, bootstrap(), rejoin() and every poll try
// again. So sync/semi-sync with no standby streaming yet
// (a fresh cluster, a new primary) runs async meanwhile instead of blocking
// every commit; it is logged (WARNING, once per reason), shown as
// status_json's mode_held_back and makes health() fail until the target is
// in force. set_mode() without force still refuses a mode that would block.
//
// Threads. start() (control thread) checks the standbys' data directories,
// applies the mode on the primary (bounded by connect_timeout), and starts
// the poller, which every poll_interval observes every node (gauges, split
// brain, bootstrap state), auto-bootstraps (`bootstrap: auto`) local standbys
// whose data directory is empty, and re-applies a held-back mode. A bootstrap
// takes seconds to hours (pg_basebackup, bounded by command_timeout), so it
// never runs in start(): the daemon starts at once and health() says
// "bootstrapping" meanwhile. stop() joins the poller, so it may wait for a
// bootstrap step in progress (at most command_timeout + catch_up_timeout).
// health() reads the poller's last observation plus one fresh SELECT 1 on
// the primary (cheap enough for every /api/health call).
#ifndef KESTREL_REPLICATOR_PG_PG_REPLICATOR_H
#define KESTREL_REPLICATOR_PG_PG_REPLICATOR_H

#include <kestrel/plugin.hpp>

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "node_spec.h"
#include "pg_tools.h"

namespace kestrel {
namespace replicator_pg {

class PgConnection;

class PgReplicator : public Provides<ReplicatorProvider> {
 public:
  // Parses and checks the options (the nodes list, mode names); no I/O. Throws
  // kestrel::Error(KESTREL_ERR_INVALID) naming the option.
  explicit PgReplicator(const CreateArgs& args);
  ~PgReplicator() override;

  void start() override;
  void stop(uint32_t deadline_ms) override;
  // Throws kestrel::Error(UNAVAILABLE), one message listing every problem:
  // split brain; the primary does not answer SELECT 1 within
  // connect_timeout; a standby not bootstrapped (or bootstrapping); the mode
  // in force weaker than the configured one. Any thread.
  void health() override;
  // {"mode" (in force, read back now; "unknown" if the primary does not
  // answer), "configured_mode", "synchronous_standby_names",
  // "synchronous_commit" (as SHOWn), "mode_held_back" ("" or why),
  // "bootstrap", "not_bootstrapped" {standby: why and fix}, "split_brain",
  // "split_brain_nodes", "split_brain_detail", "streaming" [standbys],
  // "primary", "fenced", "last_rejoin"}. Any thread.
  std::string status_json() override;

  // Refused (UNAVAILABLE) during split brain, like set_mode, promote, rejoin.
  void replicator_bootstrap(const std::string& standby, bool force) override;
  void replicator_set_mode(kestrel_replication_mode mode, bool force) override;
  // The mode in force, read back from the primary; when it does not answer,
  // the last one read; before any, the configured one.
  kestrel_replication_mode replicator_mode() override;
  std::vector<NodeStatus> replicator_node_status() override;
  void replicator_promote(const std::string& node, uint64_t epoch, uint32_t timeout_ms) override;
  void replicator_fence(const std::string& node) override;
  void replicator_rejoin(const std::string& node) override;
  std::string replicator_check_consistency(const std::string& standby) override;

 private:
  struct Gauges {
    Metric lag_bytes;
    Metric replay_lag_seconds;
    Metric streaming;  // 1: in the primary's pg_stat_replication as streaming
  };
  // synchronous_standby_names / synchronous_commit as SHOWn on a primary.
  struct ModeReading {
    std::string standby_names;
    std::string synchronous_commit;
    kestrel_replication_mode mode = KESTREL_REPLICATION_ASYNC;
  };

  const NodeSpec& node(const std::string& name) const;  // throws NOT_FOUND
  NodeSpec primary() const;                              // current primary (locks state_mu_)
  std::unique_ptr<PgConnection> connect(const NodeSpec& spec) const;
  std::string slot_name(const std::string& standby) const;
  // libpq conninfo a standby uses to stream from `from` (replication role).
  std::string replication_conninfo(const NodeSpec& from, const std::string& application_name) const;
  // Standbys of `primary_name` listed in synchronous_standby_names.
  std::vector<std::string> standby_names(const std::string& primary_name) const;
  // synchronous_standby_names for `mode` on `primary_name`.
  std::string standby_names_setting(kestrel_replication_mode mode, const std::string& primary_name) const;
  // Reads the settings in force on `conn` (a primary) and caches them.
  ModeReading read_mode(PgConnection& conn);
  // This replicator's standbys that `conn` (the primary) shows streaming.
  size_t streaming_standbys(PgConnection& conn, const std::string& primary_name) const;
  // ALTER SYSTEM for the mode on `conn` (the primary) + pg_reload_conf(),
  // then waits (up to connect_timeout) until a new session sees it.
  void apply_mode(PgConnection& conn, kestrel_replication_mode mode, const std::string& primary_name);
  // Moves the primary towards the target mode (see the header comment) and
  // records/logs what is held back. fresh (start, promote): only what the
  // streaming standbys allow now, whatever is in force; else never weaken a
  // mode in force up to the target. REQUIRES: op_mu_ held. Throws on I/O.
  void reconcile_mode(PgConnection& conn, const std::string& primary_name, bool fresh);
  // reconcile_mode on the current primary; failures are recorded, not thrown.
  // only_held_back: only when a mode is held back (after start and promote,
  // the settings in force are left as they are, changes made outside Kestrel
  // or by another replicator of the same primary included: reported, not
  // fought over). REQUIRES: op_mu_ held.
  void reconcile_mode_quietly(bool only_held_back);
  void set_held_back(const std::string& reason);
  kestrel_replication_mode replicator_target() const;  // mode_, under state_mu_
  // Throws kestrel::Error(UNAVAILABLE) naming the split brain for `what`.
  void refuse_if_split_brain(const std::string& what);
  // REQUIRES: op_mu_ held.
  void bootstrap_locked(const std::string& standby, bool force);
  // pg_promote and the wait for a committed write (epoch recorded). REQUIRES: op_mu_ held.
  void promote_locked(const NodeSpec& s, uint64_t epoch, uint32_t timeout_ms,
                      std::chrono::steady_clock::time_point deadline, bool has_state, PgConnection& conn);
  // Records and logs (once per reason) the standbys that are not bootstrapped.
  void note_not_bootstrapped(const std::map<std::string, std::string>& found);
  // `why` (the finding) plus the fix for standby `s` of primary `p`.
  std::string bootstrap_fix(const NodeSpec& s, const NodeSpec& p, const std::string& why, bool foreign) const;
  // Poller: copies each local standby whose data directory is empty.
  void auto_bootstrap_round();
  // Local standbys (not the current primary) whose data directory holds no cluster.
  std::map<std::string, std::string> empty_local_standbys() const;
  // Replication role + pg_hba rule + slot for `standby` on the primary.
  void prepare_primary(PgConnection& conn, const std::string& standby) const;
  // Waits until the primary's pg_stat_replication shows `standby` streaming.
  void wait_streaming(const NodeSpec& primary, const std::string& standby) const;
  // Points a local node's config at the primary and marks it a standby.
  void configure_standby(const NodeSpec& standby, const NodeSpec& primary) const;
  void poll_loop();
  bool stopping() const;

  Host host_;
  ToolRunner tools_;  // pg_ctl, pg_basebackup, pg_rewind through the host
  std::string id_;  // component id, for messages that name the config
  std::vector<NodeSpec> nodes_;  // [0] the configured primary, then the standbys
  std::string synchronous_commit_;
  std::string replication_user_;
  std::string replication_password_;
  std::string replication_network_;
  int64_t poll_interval_ms_ = 5000;
  int64_t connect_timeout_ms_ = 5000;
  int64_t command_timeout_ms_ = 300000;
  int64_t catch_up_timeout_ms_ = 60000;
  int64_t range_size_ = 1000;
  int64_t wal_keep_size_kb_ = 0;  // wal_keep_size the primary is given, KiB; 0: leave it
  bool bootstrap_auto_ = true;    // bootstrap: auto (local standbys with an empty data directory)

  std::mutex op_mu_;  // one mutating call at a time
  mutable std::mutex state_mu_;  // guards everything below up to gauges_
  kestrel_replication_mode mode_ = KESTREL_REPLICATION_ASYNC;  // the target
  std::string held_back_;      // why the target is not in force ("" when it is)
  bool mode_read_ = false;     // in_force_ holds a reading
  bool apply_pending_ = false;  // start/promote could not reach the primary: apply fresh when it answers
  ModeReading in_force_;       // last read back from the primary
  std::string primary_name_;
  std::set<std::string> fenced_;
  std::set<std::string> demoted_;  // former primaries of our promote(), until rejoined
  std::string last_rejoin_;  // "node:rewind" or "node:basebackup"
  std::string cluster_id_;   // system identifier of the primary, once seen
  int64_t primary_timeline_ = 0;  // last timeline seen on the current primary; 0: unknown
  // The epoch in the current primary's cluster_state when it last answered
  // (or of our promote); -1 unknown. A lone writer holding a higher one was
  // promoted by another daemon of the cluster: adopted as the primary.
  int64_t primary_epoch_ = -1;
  bool split_brain_ = false;
  std::vector<std::string> split_nodes_;
  std::string split_detail_;
  std::map<std::string, std::string> not_bootstrapped_;  // standby -> why and fix
  std::map<std::string, std::string> logged_bootstrap_;  // what was logged per standby
  std::map<std::string, std::string> bootstrap_failed_;  // standby -> last auto-bootstrap error
  std::string bootstrapping_;  // the standby the poller is copying now, "" none
  std::set<std::string> streaming_;  // standbys streaming at the last observation

  std::map<std::string, Gauges> gauges_;  // written at start(), read-only after
  Metric split_brain_gauge_;
  mutable std::mutex poll_mu_;
  std::condition_variable poll_cv_;
  bool stopping_ = false;
  std::thread poller_;
};

// "async", "semi-sync", "sync"; throws kestrel::Error(KESTREL_ERR_INVALID).
kestrel_replication_mode parse_mode(const std::string& text);
const char* mode_name(kestrel_replication_mode mode) noexcept;

// The mode PostgreSQL enforces with these settings (as SHOWn): async when no
// standby must confirm (empty list, k = 0, synchronous_commit off or local);
// sync when every listed standby must (FIRST n / ANY n of n; FIRST 1 of one);
// else semi-sync (ANY 1 of one included). Never fails: an unparsable list
// counts as semi-sync (some standby must confirm).
kestrel_replication_mode mode_from_settings(const std::string& standby_names, const std::string& synchronous_commit);

}  // namespace replicator_pg
}  // namespace kestrel

#endif  // KESTREL_REPLICATOR_PG_PG_REPLICATOR_H
