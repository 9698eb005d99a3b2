#include "ha/failover_policy.h"

#include <algorithm>
#include <cctype>
#include <cstdio>

namespace kestrel::host::ha {

const char* mode_name(ReplicationMode mode) {
  switch (mode) {
    case ReplicationMode::kAsync: return "async";
    case ReplicationMode::kSemiSync: return "semi-sync";
    case ReplicationMode::kSync: return "sync";
    case ReplicationMode::kNone: break;
  }
  return "none";
}

std::string format_bytes(int64_t bytes) {
  static const char* const kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes);
  size_t unit = 0;
  while (value >= 1024 && unit + 1 < sizeof(kUnits) / sizeof(kUnits[0])) {
    value /= 1024;
    ++unit;
  }
  char buf[48];
  if (unit == 0 || value == static_cast<double>(static_cast<int64_t>(value))) {
    std::snprintf(buf, sizeof buf, "%lld %s", static_cast<long long>(value), kUnits[unit]);
  } else {
    std::snprintf(buf, sizeof buf, "%.1f %s", value, kUnits[unit]);
  }
  return buf;
}

std::string PolicyDecision::reasons() const {
  std::string out;
  for (const Rejection& r : rejected) {
    if (!out.empty()) out += "; ";
    out += r.node + ": " + r.reason;
  }
  return out;
}

PolicyDecision choose_failover_candidate(const std::vector<NodeView>& nodes, const std::string& exclude,
                                         const PolicyOptions& options) {
  PolicyDecision decision;
  const NodeView* best = nullptr;
  const bool sync_mode =
      options.mode == ReplicationMode::kSync || options.mode == ReplicationMode::kSemiSync;
  // Semi-sync (ANY 1) acknowledged a commit once one standby flushed it: only
  // a standby at the highest received position is sure to hold every
  // acknowledged commit (promote replays all it received).
  auto position = [](const NodeView& n) { return std::max(n.lsn, n.receive_lsn); };
  uint64_t most_advanced = 0;
  std::string most_advanced_node;
  if (options.mode == ReplicationMode::kSemiSync) {
    for (const NodeView& n : nodes)
      if (n.name != exclude && !options.nofailover.count(n.name) && n.role == "standby" && n.healthy &&
          (n.sync_state == "sync" || n.sync_state == "quorum") && position(n) > most_advanced) {
        most_advanced = position(n);
        most_advanced_node = n.name;
      }
  }
  for (const NodeView& n : nodes) {
    std::string reason;
    if (n.name == exclude) {
      reason = "the old primary";
    } else if (options.nofailover.count(n.name)) {
      reason = "nofailover";
    } else if (n.role != "standby") {
      reason = "role " + n.role + ", not a standby";
    } else if (!n.healthy) {
      reason = "unhealthy";
    } else if (sync_mode && n.sync_state != "sync" && n.sync_state != "quorum") {
      reason = "not synchronous (sync_state " + (n.sync_state.empty() ? std::string("unknown") : n.sync_state) +
               ") in " + mode_name(options.mode) + " mode";
    } else if (options.mode == ReplicationMode::kSemiSync && position(n) < most_advanced) {
      reason = "behind " + most_advanced_node + " by " + format_bytes(static_cast<int64_t>(most_advanced - position(n))) +
               " (semi-sync: only the most advanced standby holds every acknowledged commit)";
    } else if (!sync_mode && n.lag_bytes < 0) {
      reason = "lag unknown";
    } else if (!sync_mode && n.lag_bytes > options.maximum_lag_on_failover) {
      reason = "lag " + format_bytes(n.lag_bytes) + " > maximum_lag_on_failover " +
               format_bytes(options.maximum_lag_on_failover);
    }
    if (!reason.empty()) {
      decision.rejected.push_back({n.name, reason});
      continue;
    }
    if (best == nullptr || n.priority < best->priority ||
        (n.priority == best->priority && (n.lsn > best->lsn || (n.lsn == best->lsn && n.name < best->name)))) {
      best = &n;
    }
  }
  if (best != nullptr) decision.candidate = best->name;
  return decision;
}

std::vector<std::string> former_primaries_to_fence(const std::vector<NodeView>& nodes,
                                                   const std::string& current_primary) {
  std::vector<std::string> out;
  for (const NodeView& n : nodes) {
    if (n.name != current_primary && n.healthy && n.role == "primary") out.push_back(n.name);
  }
  return out;
}

bool is_refusal(const std::string& detail) {
  static const std::string kRefused = "connection refused";
  std::string lower(detail.size(), ' ');
  std::transform(detail.begin(), detail.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lower.find(kRefused) != std::string::npos;
}

int64_t partition_wait_ms(const NodeView& primary, int64_t now_us, int64_t lease_ttl_ms, int64_t check_interval_ms) {
  if (primary.healthy || primary.refused || primary.failing_since_us == 0) return 0;
  const int64_t until_us = primary.failing_since_us + (lease_ttl_ms + check_interval_ms) * 1000;
  return until_us > now_us ? (until_us - now_us + 999) / 1000 : 0;
}

}  // namespace kestrel::host::ha
