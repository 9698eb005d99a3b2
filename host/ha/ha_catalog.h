// HaCatalog: the `ha-catalog` built-in component (DESIGN §4, issue 9).
//
// It provides kestrel.catalog.v1 to the crawler and the App API and routes
// every call to one of its per-node stores (`stores:`, one catalog component
// per node, each component id being the node's name in the replicator):
// writes to the primary of the current epoch, reads to the primary or, with
// read_from_standby, to a healthy standby within max_read_lag. It watches the
// nodes through the replicator (HealthMonitor), fails over when the primary
// is confirmed down (fence, promote with epoch + 1, record, publish), runs
// manual failovers and switchovers, fences a former primary that comes back
// and rejoins it as a standby. It is the HaControl the HA API serves.
//
// Threads: lifecycle on the control thread; the health monitor's thread runs
// the HA loop (automatic failover, fencing); one rejoin thread runs the slow
// rejoins; catalog and HaControl calls come from any thread. One failover or
// switchover at a time (failover_mu_); the router's WriteGate holds writes
// while one runs.
#ifndef KESTREL_HOST_HA_HA_CATALOG_H_
#define KESTREL_HOST_HA_HA_CATALOG_H_

#include <kestrel/plugin.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "ha/failover_policy.h"
#include "ha/ha_control.h"
#include "ha/health_monitor.h"
#include "ha/local_coordinator.h"
#include "ha/postmaster_watch.h"
#include "ha/write_gate.h"

namespace kestrel::host::ha {

// The negotiate function of the built-in plugin "ha-catalog", for
// PluginRegistry::load_builtin.
kestrel_result ha_catalog_negotiate(const kestrel_loader_info* loader, kestrel_plugin_info* out,
                                    kestrel_status* status);

// The ha-catalog's options, parsed (units in the names).
struct HaCatalogOptions {
  std::vector<std::string> stores;     // component ids = node names
  std::map<std::string, std::string> remote_nodes;  // node -> the HA API URL of the kestreld holding it (no store here)
  // Nodes on this machine (a data_dir, or an SQLite path without url): the
  // ones this daemon fences itself when it is cut off from the coordinator.
  std::set<std::string> local_nodes;
  std::map<std::string, std::string> data_dirs;  // node -> local data directory (watched postmaster)
  std::set<std::string> nofailover;              // nodes never promoted (nodes[].nofailover)
  bool has_replicator = false;
  bool has_coordinator = false;         // else a LocalCoordinator over this component's host-state.db namespace
  MonitorOptions monitor;
  bool auto_failover = true;
  bool auto_rejoin = true;
  int64_t maximum_lag_on_failover_bytes = 1 << 20;
  bool read_from_standby = false;
  int64_t max_read_lag_ms = 1000;
  int64_t failover_timeout_ms = 30000;  // writes held at most this long; promote bounded by it too
};

class HaCatalog : public Component, public CatalogProvider, public HaControl {
 public:
  explicit HaCatalog(const CreateArgs& args);
  ~HaCatalog() override;

  // Component
  void start() override;
  void stop(uint32_t deadline_ms) override;
  void health() override;
  std::string status_json() override;
  const void* interface_table(const char* interface_name) override;

  // CatalogProvider: the router. The caller's epoch is ignored (the crawler
  // and the App API pass 0): every call carries the HA catalog's epoch.
  uint64_t catalog_write(uint64_t epoch, const std::vector<kestrel_catalog_op>& ops) override;
  void catalog_read_images(uint64_t epoch, const kestrel_image_query& query,
                           const std::function<bool(const kestrel_image_row&)>& fn) override;
  int64_t catalog_session_id(uint64_t epoch, const std::string& session_key) override;
  uint64_t catalog_count_images(uint64_t epoch, const kestrel_image_query& query) override;
  void catalog_read_failover_events(uint64_t epoch, uint32_t limit,
                                    const std::function<bool(int64_t, const kestrel_failover_record&)>& fn) override;
  void catalog_cluster_state(uint64_t* epoch, std::string* primary) override;

  // HaControl (see ha_control.h)
  ClusterView status() const override;
  FailoverEvent failover(const std::string& node, const std::string& reason, bool force) override;
  FailoverEvent switchover(const std::string& target) override;
  std::vector<FailoverEvent> history(size_t limit) const override;
  void set_auto_failover(bool on) override;
  void set_mode(const std::string& mode, bool force) override;
  std::string force_sync(const std::string& standby) override;
  std::string conflicts(size_t limit) const override;
  std::string check_consistency(const std::string& standby) const override;
  std::string peer_request(const std::string& method, const std::string& body) override;

 private:
  struct Node {
    std::string name;
    std::string url;  // held by the kestreld at this HA API URL: no store in this daemon
    CatalogClient store_;
    Metric healthy, response_seconds, lag_bytes, lsn;
    // The node's store; UNAVAILABLE (retryable) for a node another kestreld
    // holds: this daemon reads and writes only the stores it opened.
    const CatalogClient& store() const;
  };

  // The probe the monitor calls: one node_status through the replicator (or
  // one cheap store call per node without one).
  std::vector<CheckResult> probe();
  void keep_primary_view(std::vector<CheckResult>& results);
  // After every check, on the monitor thread: adopt a primary at start,
  // fail over when it is down, fence former primaries.
  void on_check(const std::vector<NodeView>& views, bool changed);

  // The failover and switchover procedures (ha_failover.cc). Both hold
  // failover_mu_ and the write gate; the caller checked eligibility.
  // INVALID when `target` says nofailover (what: "failover", "switchover"):
  // checked before anything is fenced, so a refused promote never leaves
  // the cluster without a primary.
  void refuse_nofailover(const std::string& target, const char* what) const;
  FailoverEvent run_failover(const std::string& from, const std::string& to, const std::string& reason,
                             bool automatic, const std::vector<NodeView>& views);
  void record_event(FailoverEvent& event);
  void publish(const char* topic, const std::string& json) const;
  bool queue_rejoin(const std::string& node);  // false: already queued or running
  void rejoin_loop();
  void fence_node(const std::string& node, const std::string& why);

  // The store of `node`; throws NOT_FOUND.
  const Node& node(const std::string& name) const;
  std::string primary() const;
  ReplicationMode mode() const;
  PolicyDecision decide(const std::vector<NodeView>& views, const std::string& exclude) const;
  // The store reads go to: the primary's, or a healthy standby's within
  // max_read_lag when read_from_standby is on.
  const Node& read_node() const;
  // Runs a read on the primary (primary_only) or on read_node(), again after
  // a retryable failure while a failover may come (see ha_catalog.cc).
  void read_through(bool primary_only, const std::function<void(const Node&)>& call) const;
  // The cluster state in the coordinator (a JSON object: epoch, primary,
  // promoting, primary_lsn, auto_failover, auto_failover_configured, updated_at_us, by).
  // Written only by the lease holder, only by compare-and-set, never with a
  // lower epoch than the one stored.
  struct CoordinatedState {
    bool read = false;       // false: the coordinator did not answer (the rest is defaults)
    uint64_t epoch = 0;
    std::string primary;     // the primary of `epoch`
    std::string promoting;   // set while a failover to it runs: `primary` is then the old one
    uint64_t primary_lsn = 0;  // the primary's WAL position at its last answer (bytes), 0 unknown
    bool has_auto_failover = false;
    bool auto_failover = true;
    bool auto_failover_configured = true;  // the config's value when auto_failover was stored
  };
  CoordinatedState load_state();
  // Writes epoch, primary and promoting. A claim needs the stored epoch to be
  // lower than `epoch`, a save not higher; else Error(KESTREL_ERR_CONFLICT)
  // (another daemon moved on). UNAVAILABLE when the coordinator fails.
  void write_state(uint64_t epoch, const std::string& primary, const std::string& promoting, bool claim);
  void save_state();  // as the leader: write_state(current epoch, primary), errors logged
  // Claims the next epoch for a failover from `from` to `to` before `to` is
  // promoted: the epoch after the highest of the router's and the stored one.
  // Throws Error(KESTREL_ERR_BUSY) when another daemon claimed it first.
  uint64_t claim_epoch(const std::string& from, const std::string& to);
  // A daemon without the lease follows the leader's word: the stored epoch
  // and primary (unless a failover runs there) become the router's.
  // Returns the state read (read false when the coordinator did not answer).
  CoordinatedState follow_state();
  // True while this daemon holds the coordinator's lease (renewed when less
  // than half of lease_ttl is left). Only the holder fails over, switches
  // over, fences, rejoins and writes the cluster state. Any thread.
  bool hold_lease();
  void release_lease();
  // Self-fencing (DESIGN §4): once this daemon has not reached the
  // coordinator for a lease TTL (stop_writes_at_us_ passed), another daemon
  // may lead and promote a standby; a primary on this machine is then fenced
  // by this daemon, so that it stops acknowledging writes from any client,
  // not only from this daemon's router. Once per cut-off. HA loop thread.
  void fence_own_primary_if_cut_off(const std::string& primary);
  // Fences `node` (on this machine) once per cut-off, logging `why`; false
  // when done before or when the fence failed (logged; tried again later).
  bool fence_own_node(const std::string& node, const std::string& why);
  // Its thread: renews the lease (reaches the coordinator) once half the TTL
  // is left, and fences within 100 ms of a deadline that passed anyway.
  void lease_watch_loop();
  // One daemon per server: the leader cannot rewind or restart a PostgreSQL
  // on another machine (the replicator answers UNSUPPORTED), so the daemon
  // of that node (node.name = the node's name, with its data_dir) rejoins
  // it once the leader has promoted another node, as Patroni restarts its
  // own former primary as a replica. HA loop thread, without the lease.
  void rejoin_own_former_primary(const std::vector<NodeView>& views);
  // One daemon per server: the own node is a standby the primary does not
  // see streaming (it follows an old primary) for several checks: rejoined,
  // which points it at the primary. HA loop thread, without the lease.
  void repoint_own_standby(const std::vector<NodeView>& views);
  // One daemon per server: the own node (node.name, on this machine) still
  // answers as a primary while the coordinator's state names or promotes
  // another: fenced at once. HA loop thread, without the lease.
  void fence_own_node_if_superseded(const CoordinatedState& s, const std::vector<NodeView>& views);
  std::string lease_note() const {
    std::lock_guard<std::mutex> lock(coord_mu_);
    return lease_note_;
  }

  const HaCatalogOptions options_;
  const std::string id_;
  const std::string this_node_;
  // This process's member id in the lease: node name, host, PID and a random
  // tag, so that two daemons started with one config never share a lease.
  const std::string member_;
  const kestrel_host_api* api_;
  kestrel_host_ctx* ctx_;
  Host host_;

  std::vector<Node> nodes_;  // in stores: order; fixed after start()
  ReplicatorClient replicator_;
  std::unique_ptr<LocalCoordinator> own_coordinator_;  // when no coordinator: is set
  CoordinatorClient coordinator_;
  int64_t lease_ttl_ms_ = 0;
  std::unique_ptr<HealthMonitor> monitor_;
  std::unique_ptr<PostmasterWatch> postmaster_watch_;  // nodes with a data_dir
  WriteGate gate_{0};

  mutable std::mutex mu_;          // guards the fields below
  std::string primary_;            // the primary of the current epoch; "" while none is known
  bool auto_failover_;
  std::string no_failover_reason_; // why the last confirmed primary failure did not fail over
  std::vector<FailoverEvent> recent_;  // this process's events (when the store keeps no history)
  std::set<std::string> fenced_;   // fenced by this catalog, to be rejoined
  uint64_t last_primary_lsn_ = 0;  // the primary's position at its last answer (kept in the state too,
                                   // as Patroni keeps the leader's optime: a restarted daemon can
                                   // still tell a standby's lag once the primary is dead)
  uint64_t stored_primary_lsn_ = 0;  // last_primary_lsn_ as last written to the coordinator
  std::chrono::steady_clock::time_point lsn_stored_at_;
  std::map<std::string, std::string> last_sync_state_;  // each standby's, at the primary's last answer
  std::map<std::string, long> postmaster_exited_;  // node -> PID seen exiting, until it answers again
  // Set at start when the stored primary answers but not as a primary and no
  // node is one (a failover interrupted after its fence): it is then failed
  // over as if down. Cleared once the primary answers as one.
  bool primary_refuses_writes_ = false;
  int own_not_streaming_checks_ = 0;  // repoint_own_standby's count of checks in a row

  std::mutex failover_mu_;         // one failover or switchover at a time

  std::mutex coord_io_mu_;         // one coordinator call at a time (lease, state); never held by status()
  mutable std::mutex coord_mu_;    // guards the coordinator's view below (held only to copy fields)
  uint64_t state_version_ = 0;     // the version of the state this daemon last read or wrote
  uint64_t coordinated_epoch_ = 0; // the epoch stored there then
  bool leader_ = false;
  int64_t lease_until_us_ = 0;
  std::string lease_note_;         // why this daemon is not the leader, "" when it is
  // Self-fencing: while this daemon leads, the end of its lease (UTC µs);
  // while another leads, a lease TTL after this daemon last reached the
  // coordinator. A daemon that did not renew or reach it by then (the
  // coordinator does not answer, or its loop is stuck) routes no writes:
  // another may lead and have promoted a standby by then. 0: no deadline.
  // Read by writers without coord_mu_.
  std::atomic<int64_t> stop_writes_at_us_{0};
  std::string self_fenced_;        // guarded by coord_mu_: the primary fenced in this cut-off, "" if none
  // Guarded by coord_mu_: the primary fenced for a cut-off and the epoch
  // then, kept until it is promoted again or failed over ("" if none).
  std::string cut_off_fenced_;
  uint64_t cut_off_fenced_epoch_ = 0;

  std::mutex rejoin_mu_;
  std::condition_variable rejoin_cv_;
  std::deque<std::string> rejoin_queue_;
  std::string rejoining_;          // the node being rejoined now, "" if none
  bool stopping_ = false;
  std::thread rejoin_thread_;
  std::thread lease_watch_thread_;  // with a coordinator: lease_watch_loop (stops with stopping_)

  Metric epoch_metric_, failovers_total_, failover_seconds_, write_pause_seconds_;
};

}  // namespace kestrel::host::ha

#endif  // KESTREL_HOST_HA_HA_CATALOG_H_
