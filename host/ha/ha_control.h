// HaControl: what the HA catalog offers the host's own parts (the HA API on
// admin.listen, kestrelctl through it, the App API's sync endpoints).
//
// It is host-internal C++, never part of the plugin ABI: the ha-catalog
// built-in returns a HaControl* from get_interface(kHaControlInterface), and
// only code compiled into kestreld asks for it. Every call may come from any
// thread, concurrently. Mutating calls throw kestrel::Error with the code the
// HA API maps to an HTTP status:
//   KESTREL_ERR_NOT_FOUND    unknown node                          -> 404
//   KESTREL_ERR_INVALID      bad argument, node in the wrong role  -> 400
//   KESTREL_ERR_BUSY         a failover or switchover already runs -> 409
//   KESTREL_ERR_UNAVAILABLE  not possible now (unhealthy target, no
//                            eligible standby without force, lag)   -> 503
//   KESTREL_ERR_TIMEOUT      the target did not catch up / promote  -> 504
// Vocabulary: PostgreSQL's and Patroni's (primary, standby, epoch, LSN, lag).
#ifndef KESTREL_HOST_HA_HA_CONTROL_H_
#define KESTREL_HOST_HA_HA_CONTROL_H_

#include <cstdint>
#include <string>
#include <vector>

namespace kestrel::host::ha {

// get_interface() name under which the ha-catalog returns its HaControl*.
inline constexpr const char* kHaControlInterface = "kestrel.host.ha-control";

// One node as the health monitor last saw it.
struct NodeView {
  std::string name;                 // nodes[].name
  std::string role;                 // "primary", "standby", "fenced" or "unknown"
  int priority = 100;               // lower wins a failover
  bool healthy = false;             // the last check (with its retries) passed
  int consecutive_failures = 0;     // failed checks in a row (0 when healthy)
  double response_ms = -1;          // milliseconds the last check took; -1: never answered
  uint64_t lsn = 0;                 // primary: current WAL position; standby: last replayed
  uint64_t receive_lsn = 0;         // standby: last received and flushed; 0 on a primary
  int64_t lag_bytes = 0;            // bytes behind the primary; 0 on the primary; -1 unknown
  double lag_seconds = 0;           // replay lag in seconds; NaN unknown (the API prints null)
  std::string sync_state;           // standby: "async", "potential", "sync", "quorum"; "" otherwise
  int64_t last_check_at_us = 0;     // UTC microseconds of the last check
  int64_t failing_since_us = 0;     // UTC microseconds of the first failed check in a row; 0 while answering
  bool refused = false;             // the last failed check was refused (ECONNREFUSED): the server is down,
                                    // not merely unreachable behind a partition
  bool eligible = false;            // a failover right now may choose this node
  std::string not_eligible_reason;  // why not ("unhealthy", "lag 3 MiB > maximum_lag_on_failover 1 MiB"...)
  std::string detail;               // last error or note, "" if none
};

// The cluster as this daemon sees it.
struct ClusterView {
  uint64_t epoch = 0;               // the current term; grows by one per failover or switchover
  std::string primary;              // the primary's node name; "" while none accepts writes
  std::string mode;                 // "async", "semi-sync", "sync", or "none" (no replicator)
  bool auto_failover = true;
  bool failover_in_progress = false;
  std::string leader;               // the daemon holding the coordinator's lease ("" if none)
  std::string lease_note;           // why this daemon does not hold the lease, "" when it does
  std::string this_node;            // node.name of this daemon
  std::vector<NodeView> nodes;      // in nodes: order
  std::string failover_candidate;   // the standby a failover now would promote, "" if none
  std::string no_candidate_reason;  // when none: why (each standby's reason, joined)
};

// One failover_events row.
struct FailoverEvent {
  int64_t id = 0;                   // failover_events.id (0 before recorded)
  std::string kind;                 // "failover" or "switchover"
  std::string from_node;            // old primary, "" if none
  std::string to_node;              // the promoted node
  std::string reason;
  bool automatic = false;
  bool succeeded = false;
  uint64_t epoch_before = 0;
  uint64_t epoch_after = 0;
  int64_t started_at_us = 0;        // UTC microseconds
  int64_t finished_at_us = 0;       // UTC microseconds
  int64_t duration_ms = 0;          // finished - started, milliseconds
  int64_t lost_bytes = -1;          // WAL bytes the new primary lacked; -1 unknown
  int64_t write_pause_ms = -1;      // writes held, milliseconds; -1 not measured
  std::string detail;
};

class HaControl {
 public:
  virtual ~HaControl() = default;

  virtual ClusterView status() const = 0;

  // Manual failover to `node` (a standby). Without `force`, refused
  // (UNAVAILABLE) when `node` is unhealthy or not eligible; the message says
  // how much may be lost. Blocks until done. Returns the recorded event.
  virtual FailoverEvent failover(const std::string& node, const std::string& reason, bool force) = 0;

  // Planned switchover to `target` (a healthy standby): holds writes, waits
  // until the target replayed the primary's last LSN (TIMEOUT with the lag
  // when it does not within failover_timeout), promotes it, makes the old
  // primary its standby, resumes writes. Blocks until done.
  virtual FailoverEvent switchover(const std::string& target) = 0;

  // Newest first, at most `limit` (0: all).
  virtual std::vector<FailoverEvent> history(size_t limit) const = 0;

  virtual void set_auto_failover(bool on) = 0;

  // Replication mode: "async", "semi-sync" or "sync" (INVALID otherwise;
  // UNAVAILABLE when it would block every write, unless force).
  virtual void set_mode(const std::string& mode, bool force) = 0;

  // Repairs `standby` from the primary: the change log's replicator
  // rewrites only the id ranges that differ and returns its JSON report;
  // a replicator that cannot (PostgreSQL) rebuilds the standby as a fresh
  // copy and "" is returned. Blocking.
  virtual std::string force_sync(const std::string& standby) = 0;

  // The replicator's conflicts (a JSON array, newest first, at most `limit`,
  // 0: all): what a former primary held that the current primary never had.
  virtual std::string conflicts(size_t limit) const = 0;

  // The replicator's consistency report for `standby`, a JSON object.
  virtual std::string check_consistency(const std::string& standby) const = 0;

  // A peer daemon's replicator request (POST /api/changes/{method}; the
  // caller checked the token): the replicator's response body.
  // UNSUPPORTED without a replicator that has peers.
  virtual std::string peer_request(const std::string& method, const std::string& body) = 0;
};

}  // namespace kestrel::host::ha

#endif  // KESTREL_HOST_HA_HA_CONTROL_H_
