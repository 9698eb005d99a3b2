// HealthMonitor: the health monitor's thread (issue 9 item 2).
//
// Calls `probe` (in the ha-catalog: the replicator's node_status, one real
// query per node with health_check_timeout) every health_check_interval, or
// every retry_interval while a node is suspect, feeds each node's result to
// its HealthTracker, and calls `on_check` after every check with every node's
// view and `changed` = true when a node went down or came back in it. The thread starts in start() and is joined in
// stop(); probe and on_check run on it. snapshot() may be called from any thread.
#ifndef KESTREL_HOST_HA_HEALTH_MONITOR_H_
#define KESTREL_HOST_HA_HEALTH_MONITOR_H_

#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "ha/health_tracker.h"

namespace kestrel::host::ha {

class HealthMonitor {
 public:
  using Probe = std::function<std::vector<CheckResult>()>;
  using OnCheck = std::function<void(const std::vector<NodeView>& nodes, bool changed)>;

  HealthMonitor(MonitorOptions options, Probe probe, OnCheck on_check);
  ~HealthMonitor() { stop(); }
  HealthMonitor(const HealthMonitor&) = delete;
  HealthMonitor& operator=(const HealthMonitor&) = delete;

  void start();
  void stop();  // idempotent; wakes the thread and joins it

  // The nodes as last seen, in the order the probe first reported them.
  std::vector<NodeView> snapshot() const;
  // Wakes the thread for an early check (after a failover, or when a write
  // failed). Ignored while a node is suspect: the retry_interval pacing of
  // failed checks is kept, so failure_threshold still means that many
  // checks retry_interval apart. Any thread.
  void wake();
  // Wakes the thread for a check now, also while a node is suspect: a fact
  // was seen (a watched postmaster exited), not a retry. Any thread.
  void alarm();
  // Runs one check on the calling thread (tests; the first check at start).
  void check_once();

 private:
  void run();

  const MonitorOptions options_;
  const Probe probe_;
  const OnCheck on_check_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool woken_ = false;
  std::vector<HealthTracker> trackers_;  // guarded by mu_
  std::thread thread_;
};

}  // namespace kestrel::host::ha

#endif  // KESTREL_HOST_HA_HEALTH_MONITOR_H_
