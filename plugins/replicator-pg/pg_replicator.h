// PgReplicator: the replicator-pg component (kestrel.replicator.v1 over
// PostgreSQL native streaming replication, DESIGN §5).
//
// Which node is the primary: the configured `primary` until promote() names
// another. Mutating calls (bootstrap, set_mode, promote, fence, rejoin) are
// serialized by one mutex; node_status and check_consistency open their own
// connections and may run beside them. A background poller (started in
// start(), joined in stop()) refreshes the lag gauges every poll_interval.
// Every failure is a kestrel::Error whose message names the node and the fix.
#ifndef KESTREL_REPLICATOR_PG_PG_REPLICATOR_H
#define KESTREL_REPLICATOR_PG_PG_REPLICATOR_H

#include <kestrel/plugin.hpp>

#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "node_spec.h"

namespace kestrel {
namespace replicator_pg {

class PgConnection;

class PgReplicator : public Component, public ReplicatorProvider {
 public:
  // Parses and checks the options (node specs, mode names); no I/O. Throws
  // kestrel::Error(KESTREL_ERR_INVALID) naming the option.
  explicit PgReplicator(const CreateArgs& args);
  ~PgReplicator() override;

  void start() override;
  void stop(uint32_t deadline_ms) override;
  // The current primary answers a query within connect_timeout; throws
  // kestrel::Error(UNAVAILABLE) naming it otherwise. Any thread.
  void health() override;
  std::string status_json() override;

  void replicator_bootstrap(const std::string& standby, bool force) override;
  void replicator_set_mode(kestrel_replication_mode mode, bool force) override;
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
  };

  const NodeSpec& node(const std::string& name) const;  // throws NOT_FOUND
  NodeSpec primary() const;                              // current primary (locks state_mu_)
  std::unique_ptr<PgConnection> connect(const NodeSpec& spec) const;
  std::string slot_name(const std::string& standby) const;
  // libpq conninfo a standby uses to stream from `from` (replication role).
  std::string replication_conninfo(const NodeSpec& from, const std::string& application_name) const;
  // Standbys of `primary_name` listed in synchronous_standby_names.
  std::vector<std::string> standby_names(const std::string& primary_name) const;
  // ALTER SYSTEM for the mode on `conn` (the primary) + pg_reload_conf().
  void apply_mode(PgConnection& conn, kestrel_replication_mode mode, const std::string& primary_name) const;
  // Replication role + pg_hba rule + slot for `standby` on the primary.
  void prepare_primary(PgConnection& conn, const std::string& standby) const;
  // Waits until the primary's pg_stat_replication shows `standby` streaming.
  void wait_streaming(const NodeSpec& primary, const std::string& standby) const;
  // Points a local node's config at the primary and marks it a standby.
  void configure_standby(const NodeSpec& standby, const NodeSpec& primary) const;
  void poll_loop();
  void update_gauges(const std::vector<NodeStatus>& statuses);

  Host host_;
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

  std::mutex op_mu_;  // one mutating call at a time
  mutable std::mutex state_mu_;
  kestrel_replication_mode mode_ = KESTREL_REPLICATION_ASYNC;
  std::string primary_name_;
  std::set<std::string> fenced_;
  std::string last_rejoin_;  // "node:rewind" or "node:basebackup"

  std::map<std::string, Gauges> gauges_;
  std::mutex poll_mu_;
  std::condition_variable poll_cv_;
  bool stopping_ = false;
  std::thread poller_;
};

// "async", "semi-sync", "sync"; throws kestrel::Error(KESTREL_ERR_INVALID).
kestrel_replication_mode parse_mode(const std::string& text);
const char* mode_name(kestrel_replication_mode mode) noexcept;

}  // namespace replicator_pg
}  // namespace kestrel

#endif  // KESTREL_REPLICATOR_PG_PG_REPLICATOR_H
