// node_status: roles, positions and lag of every node, from the primary's
// pg_stat_replication and from each standby's own view (see pg_replicator.h).
#include <map>

#include "local_server.h"
#include "pg_connection.h"
#include "pg_replicator.h"

namespace kestrel {
namespace replicator_pg {
namespace {

// One row of the primary's pg_stat_replication / pg_replication_slots.
struct SenderView {
  std::string sync_state;
  uint64_t replay_lsn = 0;
  double write_lag = 0, flush_lag = 0, replay_lag = 0;
};

void add_detail(NodeStatus& s, const std::string& text) { s.detail += (s.detail.empty() ? "" : "; ") + text; }

}  // namespace

std::vector<NodeStatus> PgReplicator::replicator_node_status() {
  std::string primary_name;
  std::set<std::string> fenced;
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    primary_name = primary_name_;
    fenced = fenced_;
  }
  // The primary's view first: its position, its senders, its slots.
  uint64_t primary_lsn = 0;
  bool primary_up = false;
  std::map<std::string, SenderView> senders;
  std::map<std::string, std::string> slot_status;  // slot -> wal_status
  std::string primary_error;
  try {
    auto conn = connect(node(primary_name));
    primary_lsn = parse_lsn(conn->value(
        "SELECT CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END"));
    // A NULL lag at equal LSNs means caught up: 0 (coalesce).
    for (const auto& r : conn->query(
             "SELECT application_name, sync_state, coalesce(replay_lsn::text, ''),"
             " coalesce(extract(epoch FROM write_lag), 0), coalesce(extract(epoch FROM flush_lag), 0),"
             " coalesce(extract(epoch FROM replay_lag), 0) FROM pg_stat_replication")) {
      SenderView v;
      v.sync_state = r[1];
      v.replay_lsn = parse_lsn(r[2]);
      v.write_lag = to_double(r[3]);
      v.flush_lag = to_double(r[4]);
      v.replay_lag = to_double(r[5]);
      senders[r[0]] = v;
    }
    for (const auto& r : conn->query("SELECT slot_name, coalesce(wal_status, '') FROM pg_replication_slots"))
      slot_status[r[0]] = r[1];
    primary_up = true;
  } catch (const Error& e) {
    primary_error = e.what();
  }

  std::vector<NodeStatus> out;
  for (const auto& spec : nodes_) {
    NodeStatus s;
    s.node = spec.name;
    s.priority = spec.priority;
    const bool is_primary = spec.name == primary_name;
    try {
      auto conn = connect(spec);
      Rows r = conn->query(
          "SELECT pg_is_in_recovery(), coalesce(pg_last_wal_receive_lsn()::text, ''),"
          " coalesce(pg_last_wal_replay_lsn()::text, ''),"
          " coalesce((extract(epoch FROM pg_last_xact_replay_timestamp()) * 1000000)::bigint::text, ''),"
          " CASE WHEN pg_is_in_recovery() THEN pg_is_wal_replay_paused() ELSE false END,"
          " CASE WHEN pg_is_in_recovery() THEN '' ELSE pg_current_wal_lsn()::text END");
      s.healthy = true;
      const bool recovering = r[0][0] == "t";
      if (!recovering) {
        s.role = fenced.count(spec.name) ? KESTREL_ROLE_FENCED : KESTREL_ROLE_PRIMARY;
        s.lsn = parse_lsn(r[0][5]);
        if (!is_primary)
          add_detail(s, fenced.count(spec.name) ? "fenced: must not accept writes; rejoin it as a standby"
                                                 : "accepts writes but is not the current primary " + primary_name +
                                                       ": fence it, then rejoin it");
      } else {
        s.role = KESTREL_ROLE_STANDBY;
        s.receive_lsn = parse_lsn(r[0][1]);
        s.lsn = parse_lsn(r[0][2]);
        s.last_replay_at_us = to_int(r[0][3]);
        if (r[0][4] == "t") add_detail(s, "replay paused");
      }
    } catch (const Error& e) {
      s.healthy = false;
      s.role = fenced.count(spec.name) ? KESTREL_ROLE_FENCED : KESTREL_ROLE_UNKNOWN;
      add_detail(s, e.what());
      if (spec.local()) {
        const std::string hint = LocalServer(spec, command_timeout_ms_).disk_full_hint();
        if (!hint.empty()) add_detail(s, hint);
      }
    }
    if (!is_primary && primary_up) {
      auto it = senders.find(spec.name);
      if (it != senders.end()) {
        s.sync_state = it->second.sync_state;
        s.write_lag_seconds = it->second.write_lag;
        s.flush_lag_seconds = it->second.flush_lag;
        s.replay_lag_seconds = it->second.replay_lag;
        if (s.lsn == 0) s.lsn = it->second.replay_lsn;
      } else if (s.role == KESTREL_ROLE_STANDBY) {
        add_detail(s, "not streaming from " + primary_name);
      }
      const uint64_t replay = s.lsn;
      s.lag_bytes = s.role == KESTREL_ROLE_STANDBY && primary_lsn > replay ? static_cast<int64_t>(primary_lsn - replay) : 0;
      if (s.role == KESTREL_ROLE_STANDBY && s.lag_bytes == 0) s.replay_lag_seconds = 0;
      auto slot = slot_status.find(slot_name(spec.name));
      if (slot != slot_status.end() && slot->second == "lost")
        add_detail(s, "replication slot " + slot->first + " on " + primary_name +
                          " lost WAL past max_slot_wal_keep_size: the standby can never catch up; re-bootstrap " +
                          spec.name + " (bootstrap with force)");
    } else if (!is_primary && !primary_up) {
      add_detail(s, "primary " + primary_name + " unreachable: " + primary_error);
    }
    out.push_back(std::move(s));
  }
  update_gauges(out);
  return out;
}

}  // namespace replicator_pg
}  // namespace kestrel
