// FailoverPolicy: which standby a failover promotes (DESIGN §4, issue 9 item 3).
//
// A pure function over the health monitor's node views: no threads, no I/O,
// so every rule is unit-tested with plain structs. The failover manager calls
// it when the primary is confirmed down and for a manual failover; the HA API
// shows its answer (candidate, or each standby's reason) in /api/status.
#ifndef KESTREL_HOST_HA_FAILOVER_POLICY_H_
#define KESTREL_HOST_HA_FAILOVER_POLICY_H_

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "ha/ha_control.h"

namespace kestrel::host::ha {

// Replication mode as the policy needs it (the replicator's kestrel_replication_mode).
enum class ReplicationMode { kNone, kAsync, kSemiSync, kSync };

// "async", "semi-sync", "sync", "none".
const char* mode_name(ReplicationMode mode);

struct PolicyOptions {
  ReplicationMode mode = ReplicationMode::kAsync;
  int64_t maximum_lag_on_failover = 1 << 20;  // bytes; async mode only
  std::set<std::string> nofailover;           // nodes never promoted (nodes[].nofailover, Patroni's tag)
};

struct Rejection {
  std::string node;
  std::string reason;  // one phrase, e.g. "unhealthy", "lag 3 MiB > maximum_lag_on_failover 1 MiB"
};

struct PolicyDecision {
  std::string candidate;            // "" when no standby is eligible
  std::vector<Rejection> rejected;  // every node not chosen for a reason, in input order
  // The rejections joined as "b: unhealthy; c: lag unknown" (for no_candidate_reason).
  std::string reasons() const;
};

// Picks the standby a failover promotes.
// REQUIRES: each view's sync_state is the one seen when that node was last
// healthy (the monitor keeps it across failed checks), since in sync modes
// what counts is whether it was synchronous when the primary died.
// Rules: `exclude` (the old primary), nofailover nodes and non-standbys are rejected; then
// unhealthy nodes; in sync/semi-sync only sync_state "sync" or "quorum"; in
// async only 0 <= lag_bytes <= maximum_lag_on_failover (-1 = unknown = not
// eligible); in semi-sync only standbys at the highest received position
// (max of lsn and receive_lsn), since a commit was acknowledged once any one
// standby flushed it (semi-sync replicators count only standbys that may be
// promoted, so nofailover nodes do not set that position). Among the eligible: lowest priority, then highest lsn (replayed
// position), then name (deterministic).
PolicyDecision choose_failover_candidate(const std::vector<NodeView>& nodes, const std::string& exclude,
                                         const PolicyOptions& options);

// Former primaries to fence at once and then rejoin (issue 9 item 5): every
// node other than `current_primary` that answered (healthy) with role
// "primary". Two primaries must never accept writes in one epoch, so the
// failover manager fences these before anything else. In input order.
std::vector<std::string> former_primaries_to_fence(const std::vector<NodeView>& nodes,
                                                   const std::string& current_primary);

// True when a failed check's detail says the connection was refused
// ("Connection refused": strerror(ECONNREFUSED), as libpq, curl and Poco
// print it): nothing listens at the node's address, so its server is down,
// not merely cut off. Pure.
bool is_refusal(const std::string& detail);

// Milliseconds an automatic failover of the failing primary `primary` must
// still wait, so that a primary that is only cut off (a partition: checks
// time out) has been fenced by its own daemon first: that daemon routes no
// writes a lease TTL after it last reached the coordinator and fences its
// node at its next check (self-fencing), so the wait is
// `lease_ttl_ms + check_interval_ms` from the first failed check. 0 when the
// failover may run now: the connection was refused (the server is down), or
// enough time has passed. `now_us`: UTC microseconds. Pure.
int64_t partition_wait_ms(const NodeView& primary, int64_t now_us, int64_t lease_ttl_ms, int64_t check_interval_ms);

// "512 B", "3 KiB", "1 MiB" (for reasons shown to people).
std::string format_bytes(int64_t bytes);

}  // namespace kestrel::host::ha

#endif  // KESTREL_HOST_HA_FAILOVER_POLICY_H_
