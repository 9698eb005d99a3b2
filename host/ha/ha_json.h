// The HA catalog's views as JSON (Poco::JSON, RFC 8259): the shapes of the
// HA API's /api/status, /api/history, the ha-catalog's status_json and the
// `failover` / `switchover` events. NaN lag seconds are null.
#ifndef KESTREL_HOST_HA_HA_JSON_H_
#define KESTREL_HOST_HA_HA_JSON_H_

#include <Poco/JSON/Object.h>

#include "ha/ha_control.h"

namespace kestrel::host::ha {

// name, role, priority, healthy, consecutive_failures, response_ms, lsn,
// receive_lsn, lag_bytes, lag_seconds, sync_state, last_check_at_us,
// eligible, not_eligible_reason, detail.
Poco::JSON::Object::Ptr node_json(const NodeView& node);

// epoch, primary, mode, auto_failover, failover_in_progress, leader,
// this_node, failover_candidate, no_candidate_reason, nodes.
Poco::JSON::Object::Ptr cluster_json(const ClusterView& cluster);

// id, kind, from, to, reason, automatic, succeeded, epoch_before,
// epoch_after, started_at_us, finished_at_us, duration_ms, lost_bytes,
// write_pause_ms, detail.
Poco::JSON::Object::Ptr event_json(const FailoverEvent& event);

// Compact text of `o`.
std::string to_text(const Poco::JSON::Object::Ptr& o);

}  // namespace kestrel::host::ha

#endif  // KESTREL_HOST_HA_HA_JSON_H_
