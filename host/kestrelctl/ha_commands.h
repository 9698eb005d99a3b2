// kestrelctl's HA commands over the HA API (admin.listen, default
// http://127.0.0.1:8001). Each prints a human-readable result to `out`, or
// with `json` the API's JSON as it came; errors go to `err`; each returns an
// exit code (kExit* in commands.h): 0 done, 1 refused or failed (the server's
// message; `test`: a node is unhealthy), 2 bad command line, 3 no daemon.
#ifndef KESTREL_HOST_KESTRELCTL_HA_COMMANDS_H_
#define KESTREL_HOST_KESTRELCTL_HA_COMMANDS_H_

#include <ostream>
#include <string>

#include "kestrelctl/api_client.h"

namespace kestrel::ctl {

// GET /api/status: the primary, epoch and mode, then a table of the nodes.
int cmd_ha_status(const ApiClient& admin, bool json, std::ostream& out, std::ostream& err);
// Connects to every node (the status' fresh checks): one line each; 1 if any is unhealthy.
int cmd_ha_test(const ApiClient& admin, bool json, std::ostream& out, std::ostream& err);
// POST /api/failover/{node}.
int cmd_failover(const ApiClient& admin, const std::string& node, const std::string& reason, bool force, bool json,
                 std::ostream& out, std::ostream& err);
// POST /api/switchover.
int cmd_switchover(const ApiClient& admin, const std::string& node, bool json, std::ostream& out, std::ostream& err);
// GET /api/history: one line per failover or switchover, newest first.
int cmd_history(const ApiClient& admin, uint64_t limit, bool json, std::ostream& out, std::ostream& err);
// GET /api/conflicts: one line per change a former primary held that the primary never had.
int cmd_conflicts(const ApiClient& admin, uint64_t limit, bool json, std::ostream& out, std::ostream& err);
// GET /api/sync-status: the mode, and each standby's sync state and lag.
int cmd_replication_status(const ApiClient& admin, bool json, std::ostream& out, std::ostream& err);
// POST with {"standby": node} to /api/consistency-check or /api/force-sync.
int cmd_standby_action(const ApiClient& admin, const std::string& path, const std::string& node, bool json,
                       std::ostream& out, std::ostream& err);
// POST /api/sync/enable (with `mode`, "" = sync) or /api/sync/disable, /api/auto-failover/enable|disable.
int cmd_post(const ApiClient& admin, const std::string& path, const std::string& body, bool json, std::ostream& out,
             std::ostream& err);

}  // namespace kestrel::ctl

#endif  // KESTREL_HOST_KESTRELCTL_HA_COMMANDS_H_
