// HaCatalog: failover, switchover, fencing, rejoin and the HaControl calls
// that change the cluster (see ha_catalog.h and DESIGN §4).
//
// A failover or switchover holds failover_mu_ (one at a time: BUSY otherwise)
// and the router's write gate (writes wait, bounded by failover_timeout).
// The order is the one that keeps two primaries from ever accepting writes
// in one epoch: fence the old primary as far as it can be reached, promote
// the new one with epoch + 1 (durable in its cluster_state before it returns),
// point the router at it, then open the gate.
#include <Poco/JSON/Object.h>
#include <Poco/Timestamp.h>
#include <Poco/UUIDGenerator.h>

#include <chrono>
#include <sstream>

#include "ha/ha_catalog.h"
#include "ha/ha_json.h"

namespace kestrel::host::ha {
namespace {

int64_t now_us() { return Poco::Timestamp().epochMicroseconds(); }

const NodeView* find_view(const std::vector<NodeView>& views, const std::string& name) {
  for (const NodeView& v : views)
    if (v.name == name) return &v;
  return nullptr;
}

// WAL bytes the new primary lacks of the old one's last known position;
// -1 when the old position is unknown.
int64_t lost_bytes(const NodeView* from, const NodeView* to) {
  if (from == nullptr || to == nullptr || from->lsn == 0) return -1;
  const uint64_t have = std::max(to->lsn, to->receive_lsn);
  return from->lsn > have ? static_cast<int64_t>(from->lsn - have) : 0;
}

FailoverEvent from_record(int64_t id, const kestrel_failover_record& r) {
  FailoverEvent e;
  e.id = id;
  e.kind = r.kind ? r.kind : "";
  e.from_node = r.from_node ? r.from_node : "";
  e.to_node = r.to_node ? r.to_node : "";
  e.reason = r.reason ? r.reason : "";
  e.automatic = r.automatic != 0;
  e.succeeded = r.succeeded != 0;
  e.epoch_before = r.epoch_before;
  e.epoch_after = r.epoch_after;
  e.started_at_us = r.started_at_us;
  e.finished_at_us = r.finished_at_us;
  e.duration_ms = (r.finished_at_us - r.started_at_us) / 1000;
  e.lost_bytes = r.lost_bytes;
  e.write_pause_ms = r.write_pause_ms;
  e.detail = r.detail ? r.detail : "";
  return e;
}

}  // namespace

FailoverEvent HaCatalog::run_failover(const std::string& from, const std::string& to, const std::string& reason,
                                      bool automatic, const std::vector<NodeView>& views) {
  if (!hold_lease()) throw Error(KESTREL_ERR_BUSY, "no failover from this daemon: " + lease_note());
  std::unique_lock<std::mutex> one(failover_mu_, std::try_to_lock);
  if (!one.owns_lock() || !gate_.begin())
    throw Error(KESTREL_ERR_BUSY, "a failover or switchover already runs: try again when it ends");
  uint64_t next = 0;
  try {
    next = claim_epoch(from, to);
  } catch (const Error&) {
    gate_.end(gate_.epoch());
    throw;
  }
  FailoverEvent ev;
  ev.kind = "failover";
  ev.from_node = from;
  ev.to_node = to;
  ev.reason = reason;
  ev.automatic = automatic;
  ev.epoch_before = gate_.epoch();
  ev.epoch_after = ev.epoch_before;
  ev.started_at_us = now_us();
  ev.lost_bytes = lost_bytes(find_view(views, from), find_view(views, to));
  host_.logf(KESTREL_LOG_WARNING, "failover from %s to %s (epoch %llu -> %llu): %s", from.c_str(), to.c_str(),
             static_cast<unsigned long long>(ev.epoch_before), static_cast<unsigned long long>(next),
             reason.c_str());
  try {
    if (!from.empty() && from != to) {  // from == to: a primary promoted again at a new epoch (unfenced)
      try {
        replicator_.fence(from);
        std::lock_guard<std::mutex> lock(mu_);
        fenced_.insert(from);
      } catch (const Error& e) {
        // A dead server cannot be fenced; it is fenced when it answers again
        // (the HA loop fences any second primary), and the epoch refuses its
        // writers meanwhile.
        ev.detail = "old primary " + from + " not fenced now (" + e.what() + "): fenced when it answers";
      }
    }
    replicator_.promote(to, next, static_cast<uint32_t>(options_.failover_timeout_ms));
    {
      std::lock_guard<std::mutex> lock(mu_);
      primary_ = to;
      primary_refuses_writes_ = false;
      no_failover_reason_.clear();
    }
    ev.epoch_after = next;
    ev.succeeded = true;
  } catch (const Error& e) {
    ev.detail += std::string(ev.detail.empty() ? "" : "; ") + "promote " + to + " failed: " + e.what();
  }
  ev.finished_at_us = now_us();
  ev.duration_ms = (ev.finished_at_us - ev.started_at_us) / 1000;
  ev.write_pause_ms = gate_.end(ev.epoch_after);
  one.unlock();
  save_state();
  epoch_metric_.set(static_cast<double>(ev.epoch_after));
  if (ev.succeeded) {
    failovers_total_.add(1);
    failover_seconds_.observe(static_cast<double>(ev.duration_ms) / 1000.0);
  }
  write_pause_seconds_.observe(static_cast<double>(ev.write_pause_ms) / 1000.0);
  record_event(ev);
  publish("failover", to_text(event_json(ev)));
  if (!ev.succeeded) {
    host_.logf(KESTREL_LOG_ERROR, "failover to %s failed: %s", to.c_str(), ev.detail.c_str());
    throw Error(KESTREL_ERR_UNAVAILABLE, "failover to " + to + " failed: " + ev.detail, true);
  }
  host_.logf(KESTREL_LOG_WARNING, "failover done: %s is the primary of epoch %llu after %lld ms (lost %lld bytes)",
             to.c_str(), static_cast<unsigned long long>(ev.epoch_after), static_cast<long long>(ev.duration_ms),
             static_cast<long long>(ev.lost_bytes));
  // The other standbys streamed from the old primary: they follow the new one
  // once rejoined (pg_rewind when their timeline forked, else a restart).
  // The old primary too: rejoin stops it if it runs, rewinds it (or copies it
  // afresh) and starts it as a standby, as Patroni does with its own node; a
  // node this machine cannot reach (no data_dir) is rejoined when it answers.
  if (options_.auto_rejoin) {
    for (const NodeView& v : views)
      if (v.name != to && v.name != from && v.role == "standby") queue_rejoin(v.name);
    if (!from.empty() && from != to) queue_rejoin(from);
  }
  if (monitor_) monitor_->wake();
  return ev;
}

void HaCatalog::refuse_nofailover(const std::string& target, const char* what) const {
  if (options_.nofailover.count(target))
    throw Error(KESTREL_ERR_INVALID, "node " + target + " is marked nofailover: true (it is never promoted): no " +
                                         what + " to it; name another node");
}

FailoverEvent HaCatalog::failover(const std::string& target, const std::string& reason, bool force) {
  if (!replicator_) throw Error(KESTREL_ERR_BUSY, "nothing to fail over to: this catalog has one node");
  node(target);  // NOT_FOUND names the nodes
  const std::string p = primary();
  if (target == p) throw Error(KESTREL_ERR_INVALID, "node " + target + " is already the primary");
  refuse_nofailover(target, "failover");  // before anything is fenced, even with force
  const std::vector<NodeView> views = monitor_->snapshot();
  const NodeView* v = find_view(views, target);
  const PolicyDecision d = decide(views, p);
  std::string why;
  for (const Rejection& r : d.rejected)
    if (r.node == target) why = r.reason;
  if (v == nullptr || !v->healthy) {
    if (!force)
      throw Error(KESTREL_ERR_UNAVAILABLE, "node " + target + " is unhealthy" +
                                               (v && !v->detail.empty() ? " (" + v->detail + ")" : "") +
                                               ": it cannot be promoted now");
  }
  if (!why.empty() && !force) {
    const int64_t lost = lost_bytes(find_view(views, p), v);
    throw Error(KESTREL_ERR_UNAVAILABLE,
                "node " + target + " is not eligible (" + why + "); a failover to it may lose " +
                    (lost < 0 ? std::string("an unknown amount of") : format_bytes(lost) + " of") +
                    " acknowledged writes: repeat with force to do it anyway");
  }
  return run_failover(p, target, reason.empty() ? "manual failover" : reason, false, views);
}

FailoverEvent HaCatalog::switchover(const std::string& target) {
  if (!replicator_) throw Error(KESTREL_ERR_BUSY, "nothing to switch over to: this catalog has one node");
  node(target);
  const std::string p = primary();
  if (target == p) throw Error(KESTREL_ERR_INVALID, "node " + target + " is already the primary");
  refuse_nofailover(target, "switchover");
  {
    const std::vector<NodeView> views = monitor_->snapshot();
    const NodeView* v = find_view(views, target);
    if (v == nullptr || !v->healthy || v->role != "standby")
      throw Error(KESTREL_ERR_UNAVAILABLE, "node " + target + " is not a healthy standby (" +
                                               (v ? v->role + (v->detail.empty() ? "" : ", " + v->detail) : "") +
                                               "): no switchover to it");
  }
  if (!hold_lease()) throw Error(KESTREL_ERR_BUSY, "no switchover from this daemon: " + lease_note());
  std::unique_lock<std::mutex> one(failover_mu_, std::try_to_lock);
  if (!one.owns_lock() || !gate_.begin())
    throw Error(KESTREL_ERR_BUSY, "a failover or switchover already runs: try again when it ends");
  FailoverEvent ev;
  ev.kind = "switchover";
  ev.from_node = p;
  ev.to_node = target;
  ev.reason = "switchover requested";
  ev.epoch_before = gate_.epoch();
  ev.epoch_after = ev.epoch_before;
  ev.started_at_us = now_us();
  ev.lost_bytes = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.failover_timeout_ms);
  try {
    // Writes are held: wait until the target replayed the primary's last position.
    uint64_t primary_lsn = 0, target_lsn = 0;
    for (;;) {
      for (const NodeStatus& s : replicator_.node_status()) {
        if (s.node == p && s.healthy) primary_lsn = s.lsn;
        if (s.node == target && s.healthy) target_lsn = s.lsn;
      }
      if (primary_lsn != 0 && target_lsn >= primary_lsn) break;
      if (std::chrono::steady_clock::now() >= deadline)
        throw Error(KESTREL_ERR_TIMEOUT, "node " + target + " did not catch up with " + p + " within failover_timeout (" +
                                             std::to_string(options_.failover_timeout_ms) + " ms): still " +
                                             format_bytes(static_cast<int64_t>(primary_lsn - std::min(primary_lsn, target_lsn))) +
                                             " behind; nothing changed");
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    // The epoch is claimed before anything irreversible: a daemon that loses
    // the claim has fenced nothing.
    const uint64_t next = claim_epoch(p, target);
    // The old primary stops first (a clean shutdown sends its last WAL to
    // the standbys), so it never accepts a write after the target's promote.
    replicator_.fence(p);
    {
      std::lock_guard<std::mutex> lock(mu_);
      fenced_.insert(p);
    }
    // The stop's shutdown checkpoint is WAL the target must have too, or the
    // old primary (and any standby that got it) has forked off the new
    // timeline and needs pg_rewind: wait (up to 5 s) until the target
    // received past the position it replayed above.
    const auto checkpoint_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (std::chrono::steady_clock::now() < checkpoint_deadline) {
      bool received = false;
      for (const NodeStatus& s : replicator_.node_status())
        if (s.node == target && s.healthy && s.receive_lsn > primary_lsn) received = true;
      if (received) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    replicator_.promote(target, next, static_cast<uint32_t>(options_.failover_timeout_ms));
    {
      std::lock_guard<std::mutex> lock(mu_);
      primary_ = target;
      primary_refuses_writes_ = false;
    }
    ev.epoch_after = next;
    ev.succeeded = true;
  } catch (const Error& e) {
    ev.detail = e.what();
  }
  ev.finished_at_us = now_us();
  ev.duration_ms = (ev.finished_at_us - ev.started_at_us) / 1000;
  ev.write_pause_ms = gate_.end(ev.epoch_after);
  one.unlock();
  save_state();
  epoch_metric_.set(static_cast<double>(ev.epoch_after));
  write_pause_seconds_.observe(static_cast<double>(ev.write_pause_ms) / 1000.0);
  if (ev.succeeded) {
    failovers_total_.add(1);
    record_event(ev);
    publish("switchover", to_text(event_json(ev)));
    host_.logf(KESTREL_LOG_INFO, "switchover done: %s is the primary of epoch %llu; writes were held %lld ms",
               target.c_str(), static_cast<unsigned long long>(ev.epoch_after),
               static_cast<long long>(ev.write_pause_ms));
    // The old primary becomes the new one's standby; so do the others.
    for (const Node& n : nodes_)
      if (n.name != target) queue_rejoin(n.name);
    if (monitor_) monitor_->wake();
    return ev;
  }
  bool stopped_old = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopped_old = fenced_.count(p) != 0;
  }
  if (stopped_old) {
    // Fenced but not promoted: the old primary is down with no successor. The
    // HA loop fails over (auto_failover) or the operator does.
    host_.logf(KESTREL_LOG_ERROR, "switchover to %s failed after %s was stopped: %s", target.c_str(), p.c_str(),
               ev.detail.c_str());
  }
  throw Error(KESTREL_ERR_TIMEOUT, "switchover to " + target + " failed: " + ev.detail);
}

void HaCatalog::fence_node(const std::string& n, const std::string& why) {
  host_.logf(KESTREL_LOG_WARNING, "fencing %s: %s", n.c_str(), why.c_str());
  try {
    replicator_.fence(n);
    std::lock_guard<std::mutex> lock(mu_);
    fenced_.insert(n);
  } catch (const Error& e) {
    host_.logf(KESTREL_LOG_ERROR, "fencing %s failed: %s", n.c_str(), e.what());
  }
}

void HaCatalog::record_event(FailoverEvent& ev) {
  const std::string key = Poco::UUIDGenerator::defaultGenerator().createRandom().toString();
  kestrel_failover_record r{};
  r.struct_size = sizeof r;
  r.event_key = key.c_str();
  r.kind = ev.kind.c_str();
  r.from_node = ev.from_node.empty() ? nullptr : ev.from_node.c_str();
  r.to_node = ev.to_node.c_str();
  r.reason = ev.reason.c_str();
  r.automatic = ev.automatic ? 1 : 0;
  r.succeeded = ev.succeeded ? 1 : 0;
  r.epoch_before = ev.epoch_before;
  r.epoch_after = ev.epoch_after;
  r.started_at_us = ev.started_at_us;
  r.finished_at_us = ev.finished_at_us;
  r.lost_bytes = ev.lost_bytes;
  r.write_pause_ms = ev.write_pause_ms;
  r.detail = ev.detail.empty() ? nullptr : ev.detail.c_str();
  kestrel_catalog_op op{};
  op.struct_size = sizeof op;
  op.kind = KESTREL_OP_RECORD_FAILOVER;
  op.failover = &r;
  {
    std::lock_guard<std::mutex> lock(mu_);
    recent_.insert(recent_.begin(), ev);
    if (recent_.size() > 100) recent_.pop_back();
  }
  // In the catalog of the (new) primary, in the new epoch, so that every node
  // replicates the history.
  // Through the router, which retries what a failover leaves behind (the
  // new primary's store may hold pooled connections from before).
  try {
    catalog_write(0, std::vector<kestrel_catalog_op>{op});
  } catch (const Error& e) {
    host_.logf(KESTREL_LOG_WARNING, "%s %s -> %s not recorded in failover_events: %s (kept in memory)",
               ev.kind.c_str(), ev.from_node.c_str(), ev.to_node.c_str(), e.what());
  }
}

void HaCatalog::publish(const char* topic, const std::string& json) const {
  if (!api_ || !KESTREL_HAS(api_, kestrel_host_api, event_publish) || !api_->event_publish) return;
  kestrel_status st = make_status();
  api_->event_publish(ctx_, topic, json.c_str(), &st);
}

std::vector<FailoverEvent> HaCatalog::history(size_t limit) const {
  std::vector<FailoverEvent> out;
  const std::string p = primary();
  try {
    if (p.empty()) throw Error(KESTREL_ERR_UNAVAILABLE, "no primary");
    node(p).store().read_failover_events(gate_.epoch(), static_cast<uint32_t>(limit),
                                       [&](int64_t id, const kestrel_failover_record& r) {
                                         out.push_back(from_record(id, r));
                                         return true;
                                       });
    return out;
  } catch (const Error&) {
    // No primary answers, or its store keeps no history: this process's own.
  }
  std::lock_guard<std::mutex> lock(mu_);
  for (const FailoverEvent& e : recent_) {
    if (limit != 0 && out.size() >= limit) break;
    out.push_back(e);
  }
  return out;
}

void HaCatalog::set_auto_failover(bool on) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto_failover_ = on;
  }
  host_.logf(KESTREL_LOG_INFO, "auto_failover %s", on ? "enabled" : "disabled");
  save_state();  // kept across a restart (see start())
}

void HaCatalog::set_mode(const std::string& m, bool force) {
  if (!replicator_) throw Error(KESTREL_ERR_INVALID, "this catalog has one node and no replication mode");
  kestrel_replication_mode mode;
  if (m == "async")
    mode = KESTREL_REPLICATION_ASYNC;
  else if (m == "semi-sync")
    mode = KESTREL_REPLICATION_SEMI_SYNC;
  else if (m == "sync")
    mode = KESTREL_REPLICATION_SYNC;
  else
    throw Error(KESTREL_ERR_INVALID, "mode '" + m + "': use async, semi-sync or sync");
  replicator_.set_mode(mode, force);
}

std::string HaCatalog::force_sync(const std::string& standby) {
  if (!replicator_) throw Error(KESTREL_ERR_INVALID, "this catalog has one node: nothing to resync");
  node(standby);
  if (standby == primary()) throw Error(KESTREL_ERR_INVALID, "node " + standby + " is the primary: nothing to resync");
  try {
    return replicator_.force_sync(standby);  // only the ranges that differ
  } catch (const Error& e) {
    if (e.code() != KESTREL_ERR_UNSUPPORTED) throw;
  }
  replicator_.bootstrap(standby, true);  // a physical replica: a fresh copy
  return "";
}

std::string HaCatalog::conflicts(size_t limit) const {
  if (!replicator_) return "[]";
  return replicator_.list_conflicts(static_cast<uint32_t>(std::min<size_t>(limit, UINT32_MAX)));
}

std::string HaCatalog::check_consistency(const std::string& standby) const {
  if (!replicator_) throw Error(KESTREL_ERR_INVALID, "this catalog has one node: nothing to compare");
  node(standby);
  return replicator_.check_consistency(standby);
}

std::string HaCatalog::peer_request(const std::string& method, const std::string& body) {
  if (!replicator_) throw Error(KESTREL_ERR_UNSUPPORTED, "this catalog has one node and no replicator: no peers");
  return replicator_.peer_request(method, body);
}

// ---- rejoin ----------------------------------------------------------------

bool HaCatalog::queue_rejoin(const std::string& n) {
  {
    std::lock_guard<std::mutex> lock(rejoin_mu_);
    if (n == rejoining_) return false;
    for (const std::string& q : rejoin_queue_)
      if (q == n) return false;
    rejoin_queue_.push_back(n);
  }
  rejoin_cv_.notify_all();
  return true;
}

// One rejoin at a time, off the monitor's thread (pg_rewind or a fresh copy
// takes seconds to hours). A failed rejoin is retried after 10 s, while the
// node stays out of the primary role.
void HaCatalog::rejoin_loop() {
  std::unique_lock<std::mutex> lock(rejoin_mu_);
  for (;;) {
    rejoin_cv_.wait(lock, [this] { return stopping_ || !rejoin_queue_.empty(); });
    if (stopping_) return;
    const std::string n = rejoin_queue_.front();
    rejoin_queue_.pop_front();
    rejoining_ = n;
    lock.unlock();
    bool ok = false;
    bool retry = true;
    std::string error;
    // The leader rejoins, except a PostgreSQL node on another machine, which
    // that machine's daemon rejoins (rejoin_own_former_primary): from any
    // other daemon a rejoin would race the leader's.
    const bool own = n == this_node_ && options_.data_dirs.count(n);
    const bool leading = hold_lease();
    bool superseded = true;  // own node, not leading: only if the coordinator names another primary now
    if (own && !leading) {
      const CoordinatedState st = load_state();
      superseded = st.read && st.promoting.empty() && !st.primary.empty() && st.primary != n;
    }
    if (!own && !leading) {
      host_.logf(KESTREL_LOG_INFO, "rejoin %s left to the coordinator's leader: %s", n.c_str(), lease_note().c_str());
      ok = true;
    } else if (!superseded) {
      host_.logf(KESTREL_LOG_INFO, "rejoin %s not done: the coordinator does not name another primary now", n.c_str());
      ok = true;
    } else if (n != primary()) {
      try {
        host_.logf(KESTREL_LOG_INFO, "rejoin %s as a standby of %s", n.c_str(), primary().c_str());
        replicator_.rejoin(n);
        ok = true;
        std::lock_guard<std::mutex> l(mu_);
        fenced_.erase(n);
      } catch (const Error& e) {
        error = e.what();
        // A remote node (no data_dir: its own daemon rejoins it) or a bad
        // request does not get better by waiting.
        retry = e.code() != KESTREL_ERR_UNSUPPORTED && e.code() != KESTREL_ERR_INVALID;
      }
    } else {
      ok = true;
    }
    lock.lock();
    rejoining_.clear();
    if (!ok && !retry) host_.logf(KESTREL_LOG_ERROR, "rejoin %s failed: %s (not retried)", n.c_str(), error.c_str());
    if (!ok && retry && !stopping_) {
      host_.logf(KESTREL_LOG_WARNING, "rejoin %s failed: %s (retried in 10 s)", n.c_str(), error.c_str());
      if (rejoin_cv_.wait_for(lock, std::chrono::seconds(10), [this] { return stopping_; })) return;
      bool queued = false;
      for (const std::string& q : rejoin_queue_) queued = queued || q == n;
      if (!queued) rejoin_queue_.push_back(n);
    }
  }
}

}  // namespace kestrel::host::ha
