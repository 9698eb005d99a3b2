// HaApi: the HA API on admin.listen (default 127.0.0.1:8001; DESIGN §8,
// issue 9 item 8), over the ha-catalog's HaControl, or over a
// SingleNodeControl when the configuration has no ha-catalog. JSON in and
// out, the App API's error shape {"error","status"} and bearer-token rule
// (the admin.token guards every POST: 401 without it, 403 with another).
//
//   GET  /api/status                 the cluster: epoch, primary, mode, auto_failover, nodes[]...
//   GET  /api/health                 200 when a primary accepts writes, else 503 with why
//   POST /api/failover/{node}        {"reason","force"}: 200 the failover_events row          (token)
//   POST /api/switchover             {"target"}: 200 the row (write_pause_ms)                  (token)
//   GET  /api/history?limit=N        newest first
//   GET  /api/replication-lag        per node: role, lsn, lag_bytes, lag_seconds, last_check_at_us (UTC µs of the check)
//   GET  /api/sync-status            mode and per standby: sync_state, healthy, lag
//   POST /api/force-sync             {"standby"}: repair it from the primary: the change log rewrites
//                                    only the id ranges that differ (its report); PostgreSQL: a fresh copy (token)
//   GET  /api/conflicts?limit=N      a former primary's changes the primary never had, newest first
//   POST /api/sync/enable            {"mode"} (default "sync"; or "semi-sync")                 (token)
//   POST /api/sync/disable           mode async: standbys keep streaming, commits stop waiting (token)
//   POST /api/auto-failover/enable|disable                                                     (token)
//   POST /api/consistency-check      {"standby"}: the replicator's report                      (token)
//   GET  /primary, /replica?lag=, /health     for this daemon's node (node.name), as Patroni's
//   GET  /primary/{node}, /replica/{node}     for any node: 200 or 503, the node's view as body
//   GET  /metrics                    Prometheus text format 0.0.4
//
// When node.name is not one of the catalog's nodes (one daemon manages them
// all), /primary answers for the cluster's primary, /replica for its best
// standby within ?lag, /health for the cluster (200 when a primary accepts
// writes). ?lag= is bytes ("1048576", "1MiB") or a duration ("2s", "500ms").
// Errors of HaControl map: NOT_FOUND 404, INVALID 400, BUSY 409,
// UNAVAILABLE 503, TIMEOUT 504.
#ifndef KESTREL_HOST_API_HA_API_H_
#define KESTREL_HOST_API_HA_API_H_

#include <memory>
#include <string>

#include "api/api_http.h"
#include "ha/ha_control.h"
#include "runtime/component_runtime.h"

namespace kestrel::host {

class HaApi : public ApiHandler {
 public:
  // `runtime` must outlive this object with its components started while
  // handle() may run. `token` "": no token required. `this_node`: node.name.
  HaApi(const ComponentRuntime& runtime, std::string token, std::string this_node);
  ~HaApi() override;

  ApiResponse handle(const ApiRequest& request) const override;

  // The HaControl served (the ha-catalog's, or the single-node one).
  ha::HaControl& control() const { return *control_; }

 private:
  ApiResponse route(const ApiRequest& request) const;
  ApiResponse health() const;
  ApiResponse role_check(const std::string& role, const std::string& node, const ApiRequest& request) const;
  ApiResponse history(const ApiRequest& request) const;
  ApiResponse conflicts(const ApiRequest& request) const;
  ApiResponse replication_lag() const;
  ApiResponse sync_status() const;

  const std::string token_;
  const std::string this_node_;
  std::unique_ptr<ha::HaControl> single_;  // when no component provides HaControl
  ha::HaControl* control_ = nullptr;
};

}  // namespace kestrel::host

#endif  // KESTREL_HOST_API_HA_API_H_
