// HealthTracker: the health monitor's decision core (DESIGN §4, issue 9 item 2).
//
// One tracker per node, fed one CheckResult per check; it decides whether the
// node is down and when to check again. No threads, no clock: the monitor
// thread (or a unit test) feeds results and sleeps for next_delay_ms().
// A failed check is retried every retry_interval until it passes (the node
// stays up: one slow answer never fails over) or failure_threshold failures in
// a row mark it down, so a dead primary is confirmed in about
// (failure_threshold - 1) * retry_interval instead of failure_threshold intervals.
#ifndef KESTREL_HOST_HA_HEALTH_TRACKER_H_
#define KESTREL_HOST_HA_HEALTH_TRACKER_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "ha/ha_control.h"

namespace kestrel::host::ha {

struct MonitorOptions {
  int64_t health_check_interval_ms = 5000;  // between checks of a healthy cluster
  int64_t retry_interval_ms = 500;          // between re-checks after a failure
  int failure_threshold = 3;                // consecutive failures that mark a node down
  int64_t health_check_timeout_ms = 2000;   // per check (enforced by the replicator's query)
};

// One node's answer to one check (the replicator's kestrel_node_status, copied).
struct CheckResult {
  std::string name;
  bool answered = false;     // healthy per the replicator: answered within the timeout
  std::string role;          // "primary", "standby", "fenced", "unknown"
  int priority = 100;
  std::string sync_state;    // standby only
  uint64_t lsn = 0;
  uint64_t receive_lsn = 0;
  int64_t lag_bytes = 0;     // -1 unknown
  double lag_seconds = 0;    // replay lag, seconds
  double response_ms = -1;   // milliseconds the check took
  int64_t at_us = 0;         // UTC microseconds of the check
  std::string detail;
};

class HealthTracker {
 public:
  explicit HealthTracker(std::string name) { view_.name = std::move(name); view_.role = "unknown"; }

  // Records one check. Returns true when this result changed healthy (a
  // node confirmed down, or a down node back up).
  bool record(const CheckResult& result, const MonitorOptions& options);

  // True while the last check failed but the threshold is not reached yet:
  // the monitor then re-checks after retry_interval, not health_check_interval.
  bool suspect(const MonitorOptions& options) const {
    return view_.consecutive_failures > 0 && view_.consecutive_failures < options.failure_threshold;
  }

  // The node as last seen. While failing, role/lsn/sync_state keep the
  // values of the last healthy check (the failover policy needs them).
  const NodeView& view() const { return view_; }

 private:
  NodeView view_;
  bool ever_answered_ = false;
};

// Milliseconds until the next check of all nodes (one node_status call checks
// them all): retry_interval if any node is suspect, else health_check_interval.
int64_t next_delay_ms(const std::vector<const HealthTracker*>& trackers, const MonitorOptions& options);

}  // namespace kestrel::host::ha

#endif  // KESTREL_HOST_HA_HEALTH_TRACKER_H_
