#include "ha/health_tracker.h"

#include <cmath>

#include "ha/failover_policy.h"

namespace kestrel::host::ha {

bool HealthTracker::record(const CheckResult& r, const MonitorOptions& options) {
  const bool was_healthy = view_.healthy;
  view_.response_ms = r.response_ms;
  view_.last_check_at_us = r.at_us;
  view_.detail = r.detail;
  view_.priority = r.priority;
  if (r.answered) {
    ever_answered_ = true;
    view_.healthy = true;
    view_.consecutive_failures = 0;
    view_.failing_since_us = 0;
    view_.refused = false;
    view_.role = r.role;
    view_.sync_state = r.sync_state;
    view_.lsn = r.lsn;
    view_.receive_lsn = r.receive_lsn;
    view_.lag_bytes = r.lag_bytes;
    view_.lag_seconds = r.lag_seconds;
  } else {
    ++view_.consecutive_failures;
    if (view_.failing_since_us == 0) view_.failing_since_us = r.at_us;
    view_.refused = is_refusal(r.detail);
    // Before the threshold the node keeps its state: a single slow answer is
    // not a failure. A node never seen answering is down at once (nothing to
    // keep), so start-up does not report a dead node as healthy.
    if (view_.consecutive_failures >= options.failure_threshold || !ever_answered_) {
      view_.healthy = false;
      view_.lag_seconds = std::nan("");
    }
  }
  return was_healthy != view_.healthy;
}

int64_t next_delay_ms(const std::vector<const HealthTracker*>& trackers, const MonitorOptions& options) {
  for (const HealthTracker* t : trackers) {
    if (t->suspect(options)) return options.retry_interval_ms;
  }
  return options.health_check_interval_ms;
}

}  // namespace kestrel::host::ha
