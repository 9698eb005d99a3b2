// node_status: roles, positions and lag of every node, from the primary's
// pg_stat_replication and from each standby's own view; and what that
// observation implies: the lag gauges, split brain, standbys not
// bootstrapped (see pg_replicator.h).
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <map>

#include "local_server.h"
#include "pg_connection.h"
#include "pg_replicator.h"

namespace kestrel {
namespace replicator_pg {
namespace {

// One row of the primary's pg_stat_replication.
struct SenderView {
  std::string state;  // startup, catchup, streaming, backup, stopping
  std::string sync_state;
  uint64_t replay_lsn = 0;
  double write_lag = 0, flush_lag = 0, replay_lag = 0;
};

// What one node said about itself.
struct SelfView {
  bool answered = false;
  bool recovering = false;
  std::string system_id;
  int64_t timeline = 0;  // out of recovery only; 0 unknown
  int64_t epoch = -1;    // out of recovery only: cluster_state.epoch; -1 unknown (no catalog yet)
};

void add_detail(NodeStatus& s, const std::string& text) { s.detail += (s.detail.empty() ? "" : "; ") + text; }

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i)
    out += (i == 0 ? "" : i + 1 == names.size() ? " and " : ", ") + names[i];
  return out;
}

}  // namespace

std::vector<NodeStatus> PgReplicator::replicator_node_status() {
  std::string primary_name;
  std::set<std::string> fenced;
  std::string cluster_id;
  int64_t primary_timeline = 0;
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    primary_name = primary_name_;
    fenced = fenced_;
    cluster_id = cluster_id_;
    primary_timeline = primary_timeline_;
  }
  const double unknown = std::numeric_limits<double>::quiet_NaN();
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
             " coalesce(extract(epoch FROM replay_lag), 0), state FROM pg_stat_replication")) {
      SenderView v;
      v.sync_state = r[1];
      v.replay_lsn = parse_lsn(r[2]);
      v.write_lag = to_double(r[3]);
      v.flush_lag = to_double(r[4]);
      v.replay_lag = to_double(r[5]);
      v.state = r[6];
      senders[r[0]] = v;
    }
    for (const auto& r : conn->query("SELECT slot_name, coalesce(wal_status, '') FROM pg_replication_slots"))
      slot_status[r[0]] = r[1];
    primary_up = true;
  } catch (const Error& e) {
    primary_error = e.what();
  }

  std::vector<NodeStatus> out;
  std::map<std::string, SelfView> self;
  std::map<std::string, std::string> not_bootstrapped = empty_local_standbys();
  std::set<std::string> streaming;
  for (const auto& spec : nodes_) {
    NodeStatus s;
    s.node = spec.name;
    s.priority = spec.priority;
    const bool is_primary = spec.name == primary_name;
    SelfView& me = self[spec.name];
    try {
      auto conn = connect(spec);
      // The timeline of a node out of recovery: the first 8 hex digits of its
      // current WAL file's name (pg_walfile_name fails during recovery).
      Rows r = conn->query(
          "SELECT pg_is_in_recovery(), coalesce(pg_last_wal_receive_lsn()::text, ''),"
          " coalesce(pg_last_wal_replay_lsn()::text, ''),"
          " coalesce((extract(epoch FROM pg_last_xact_replay_timestamp()) * 1000000)::bigint::text, ''),"
          " CASE WHEN pg_is_in_recovery() THEN pg_is_wal_replay_paused() ELSE false END,"
          " CASE WHEN pg_is_in_recovery() THEN '' ELSE pg_current_wal_lsn()::text END,"
          " (SELECT system_identifier::text FROM pg_control_system()),"
          " CASE WHEN pg_is_in_recovery() THEN '' ELSE substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8) END");
      s.healthy = true;
      me.answered = true;
      me.recovering = r[0][0] == "t";
      me.system_id = r[0][6];
      me.timeline = r[0][7].empty() ? 0 : std::strtoll(r[0][7].c_str(), nullptr, 16);
      if (!me.recovering) {
        s.role = fenced.count(spec.name) ? KESTREL_ROLE_FENCED : KESTREL_ROLE_PRIMARY;
        s.lsn = parse_lsn(r[0][5]);
        try {  // a database the migrations have not reached yet has no cluster_state
          const std::string e = conn->value("SELECT epoch FROM cluster_state WHERE id = 1");
          if (!e.empty()) me.epoch = to_int(e);
        } catch (const Error&) {
        }
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
        const std::string hint = LocalServer(tools_, spec, command_timeout_ms_).disk_full_hint();
        if (!hint.empty()) add_detail(s, hint);
      }
    }
    if (is_primary && me.answered && !me.recovering) {
      cluster_id = me.system_id;
      primary_timeline = me.timeline;
    }
    // Lag is known only for a standby the primary shows streaming; else it
    // is unknown (-1 bytes, NaN seconds), never 0. The primary: 0 (the ABI).
    s.lag_bytes = is_primary ? 0 : -1;
    if (!is_primary) s.write_lag_seconds = s.flush_lag_seconds = s.replay_lag_seconds = unknown;
    if (!is_primary && primary_up) {
      auto it = senders.find(spec.name);
      if (it != senders.end()) {
        s.sync_state = it->second.sync_state;
        if (s.lsn == 0) s.lsn = it->second.replay_lsn;
        if (it->second.state == "streaming") {
          streaming.insert(spec.name);
          s.write_lag_seconds = it->second.write_lag;
          s.flush_lag_seconds = it->second.flush_lag;
          s.replay_lag_seconds = it->second.replay_lag;
          const uint64_t replay = s.lsn;
          s.lag_bytes = primary_lsn > replay ? static_cast<int64_t>(primary_lsn - replay) : 0;
          if (s.lag_bytes == 0) s.replay_lag_seconds = 0;
        } else {
          add_detail(s, "not streaming from " + primary_name + " (walsender " + it->second.state + "): lag unknown");
        }
      } else if (s.role == KESTREL_ROLE_STANDBY) {
        add_detail(s, "not streaming from " + primary_name + ": lag unknown");
      }
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

  // Another cluster answering where a standby should be: not bootstrapped.
  for (const auto& spec : nodes_) {
    const SelfView& me = self[spec.name];
    if (spec.name == primary_name || !me.answered || cluster_id.empty() || me.system_id == cluster_id) continue;
    not_bootstrapped[spec.name] =
        bootstrap_fix(spec, node(primary_name), "it holds another cluster (system identifier " + me.system_id + "; primary " + primary_name +
                                " has " + cluster_id + ")", true);
  }

  bool newly_split = false, cleared = false, now_split = false;
  std::string adopted_log;
  std::string log_detail;
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    if (!cluster_id.empty()) cluster_id_ = cluster_id;
    // A promote() may have run meanwhile: judge with the decisions as they
    // stand now (it records the demoted node before pg_promote), and leave
    // the split-brain state alone if the primary changed under this look.
    bool current = primary_name == primary_name_;
    if (current && primary_timeline > 0) primary_timeline_ = primary_timeline;
    if (current && self[primary_name].answered && !self[primary_name].recovering && self[primary_name].epoch >= 0)
      primary_epoch_ = std::max(primary_epoch_, self[primary_name].epoch);
    // Split brain: writers of this cluster that nobody decided against.
    std::vector<std::string> writers;
    for (const auto& spec : nodes_) {
      const SelfView& me = self[spec.name];
      if (!me.answered || me.recovering || fenced_.count(spec.name) || demoted_.count(spec.name)) continue;
      if (!cluster_id.empty() && me.system_id != cluster_id) continue;
      writers.push_back(spec.name);
    }
    // A writer, not ours, at a higher epoch than our primary ever had (or,
    // after a restart, than any other writer): another daemon of the
    // cluster (the coordinator's leader) promoted it. The epoch is the
    // cluster's word, as the HA catalog reads it at start: adopted, and the
    // other writers (the old primary, fenced by the leader with SQL, which
    // a superuser still reaches) become nodes to rejoin, not a split brain.
    std::string best;
    int64_t best_epoch = -1;
    bool unique = false;
    for (const std::string& w : writers) {
      if (self[w].epoch > best_epoch) {
        best = w;
        best_epoch = self[w].epoch;
        unique = true;
      } else if (self[w].epoch == best_epoch) {
        unique = false;
      }
    }
    if (current && unique && best != primary_name && best_epoch > primary_epoch_) {
      adopted_log = "primary is " + best + " (epoch " + std::to_string(best_epoch) + " in its cluster_state, above " +
                    (primary_epoch_ < 0 ? std::string("the unknown one") : std::to_string(primary_epoch_)) + " of " +
                    primary_name + "): promoted by another daemon of the cluster";
      demoted_.insert(primary_name);
      for (const std::string& w : writers)
        if (w != best) demoted_.insert(w);
      primary_name_ = best;
      primary_epoch_ = best_epoch;
      primary_timeline_ = 0;
      writers.clear();
      current = false;  // judged afresh at the next observation
    }
    std::vector<std::string> split;
    std::string split_detail;
    if (writers.size() >= 2) {
      std::string timelines;
      for (const auto& w : writers)
        timelines += (timelines.empty() ? "" : ", ") + w + " on timeline " + std::to_string(self[w].timeline);
      split_detail = "split brain: " + join(writers) + " both accept writes (" + timelines + ")";
      split = writers;
    } else if (writers.size() == 1 && writers[0] != primary_name && !fenced_.count(primary_name) &&
               !self[primary_name].answered && primary_timeline > 0 && self[writers[0]].timeline > primary_timeline) {
      split_detail = "split brain: " + writers[0] + " accepts writes on timeline " +
                     std::to_string(self[writers[0]].timeline) + ", ahead of timeline " +
                     std::to_string(primary_timeline) + " of the primary " + primary_name +
                     " (unreachable): it was promoted outside Kestrel, and " + primary_name +
                     " accepts writes too if it comes back";
      split = {primary_name, writers[0]};
    }
    std::sort(split.begin(), split.end());
    if (!current) {
      // stale: decided by the next observation
    } else if (!split.empty()) {
      newly_split = !split_brain_ || split_detail != split_detail_;
      split_brain_ = true;
      split_nodes_ = split;
      split_detail_ = split_detail;
    } else if (split_brain_) {
      // Sticky: a side that stopped answering may come back writing. It
      // clears once all nodes but one are fenced, demoted by our promote, or
      // back in recovery.
      size_t unresolved = 0;
      for (const auto& n : split_nodes_)
        if (!fenced_.count(n) && !demoted_.count(n) && !(self[n].answered && self[n].recovering)) ++unresolved;
      if (unresolved <= 1) {
        cleared = true;
        log_detail = split_detail_;
        split_brain_ = false;
        split_nodes_.clear();
        split_detail_.clear();
      }
    }
    if (split_brain_) {
      log_detail = split_detail_;
      for (auto& s : out)
        for (const auto& n : split_nodes_)
          if (s.node == n)
            add_detail(s, split_detail_ + "; Kestrel treats neither as the primary: fence the one that must lose");
    }
    streaming_ = streaming;
    now_split = split_brain_;
  }
  if (!adopted_log.empty()) host_.logf(KESTREL_LOG_WARNING, "%s", adopted_log.c_str());
  if (newly_split)
    host_.logf(KESTREL_LOG_ERROR,
               "%s; Kestrel treats neither as the primary (promote, set_mode, rejoin and bootstrap are refused) until "
               "the one that must lose is fenced",
               log_detail.c_str());
  if (cleared) host_.logf(KESTREL_LOG_WARNING, "split brain over: one primary answers (was: %s)", log_detail.c_str());
  split_brain_gauge_.set(now_split ? 1.0 : 0.0);

  // Not bootstrapped, and the lag's other details; the old primary after our promote.
  note_not_bootstrapped(not_bootstrapped);
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    for (auto& s : out) {
      auto nb = not_bootstrapped_.find(s.node);
      if (nb != not_bootstrapped_.end()) add_detail(s, "not bootstrapped: " + nb->second);
      const SelfView& me = self[s.node];
      if (s.node != primary_name && me.answered && !me.recovering && !split_brain_ && !not_bootstrapped.count(s.node))
        add_detail(s, fenced.count(s.node) ? "fenced: must not accept writes; rejoin it as a standby"
                                            : "accepts writes but is not the current primary " + primary_name +
                                                  ": fence it, then rejoin it");
    }
  }
  for (const auto& s : out) {
    auto it = gauges_.find(s.node);
    if (it == gauges_.end()) continue;
    const bool known = streaming.count(s.node) != 0;
    it->second.lag_bytes.set(known ? static_cast<double>(s.lag_bytes) : unknown);
    it->second.replay_lag_seconds.set(known ? s.replay_lag_seconds : unknown);
    it->second.streaming.set(known ? 1.0 : 0.0);
  }
  return out;
}

}  // namespace replicator_pg
}  // namespace kestrel
