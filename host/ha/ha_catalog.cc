// HaCatalog: lifecycle, health probe, HA loop, router and status (see
// ha_catalog.h). The failover, switchover and rejoin procedures are in
// ha_failover.cc; the option table in ha_catalog_plugin.cc.
#include "ha/ha_catalog.h"

#include "ha/ha_json.h"

#include <Poco/Environment.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Timestamp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <sstream>

#include <unistd.h>

namespace kestrel::host::ha {
namespace {

const char* role_name(kestrel_node_role role) {
  switch (role) {
    case KESTREL_ROLE_PRIMARY: return "primary";
    case KESTREL_ROLE_STANDBY: return "standby";
    case KESTREL_ROLE_FENCED: return "fenced";
    default: return "unknown";
  }
}

int64_t now_us() { return Poco::Timestamp().epochMicroseconds(); }

HaCatalogOptions parse_options(const CreateArgs& a) {
  HaCatalogOptions o;
  o.stores = a.get_list("stores");
  if (o.stores.empty()) throw Error(KESTREL_ERR_INVALID, "option stores: name at least one catalog component");
  // The nodes, written once (the stores and the replicator read the same
  // list): every store is a node, every node has a store, one server each.
  const std::vector<OptionMap> nodes = a.get_maps("nodes");
  std::set<std::string> node_names;
  for (size_t i = 0; i < nodes.size(); ++i) {
    const OptionMap& n = nodes[i];
    const std::string name = n.get_string("name");
    node_names.insert(name);
    const bool here = node_on_this_machine(nodes, name, a.node_name());  // as the replicator reads it
    if (n.is_set("data_dir") && here) o.data_dirs[name] = n.get_string("data_dir");
    if (n.is_set("nofailover") && n.get_bool("nofailover")) o.nofailover.insert(name);
    if ((n.is_set("data_dir") && here) || (!n.is_set("url") && !n.is_set("host"))) o.local_nodes.insert(name);
    if (n.is_set("url")) {
      // Held by another kestreld (its replicator serves it): no store here.
      o.remote_nodes[name] = n.get_string("url");
      if (std::find(o.stores.begin(), o.stores.end(), name) != o.stores.end())
        throw Error(KESTREL_ERR_INVALID, "option nodes: node '" + name + "' (" + n.where() +
                                             ") has a url, so another kestreld holds it: remove '" + name +
                                             "' from stores (this daemon opens only its own nodes' stores)");
      continue;
    }
    if (std::find(o.stores.begin(), o.stores.end(), name) == o.stores.end())
      throw Error(KESTREL_ERR_INVALID, "option nodes: node '" + name + "' (" + n.where() +
                                           ") has no store: add its catalog component '" + name + "' to stores");
    if (!n.is_set("host")) continue;
    const std::string address = n.get_string("host") + ":" + std::to_string(n.get_int("port"));
    for (size_t j = 0; j < i; ++j)
      if (nodes[j].is_set("host") &&
          nodes[j].get_string("host") + ":" + std::to_string(nodes[j].get_int("port")) == address)
        throw Error(KESTREL_ERR_INVALID, "option nodes: nodes '" + nodes[j].get_string("name") + "' (" +
                                             nodes[j].where() + ") and '" + name + "' (" + n.where() +
                                             ") have one address, " + address + ": each node needs its own server");
  }
  if (!nodes.empty())
    for (const std::string& store : o.stores)
      if (!node_names.count(store))
        throw Error(KESTREL_ERR_INVALID, "option stores: '" + store +
                                             "' is not a node of the nodes list: each store's component id is "
                                             "its node's name");
  o.has_replicator = a.is_set("replicator");
  o.has_coordinator = a.is_set("coordinator");
  if (!o.has_replicator && o.stores.size() > 1)
    throw Error(KESTREL_ERR_INVALID, "option stores: " + std::to_string(o.stores.size()) +
                                         " stores need a replicator (option replicator) to keep them in step");
  o.monitor.health_check_interval_ms = a.get_duration_ms("health_check_interval");
  o.monitor.retry_interval_ms = a.get_duration_ms("retry_interval");
  o.monitor.health_check_timeout_ms = a.get_duration_ms("health_check_timeout");
  o.monitor.failure_threshold = static_cast<int>(a.get_int("failure_threshold"));
  if (o.monitor.failure_threshold < 1 || o.monitor.failure_threshold > 100)
    throw Error(KESTREL_ERR_INVALID, "option failure_threshold: must be 1..100");
  if (o.monitor.health_check_interval_ms < 10 || o.monitor.retry_interval_ms < 10)
    throw Error(KESTREL_ERR_INVALID, "options health_check_interval and retry_interval: at least 10ms");
  o.auto_failover = a.get_bool("auto_failover");
  o.auto_rejoin = a.get_bool("auto_rejoin");
  o.maximum_lag_on_failover_bytes = static_cast<int64_t>(a.get_size_bytes("maximum_lag_on_failover"));
  o.read_from_standby = a.get_bool("read_from_standby");
  o.max_read_lag_ms = a.get_duration_ms("max_read_lag");
  o.failover_timeout_ms = a.get_duration_ms("failover_timeout");
  if (o.failover_timeout_ms < 1000) throw Error(KESTREL_ERR_INVALID, "option failover_timeout: at least 1s");
  return o;
}

// A read that failed after handing rows to its caller: never repeated.
class PartialRead : public Error {
 public:
  using Error::Error;
};

bool is_retryable(const Error& e) {
  return e.retryable() || e.code() == KESTREL_ERR_UNAVAILABLE || e.code() == KESTREL_ERR_UNKNOWN_OUTCOME;
}

// "<node>/<host>/<pid>/<random hex>": unique per process and per instance
// (two runtimes in one test process share a PID).
std::string member_id(const std::string& node) {
  std::random_device rd;
  char tag[16];
  std::snprintf(tag, sizeof tag, "%08x", rd());
  return node + "/" + Poco::Environment::nodeName() + "/" + std::to_string(::getpid()) + "/" + tag;
}

}  // namespace

HaCatalog::HaCatalog(const CreateArgs& args)
    : options_(parse_options(args)),
      id_(args.component_id()),
      this_node_(args.node_name().empty() ? "kestreld" : args.node_name()),
      member_(member_id(this_node_)),
      api_(args.host()),
      ctx_(args.host_ctx()),
      host_(args),
      auto_failover_(options_.auto_failover) {}

HaCatalog::~HaCatalog() { HaCatalog::stop(0); }

const CatalogClient& HaCatalog::Node::store() const {
  if (!store_)
    throw Error(KESTREL_ERR_UNAVAILABLE,
                "node " + name + " is held by the kestreld at " + url +
                    ": this daemon reads and writes only the stores it opened (it holds a standby; crawl where the "
                    "primary is)",
                true);
  return store_;
}

void HaCatalog::start() {
  for (size_t i = 0; i < options_.stores.size(); ++i) {
    Node n;
    n.name = options_.stores[i];
    n.store_ = CatalogClient(host_.lookup(("stores[" + std::to_string(i) + "]").c_str(), KESTREL_IFACE_CATALOG_V1));
    nodes_.push_back(std::move(n));
  }
  for (const auto& [name, url] : options_.remote_nodes) {
    Node n;
    n.name = name;
    n.url = url;
    nodes_.push_back(std::move(n));
  }
  for (Node& n : nodes_) {
    const std::string label = "node=\"" + n.name + "\"";
    n.healthy = host_.metric(KESTREL_METRIC_GAUGE, "kestrel_ha_node_healthy", "1 when the node's last check passed",
                             label);
    n.response_seconds = host_.metric(KESTREL_METRIC_GAUGE, "kestrel_ha_node_response_seconds",
                                      "seconds the node's last health check took", label);
    n.lag_bytes = host_.metric(KESTREL_METRIC_GAUGE, "kestrel_ha_node_lag_bytes",
                               "bytes the node's replay is behind the primary (NaN unknown)", label);
    n.lsn = host_.metric(KESTREL_METRIC_GAUGE, "kestrel_ha_node_lsn_bytes",
                         "the node's WAL position (primary: current; standby: replayed)", label);
  }
  epoch_metric_ = host_.metric(KESTREL_METRIC_GAUGE, "kestrel_ha_epoch", "the cluster's current epoch (term)");
  failovers_total_ = host_.metric(KESTREL_METRIC_COUNTER, "kestrel_ha_failovers_total",
                                  "failovers and switchovers that promoted a node");
  failover_seconds_ = host_.metric(KESTREL_METRIC_HISTOGRAM, "kestrel_ha_failover_duration_seconds",
                                   "seconds from a confirmed fault (or a request) to the new primary accepting writes",
                                   "", {0.5, 1, 2, 3, 5, 10, 30, 60});
  write_pause_seconds_ = host_.metric(KESTREL_METRIC_HISTOGRAM, "kestrel_ha_write_pause_seconds",
                                      "seconds writes were held by a failover or switchover", "",
                                      {0.1, 0.25, 0.5, 1, 2, 5, 10, 30});
  if (options_.has_replicator) {
    replicator_ = ReplicatorClient(host_.lookup("replicator", KESTREL_IFACE_REPLICATOR_V1));
    // Every replicator node has a store and every store is a replicator node.
    std::set<std::string> replicated;
    for (const NodeStatus& s : replicator_.node_status()) replicated.insert(s.node);
    for (const Node& n : nodes_)
      if (!replicated.count(n.name) && n.url.empty())
        throw Error(KESTREL_ERR_INVALID, "option stores: '" + n.name +
                                             "' is not a node of the replicator (each store's component id must be "
                                             "its node's name in the nodes list)");
    for (const std::string& r : replicated) {
      bool found = false;
      for (const Node& n : nodes_) found = found || n.name == r;
      if (!found)
        throw Error(KESTREL_ERR_INVALID, "option stores: the replicator's node '" + r +
                                             "' has no store: add a catalog component '" + r + "' to stores");
    }
  }

  if (options_.has_coordinator) {
    coordinator_ = CoordinatorClient(host_.lookup("coordinator", KESTREL_IFACE_COORDINATOR_V1));
  } else {
    own_coordinator_ = std::make_unique<LocalCoordinator>(api_, ctx_);
    coordinator_ = CoordinatorClient(own_coordinator_->as_interface());
  }
  // Patroni's ttl is three loop_waits: a leader that misses two renewals keeps it.
  lease_ttl_ms_ = 3 * options_.monitor.health_check_interval_ms + options_.monitor.health_check_timeout_ms;
  // The lease first: only its holder fences, promotes or writes the state.
  const bool leading = hold_lease();
  const CoordinatedState saved = load_state();
  {
    std::lock_guard<std::mutex> lock(mu_);
    // A runtime enable/disable survives a restart, unless the config's
    // value changed since (then the config is the newer word).
    if (saved.has_auto_failover && saved.auto_failover_configured == options_.auto_failover &&
        saved.auto_failover != auto_failover_) {
      auto_failover_ = saved.auto_failover;
      host_.logf(KESTREL_LOG_INFO, "auto_failover %s, as last set at run time (the config says %s)",
                 auto_failover_ ? "on" : "off", options_.auto_failover ? "on" : "off");
    }
    for (const Node& n : nodes_)
      if (n.name == saved.primary) primary_ = saved.primary;  // until a healthy primary is seen
    if (!primary_.empty()) last_primary_lsn_ = stored_primary_lsn_ = saved.primary_lsn;
  }
  if (!saved.promoting.empty())
    host_.logf(KESTREL_LOG_WARNING, "a failover from %s to %s at epoch %llu was interrupted; looking at the nodes",
               saved.primary.c_str(), saved.promoting.c_str(), static_cast<unsigned long long>(saved.epoch));
  monitor_ = std::make_unique<HealthMonitor>(
      options_.monitor, [this] { return probe(); },
      [this](const std::vector<NodeView>& views, bool changed) { on_check(views, changed); });
  // The first look, on the control thread: who is the primary now?
  std::vector<CheckResult> first = probe();
  std::string adopted;
  uint64_t store_epoch = 0;
  for (const CheckResult& r : first) {
    if (!r.answered || r.role != "primary") continue;
    uint64_t e = 0;
    std::string p;
    try {
      node(r.name).store().cluster_state(&e, &p);
    } catch (const Error&) {
      // No epoch from the store: one from before SDK 1.3, or a node another
      // kestreld holds (no store here). The coordinator's stored epoch
      // speaks for the primary it names, so a stale local primary (epoch 1)
      // never wins over the remote one it stored (epoch 2).
      if (r.name == saved.primary) e = saved.epoch;
    }
    // Two primaries: the one that knows the higher epoch wins; the other is
    // fenced by the first HA loop.
    if (adopted.empty() || e > store_epoch || (e == store_epoch && r.name == saved.primary)) {
      adopted = r.name;
      store_epoch = e;
    }
  }
  const uint64_t epoch = std::max<uint64_t>({saved.epoch, store_epoch, 1});
  // Without the lease the leader's stored primary is the word (unless a
  // failover runs there); with it, the node that answers as the primary.
  if (!adopted.empty() && (leading || saved.primary.empty() || !saved.promoting.empty())) {
    std::lock_guard<std::mutex> lock(mu_);
    primary_ = adopted;
  }
  const std::string p = primary();
  if (leading && adopted.empty() && !p.empty()) {
    // The stored primary answers, but not as a primary, and no node is one:
    // a failover stopped after its fence (or an operator demoted it). It is
    // failed over once confirmed, as if down.
    for (const CheckResult& r : first)
      if (r.name == p && r.answered) {
        std::lock_guard<std::mutex> lock(mu_);
        primary_refuses_writes_ = true;
        host_.logf(KESTREL_LOG_WARNING, "the primary %s of epoch %llu answers as %s: failing it over when confirmed",
                   p.c_str(), static_cast<unsigned long long>(epoch), r.role.c_str());
      }
  }
  if (leading && !adopted.empty() && replicator_) {
    // Any other node out of recovery lost (a lower epoch): fenced first, so
    // that the replicator sees no split brain. Then promote on the primary,
    // which only records the epoch there (durable before a write in it is
    // acknowledged) and tells the replicator which node is the primary (after
    // a restart it knows only its configured one).
    for (const CheckResult& r : first)
      if (r.answered && r.role == "primary" && r.name != adopted)
      {
        fence_node(r.name, "it accepts writes but " + adopted + " holds the higher epoch " + std::to_string(store_epoch));
        if (options_.auto_rejoin) queue_rejoin(r.name);
      }
    replicator_.promote(adopted, epoch, static_cast<uint32_t>(options_.failover_timeout_ms));
  }
  gate_.begin();
  gate_.end(epoch);
  epoch_metric_.set(static_cast<double>(epoch));
  save_state();  // as the leader only
  host_.logf(KESTREL_LOG_INFO, "epoch %llu, primary %s, %zu node(s), auto_failover %s%s",
             static_cast<unsigned long long>(epoch), p.empty() ? "(none answers yet)" : p.c_str(), nodes_.size(),
             auto_failover_ ? "on" : "off", leading ? "" : "; another daemon holds the lease: following it");
  {
    std::lock_guard<std::mutex> lock(rejoin_mu_);
    stopping_ = false;
  }
  rejoin_thread_ = std::thread([this] { rejoin_loop(); });
  if (options_.has_coordinator) lease_watch_thread_ = std::thread([this] { lease_watch_loop(); });
  monitor_->check_once();
  if (!options_.data_dirs.empty()) {
    postmaster_watch_ = std::make_unique<PostmasterWatch>(
        options_.data_dirs, options_.monitor.retry_interval_ms, [this](const std::string& node, long pid) {
          bool rejoining;
          {
            std::lock_guard<std::mutex> lock(rejoin_mu_);
            rejoining = rejoining_ == node;  // the rejoin stops and starts it: expected
          }
          host_.logf(rejoining ? KESTREL_LOG_INFO : KESTREL_LOG_WARNING,
                     "node %s: its postmaster (PID %ld) exited%s; checking the nodes now", node.c_str(), pid,
                     rejoining ? " (it is being rejoined)" : "");
          {
            std::lock_guard<std::mutex> lock(mu_);
            postmaster_exited_[node] = pid;
          }
          if (!rejoining) monitor_->alarm();
        });
    postmaster_watch_->start();
  }
  monitor_->start();
}

void HaCatalog::stop(uint32_t /*deadline_ms*/) {
  if (postmaster_watch_) postmaster_watch_->stop();
  if (monitor_) monitor_->stop();
  {
    std::lock_guard<std::mutex> lock(rejoin_mu_);
    stopping_ = true;
  }
  rejoin_cv_.notify_all();
  // Before the lease is released: a clean stop must not fence the primary.
  if (lease_watch_thread_.joinable()) lease_watch_thread_.join();
  release_lease();
  if (rejoin_thread_.joinable()) rejoin_thread_.join();
}

void HaCatalog::lease_watch_loop() {
  // The lease's keeper besides the HA loop, which renews it at its checks
  // but may be held up (a failover's record waiting for a standby, a slow
  // node check): once half the TTL is left, this thread renews (or, as a
  // follower, reaches the coordinator) itself, so that only a coordinator
  // that does not answer lets the deadline pass; then it fences within
  // 100 ms, where the HA loop would at its next check.
  std::unique_lock<std::mutex> lock(rejoin_mu_);
  while (!rejoin_cv_.wait_for(lock, std::chrono::milliseconds(100), [this] { return stopping_; })) {
    const int64_t stop_at = stop_writes_at_us_.load();
    if (stop_at == 0 || stop_at - now_us() > lease_ttl_ms_ * 1000 / 2) continue;
    lock.unlock();
    hold_lease();
    if (now_us() >= stop_writes_at_us_.load()) fence_own_primary_if_cut_off(primary());
    lock.lock();
  }
}

// ---- health ----------------------------------------------------------------

std::vector<CheckResult> HaCatalog::probe() {
  const auto t0 = std::chrono::steady_clock::now();
  const int64_t at = now_us();
  std::vector<CheckResult> out;
  auto elapsed_ms = [&] {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  };
  if (replicator_) {
    // One node_status queries every node (bounded by the replicator's
    // connect_timeout each); the time is the whole check's.
    std::vector<NodeStatus> statuses;
    std::string error;
    try {
      statuses = replicator_.node_status();
    } catch (const Error& e) {
      error = e.what();
    }
    const double ms = elapsed_ms();
    for (const NodeStatus& s : statuses) {
      CheckResult r;
      r.name = s.node;
      r.answered = s.healthy;
      r.role = role_name(s.role);
      r.priority = s.priority;
      r.sync_state = s.sync_state;
      r.lsn = s.lsn;
      r.receive_lsn = s.receive_lsn;
      r.lag_bytes = s.lag_bytes;
      r.lag_seconds = s.replay_lag_seconds;
      r.response_ms = s.healthy ? ms : -1;
      r.at_us = at;
      r.detail = s.detail;
      out.push_back(std::move(r));
    }
    if (statuses.empty())
      for (const Node& n : nodes_) {
        CheckResult r;
        r.name = n.name;
        r.at_us = at;
        r.detail = error.empty() ? "the replicator reported no such node" : error;
        out.push_back(std::move(r));
      }
  } else {
    // One node, no replicator: a real query on its store.
    for (const Node& n : nodes_) {
      CheckResult r;
      r.name = n.name;
      r.role = "primary";
      r.priority = 0;
      r.at_us = at;
      try {
        n.store().session_id(0, "kestrel-ha-health-check");
        r.answered = true;
      } catch (const Error& e) {
        r.answered = e.code() == KESTREL_ERR_NOT_FOUND;
        if (!r.answered) r.detail = e.what();
      }
      r.response_ms = r.answered ? elapsed_ms() : -1;
      out.push_back(std::move(r));
    }
  }
  keep_primary_view(out);
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (CheckResult& r : out) {
      auto exited = postmaster_exited_.find(r.name);
      if (exited == postmaster_exited_.end()) continue;
      if (r.answered) {
        postmaster_exited_.erase(exited);
      } else {
        r.detail = "its postmaster (PID " + std::to_string(exited->second) + ") exited" +
                   (r.detail.empty() ? "" : "; " + r.detail);
      }
    }
  }
  for (const CheckResult& r : out) {
    for (const Node& n : nodes_) {
      if (n.name != r.name) continue;
      n.healthy.set(r.answered ? 1 : 0);
      if (r.answered) n.response_seconds.set(r.response_ms / 1000.0);
      n.lag_bytes.set(r.lag_bytes < 0 ? std::nan("") : static_cast<double>(r.lag_bytes));
      if (r.answered) n.lsn.set(static_cast<double>(r.lsn));
    }
  }
  return out;
}

// While the primary does not answer, its pg_stat_replication is gone: each
// standby's sync_state is the one it had at the primary's last answer (what
// counts is whether it was synchronous when the primary died), and its lag is
// measured from the primary's last known position.
void HaCatalog::keep_primary_view(std::vector<CheckResult>& results) {
  std::lock_guard<std::mutex> lock(mu_);
  const CheckResult* p = nullptr;
  for (const CheckResult& r : results)
    if (r.name == primary_) p = &r;
  if (p == nullptr) return;
  if (p->answered) {
    last_primary_lsn_ = p->lsn;
    for (const CheckResult& r : results)
      if (r.name != primary_) last_sync_state_[r.name] = r.sync_state;
    return;
  }
  for (CheckResult& r : results) {
    if (r.name == primary_ || !r.answered || r.role != "standby") continue;
    if (r.sync_state.empty()) r.sync_state = last_sync_state_[r.name];
    if (r.lag_bytes < 0 && last_primary_lsn_ > 0) {
      const uint64_t have = std::max(r.lsn, r.receive_lsn);
      r.lag_bytes = last_primary_lsn_ > have ? static_cast<int64_t>(last_primary_lsn_ - have) : 0;
    }
  }
}

void HaCatalog::on_check(const std::vector<NodeView>& views, bool changed) {
  std::string p;
  bool auto_failover;
  {
    std::lock_guard<std::mutex> lock(mu_);
    p = primary_;
    auto_failover = auto_failover_;
  }
  if (gate_.in_progress()) return;  // a manual failover or switchover runs
  // Without the lease another daemon decides (or none can): this one only
  // watches and routes where the leader says; status says why (lease_note).
  // (A primary on this machine cut off from the coordinator is fenced by
  // lease_watch_loop, within 100 ms of the deadline.)
  if (!hold_lease()) {
    const CoordinatedState s = follow_state();
    if (s.read) fence_own_node_if_superseded(s, views);
    if (s.read && s.promoting.empty()) {
      rejoin_own_former_primary(views);
      repoint_own_standby(views);
    }
    return;
  }
  if (p.empty()) {
    for (const NodeView& v : views)
      if (v.healthy && v.role == "primary") {
        std::lock_guard<std::mutex> lock(mu_);
        primary_ = p = v.name;
        host_.logf(KESTREL_LOG_INFO, "primary is %s", p.c_str());
        break;
      }
    if (p.empty()) return;
    save_state();
  }
  // A second node accepting writes beside the primary of this epoch (a former
  // primary restarted, or one that never got our fence) is fenced at once:
  // two primaries never accept writes in one epoch. Then it rejoins.
  std::string rejoining;
  {
    std::lock_guard<std::mutex> lock(rejoin_mu_);
    rejoining = rejoining_;
  }
  for (const std::string& n : former_primaries_to_fence(views, p)) {
    // pg_rewind runs a rewound server once to finish its crash recovery: not a second primary.
    if (n == rejoining) continue;
    fence_node(n, "it accepts writes beside the primary " + p);
    if (options_.auto_rejoin) queue_rejoin(n);
  }
  for (const NodeView& v : views)
    if (v.name != p && v.healthy && v.role == "fenced" && options_.auto_rejoin) queue_rejoin(v.name);

  const NodeView* pv = nullptr;
  for (const NodeView& v : views)
    if (v.name == p) pv = &v;
  bool refuses = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (pv != nullptr && pv->healthy && pv->role == "primary") primary_refuses_writes_ = false;
    // Fenced while it was the primary (its own daemon, cut off from the
    // coordinator, fenced it; or an operator did): failed over as if down.
    if (pv != nullptr && pv->healthy && pv->role == "fenced") primary_refuses_writes_ = true;
    refuses = pv != nullptr && pv->healthy && primary_refuses_writes_;
  }
  if (!refuses &&
      (pv == nullptr || pv->healthy || pv->consecutive_failures < options_.monitor.failure_threshold)) {
    bool store_lsn;
    {
      std::lock_guard<std::mutex> lock(mu_);
      no_failover_reason_.clear();
      // The primary's position into the state, at most once per interval.
      const auto now = std::chrono::steady_clock::now();
      store_lsn = pv != nullptr && pv->healthy && last_primary_lsn_ != stored_primary_lsn_ &&
                  now - lsn_stored_at_ >= std::chrono::milliseconds(options_.monitor.health_check_interval_ms);
      if (store_lsn) {
        stored_primary_lsn_ = last_primary_lsn_;
        lsn_stored_at_ = now;
      }
    }
    if (store_lsn) save_state();
    return;
  }
  const std::string detail = refuses ? "it answers as " + pv->role + ", not as the primary" : pv->detail;
  // The primary is confirmed down.
  std::string why;
  PolicyDecision d;
  if (!auto_failover) {
    why = "auto_failover is off";
  } else if (!replicator_) {
    why = "nothing to fail over to: this catalog has one node";
  } else {
    d = decide(views, p);
    if (d.candidate.empty()) why = "no eligible standby: " + d.reasons();
  }
  if (!why.empty() && refuses && auto_failover && replicator_ && pv->role == "fenced") {
    // This daemon fenced its own primary while cut off from the coordinator,
    // and nobody was promoted since (same epoch): with no standby to take
    // over, the primary is promoted again at a new epoch (it holds every
    // acknowledged write), instead of leaving the cluster without one.
    std::string cut_off_fenced;
    uint64_t fenced_at_epoch = 0;
    {
      std::lock_guard<std::mutex> lock(coord_mu_);
      cut_off_fenced = cut_off_fenced_;
      fenced_at_epoch = cut_off_fenced_epoch_;
    }
    if (cut_off_fenced == p && fenced_at_epoch == gate_.epoch()) {
      try {
        run_failover(p, p, "the primary " + p + " fenced itself while this daemon was cut off from the coordinator, "
                           "and no standby may take over (" + why + "): promoted again at a new epoch", true, views);
        std::lock_guard<std::mutex> lock(coord_mu_);
        cut_off_fenced_.clear();
        return;
      } catch (const Error& e) {
        host_.logf(KESTREL_LOG_ERROR, "promoting %s again failed: %s", p.c_str(), e.what());
      }
    }
  }
  if (!why.empty()) {
    std::lock_guard<std::mutex> lock(mu_);
    if (changed || no_failover_reason_ != why)
      host_.logf(KESTREL_LOG_ERROR, "primary %s is down (%s) and no failover runs: %s", p.c_str(),
                 detail.c_str(), why.c_str());
    no_failover_reason_ = why;
    return;
  }
  // Another daemon may hold the primary and still route writes to it, only
  // cut off from us: unless its server refused the connection (it is down),
  // wait until that daemon has fenced it (self-fencing). Not for a node on
  // this machine, whose daemon is this one.
  if (!refuses && pv != nullptr && options_.has_coordinator && !options_.local_nodes.count(p)) {
    const int64_t wait =
        partition_wait_ms(*pv, now_us(), lease_ttl_ms_, options_.monitor.health_check_interval_ms);
    if (wait > 0) {
      if (changed)
        host_.logf(KESTREL_LOG_WARNING,
                   "primary %s does not answer (%s) but did not refuse the connection: it may only be cut off, "
                   "so the failover to %s waits %lld ms, until its own daemon has fenced it (lease TTL %lld ms "
                   "and one check)", p.c_str(), detail.c_str(), d.candidate.c_str(), static_cast<long long>(wait),
                   static_cast<long long>(lease_ttl_ms_));
      return;
    }
  }
  try {
    run_failover(p, d.candidate, "primary " + p + " down: " + detail, true, views);
  } catch (const Error& e) {
    host_.logf(KESTREL_LOG_ERROR, "automatic failover from %s to %s failed: %s", p.c_str(), d.candidate.c_str(),
               e.what());
  }
}

void HaCatalog::health() {
  const std::string p = primary();
  if (p.empty()) throw Error(KESTREL_ERR_UNAVAILABLE, "no primary accepts writes: none has answered yet");
  for (const NodeView& v : monitor_->snapshot())
    if (v.name == p && !v.healthy)
      throw Error(KESTREL_ERR_UNAVAILABLE, "the primary " + p + " does not answer: " + v.detail);
  if (gate_.in_progress()) throw Error(KESTREL_ERR_UNAVAILABLE, "a failover runs: writes are held");
}

// ---- state -----------------------------------------------------------------

const HaCatalog::Node& HaCatalog::node(const std::string& name) const {
  for (const Node& n : nodes_)
    if (n.name == name) return n;
  std::string known;
  for (const Node& n : nodes_) known += (known.empty() ? "" : ", ") + n.name;
  throw Error(KESTREL_ERR_NOT_FOUND, "unknown node '" + name + "' (nodes: " + known + ")");
}

std::string HaCatalog::primary() const {
  std::lock_guard<std::mutex> lock(mu_);
  return primary_;
}

ReplicationMode HaCatalog::mode() const {
  if (!replicator_) return ReplicationMode::kNone;
  try {
    switch (replicator_.mode()) {
      case KESTREL_REPLICATION_SYNC: return ReplicationMode::kSync;
      case KESTREL_REPLICATION_SEMI_SYNC: return ReplicationMode::kSemiSync;
      default: return ReplicationMode::kAsync;
    }
  } catch (const Error&) {
    return ReplicationMode::kAsync;
  }
}

PolicyDecision HaCatalog::decide(const std::vector<NodeView>& views, const std::string& exclude) const {
  PolicyOptions po;
  po.mode = mode();
  po.maximum_lag_on_failover = options_.maximum_lag_on_failover_bytes;
  po.nofailover = options_.nofailover;
  return choose_failover_candidate(views, exclude, po);
}

// ---- coordinator -----------------------------------------------------------

HaCatalog::CoordinatedState HaCatalog::load_state() {
  CoordinatedState out;
  uint64_t version = 0;
  std::string text;
  {
    std::lock_guard<std::mutex> io(coord_io_mu_);
    try {
      text = coordinator_.get_state(&version);
    } catch (const Error& e) {
      host_.logf(KESTREL_LOG_WARNING, "cluster state not read from the coordinator: %s", e.what());
      return out;
    }
  }
  out.read = true;
  try {
    auto o = Poco::JSON::Parser().parse(text).extract<Poco::JSON::Object::Ptr>();
    out.epoch = o->optValue<Poco::UInt64>("epoch", 0);
    out.primary = o->optValue<std::string>("primary", "");
    out.promoting = o->optValue<std::string>("promoting", "");
    out.primary_lsn = o->optValue<Poco::UInt64>("primary_lsn", 0);
    out.has_auto_failover = o->has("auto_failover");
    out.auto_failover = o->optValue<bool>("auto_failover", true);
    out.auto_failover_configured = o->optValue<bool>("auto_failover_configured", out.auto_failover);
  } catch (const Poco::Exception& e) {
    host_.logf(KESTREL_LOG_WARNING, "cluster state in the coordinator is not a JSON object (%s): ignored",
               e.displayText().c_str());
  }
  std::lock_guard<std::mutex> lock(coord_mu_);
  state_version_ = version;
  coordinated_epoch_ = out.epoch;
  return out;
}

void HaCatalog::write_state(uint64_t epoch, const std::string& primary_node, const std::string& promoting,
                            bool claim) {
  std::lock_guard<std::mutex> io(coord_io_mu_);
  uint64_t version, stored;
  {
    std::lock_guard<std::mutex> lock(coord_mu_);
    version = state_version_;
    stored = coordinated_epoch_;
  }
  for (int attempt = 0;; ++attempt) {
    // Two daemons claiming one epoch: the second finds it stored and loses.
    if (claim ? stored >= epoch : stored > epoch)
      throw Error(KESTREL_ERR_CONFLICT, "the coordinator holds epoch " + std::to_string(stored) + ", not older than " +
                                            (claim ? "the claimed " : "this daemon's ") + std::to_string(epoch) +
                                            ": another daemon moved the cluster on");
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    o->set("epoch", epoch);
    o->set("primary", primary_node);
    if (!promoting.empty()) o->set("promoting", promoting);
    uint64_t lsn;
    {
      std::lock_guard<std::mutex> lock(mu_);
      o->set("auto_failover", auto_failover_);
      lsn = last_primary_lsn_;
    }
    if (lsn > 0) o->set("primary_lsn", lsn);
    o->set("auto_failover_configured", options_.auto_failover);
    o->set("updated_at_us", now_us());
    o->set("by", member_);
    try {
      const uint64_t v = coordinator_.compare_and_set(version, to_text(o));
      std::lock_guard<std::mutex> lock(coord_mu_);
      state_version_ = v;
      coordinated_epoch_ = epoch;
      return;
    } catch (const Error& e) {
      if (e.code() != KESTREL_ERR_CONFLICT || attempt >= 3) throw;
    }
    // Lost: read what is there now and try again over it (unless newer).
    const std::string text = coordinator_.get_state(&version);
    try {
      auto now = Poco::JSON::Parser().parse(text).extract<Poco::JSON::Object::Ptr>();
      stored = std::max<uint64_t>(stored, now->optValue<Poco::UInt64>("epoch", 0));
    } catch (const Poco::Exception&) {
    }
    std::lock_guard<std::mutex> lock(coord_mu_);
    state_version_ = version;
    coordinated_epoch_ = stored;
  }
}

void HaCatalog::save_state() {
  uint64_t epoch = gate_.epoch();
  {
    std::lock_guard<std::mutex> lock(coord_mu_);
    if (!leader_) return;  // the leader's word only
    epoch = std::max(epoch, coordinated_epoch_);
  }
  try {
    write_state(epoch, primary(), "", false);
  } catch (const Error& e) {
    host_.logf(KESTREL_LOG_WARNING, "cluster state not saved in the coordinator: %s", e.what());
  }
}

uint64_t HaCatalog::claim_epoch(const std::string& from, const std::string& to) {
  uint64_t next = gate_.epoch();
  {
    std::lock_guard<std::mutex> lock(coord_mu_);
    next = std::max(next, coordinated_epoch_) + 1;
  }
  try {
    // `primary` stays the old one until `to` is promoted: a daemon that
    // restarts in between must not take a standby for the primary.
    write_state(next, from, to, true);
  } catch (const Error& e) {
    throw Error(KESTREL_ERR_BUSY, "epoch " + std::to_string(next) + " not claimed in the coordinator (" +
                                      e.what() + "): nothing changed");
  }
  return next;
}

HaCatalog::CoordinatedState HaCatalog::follow_state() {
  const CoordinatedState s = load_state();
  if (!s.read) return s;
  if (s.epoch > gate_.epoch() && gate_.begin()) {
    gate_.end(s.epoch);
    epoch_metric_.set(static_cast<double>(s.epoch));
    host_.logf(KESTREL_LOG_INFO, "epoch %llu, as the coordinator's leader stored it",
               static_cast<unsigned long long>(s.epoch));
  }
  if (s.primary.empty() || !s.promoting.empty()) return s;  // a failover runs there: writes retry meanwhile
  bool known = false;
  for (const Node& n : nodes_) known = known || n.name == s.primary;
  if (!known) return s;
  std::lock_guard<std::mutex> lock(mu_);
  if (primary_ != s.primary) {
    host_.logf(KESTREL_LOG_INFO, "primary is %s, as the coordinator's leader stored it", s.primary.c_str());
    primary_ = s.primary;
  }
  return s;
}

bool HaCatalog::hold_lease() {
  {
    std::lock_guard<std::mutex> lock(coord_mu_);
    if (leader_ && lease_until_us_ - now_us() > lease_ttl_ms_ * 1000 / 2) return true;
  }
  std::lock_guard<std::mutex> io(coord_io_mu_);
  Lease l;
  std::string error;
  try {
    l = coordinator_.acquire(member_, static_cast<uint32_t>(lease_ttl_ms_));
  } catch (const Error& e) {
    error = e.what();
  }
  std::lock_guard<std::mutex> lock(coord_mu_);
  const bool was = leader_;
  if (error.empty()) {
    leader_ = l.is_leader;
    lease_until_us_ = l.is_leader ? l.until_us : 0;
    lease_note_ = leader_ ? "" : "another daemon holds the coordinator's lease: it decides failovers";
    // A follower may route writes for one TTL after it last heard the
    // leader's word: a leader it cannot hear may have failed over by then.
    stop_writes_at_us_ = l.is_leader ? lease_until_us_ : now_us() + lease_ttl_ms_ * 1000;
    self_fenced_.clear();
  } else {
    // stop_writes_at_us_ stays the end of the lease held (or 0): writes stop then.
    leader_ = false;
    lease_note_ = "the coordinator does not answer (" + error + "): no failover without its lease";
  }
  if (was != leader_)
    host_.logf(leader_ ? KESTREL_LOG_INFO : KESTREL_LOG_WARNING, "%s",
               leader_ ? ("holding the coordinator's lease as " + member_).c_str() : lease_note_.c_str());
  return leader_;
}

bool HaCatalog::fence_own_node(const std::string& node, const std::string& why) {
  {
    std::lock_guard<std::mutex> lock(coord_mu_);
    if (self_fenced_ == node) return false;  // once per cut-off (cleared when the coordinator answers)
    self_fenced_ = node;
  }
  try {
    replicator_.fence(node);
    {
      std::lock_guard<std::mutex> lock(mu_);
      fenced_.insert(node);
      primary_refuses_writes_ = true;  // the leader (this daemon, once it leads again) fails it over
    }
    host_.logf(KESTREL_LOG_ERROR, "fenced the primary %s on this machine: %s", node.c_str(), why.c_str());
    return true;
  } catch (const Error& e) {
    std::lock_guard<std::mutex> lock(coord_mu_);
    self_fenced_.clear();  // tried again at the next check
    host_.logf(KESTREL_LOG_ERROR, "fencing the primary %s on this machine failed (%s): %s", node.c_str(),
               why.c_str(), e.what());
    return false;
  }
}

void HaCatalog::fence_own_primary_if_cut_off(const std::string& primary) {
  if (primary.empty() || !replicator_ || !options_.has_coordinator || !options_.local_nodes.count(primary)) return;
  const int64_t stop_at = stop_writes_at_us_.load();
  if (stop_at == 0 || now_us() < stop_at) return;
  if (fence_own_node(primary, "cut off from the coordinator for a lease TTL (" + std::to_string(lease_ttl_ms_) +
                                  " ms), it must acknowledge no write while another daemon may promote a standby (" +
                                  lease_note() + ")")) {
    std::lock_guard<std::mutex> lock(coord_mu_);
    cut_off_fenced_ = primary;
    cut_off_fenced_epoch_ = gate_.epoch();
  }
}

void HaCatalog::fence_own_node_if_superseded(const CoordinatedState& s, const std::vector<NodeView>& views) {
  const std::string& own = this_node_;
  if (!replicator_ || !options_.local_nodes.count(own)) return;
  // The leader promotes (or promoted) another node: a primary on this
  // machine must stop acknowledging now, not at the rejoin (the leader may
  // not reach it to fence it: a partition between the two daemons only).
  const std::string next = s.promoting.empty() ? s.primary : s.promoting;
  if (next.empty() || next == own) return;
  for (const NodeView& v : views)
    if (v.name == own && v.healthy && v.role == "primary")
      fence_own_node(own, "it still accepts writes but the coordinator's leader " +
                              std::string(s.promoting.empty() ? "made " : "is promoting ") + next + " at epoch " +
                              std::to_string(s.epoch));
}

void HaCatalog::repoint_own_standby(const std::vector<NodeView>& views) {
  const std::string& own = this_node_;
  if (!options_.auto_rejoin || !replicator_ || !options_.data_dirs.count(own)) return;
  const std::string p = primary();
  const NodeView* me = nullptr;
  const NodeView* pv = nullptr;
  for (const NodeView& v : views) {
    if (v.name == own) me = &v;
    if (v.name == p) pv = &v;
  }
  // A healthy standby that the healthy primary does not list as streaming
  // follows an old primary (the leader cannot re-point a server on another
  // machine): after kNotStreamingChecks checks in a row, rejoined here.
  constexpr int kNotStreamingChecks = 5;
  const bool lost = !p.empty() && p != own && me != nullptr && pv != nullptr && me->healthy && pv->healthy &&
                    pv->role == "primary" && me->role == "standby" && me->sync_state.empty();
  int checks = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    own_not_streaming_checks_ = lost ? own_not_streaming_checks_ + 1 : 0;
    checks = own_not_streaming_checks_;
  }
  if (checks >= kNotStreamingChecks && queue_rejoin(own)) {
    host_.logf(KESTREL_LOG_WARNING, "node %s (this machine's) is a standby but does not stream from the primary %s "
               "(%d checks): rejoining it to follow %s", own.c_str(), p.c_str(), checks, p.c_str());
    std::lock_guard<std::mutex> lock(mu_);
    own_not_streaming_checks_ = 0;
  }
}

void HaCatalog::rejoin_own_former_primary(const std::vector<NodeView>& views) {
  const std::string& own = this_node_;
  if (!options_.auto_rejoin || !replicator_ || !options_.data_dirs.count(own)) return;
  const int64_t stop_at = stop_writes_at_us_.load();
  if (stop_at == 0 || now_us() >= stop_at) return;  // cut off: the word followed may be stale
  const std::string p = primary();
  if (p.empty() || p == own) return;
  for (const NodeView& v : views)
    if (v.name == own && (v.role == "primary" || v.role == "fenced")) {
      // Its last answer (kept while it fails) was as a primary or fenced:
      // a former primary, which only this daemon can rewind and restart.
      if (queue_rejoin(own))
        host_.logf(KESTREL_LOG_INFO, "node %s (this machine's) was %s and %s is the primary now: rejoining it",
                   own.c_str(), v.role.c_str(), p.c_str());
    }
}

void HaCatalog::release_lease() {
  {
    std::lock_guard<std::mutex> lock(coord_mu_);
    if (!leader_ || !coordinator_) return;
  }
  std::lock_guard<std::mutex> io(coord_io_mu_);
  try {
    coordinator_.release(member_);
  } catch (const Error& e) {
    host_.logf(KESTREL_LOG_WARNING, "coordinator lease not released: %s", e.what());
  }
  std::lock_guard<std::mutex> lock(coord_mu_);
  leader_ = false;
  lease_until_us_ = 0;
  stop_writes_at_us_ = now_us();  // another daemon may lead from now on
}

// ---- router ----------------------------------------------------------------

uint64_t HaCatalog::catalog_write(uint64_t /*epoch*/, const std::vector<kestrel_catalog_op>& ops) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.failover_timeout_ms);
  int64_t backoff_ms = 10;
  for (;;) {
    uint64_t position = 0;
    std::string last = "no primary accepts writes";
    kestrel_result code = KESTREL_ERR_UNAVAILABLE;
    bool timed_out = false;
    bool not_replicated = false;  // committed on the primary, not yet on the standbys the mode needs
    const int64_t left_ms =
        std::max<int64_t>(1, std::chrono::duration_cast<std::chrono::milliseconds>(
                                 deadline - std::chrono::steady_clock::now())
                                 .count());
    const CallOutcome outcome = gate_.run(
        [&](uint64_t epoch) {
          const int64_t stop_at = stop_writes_at_us_.load();
          if (stop_at != 0 && now_us() >= stop_at) {
            last = "this daemon has not reached the coordinator for a lease TTL (" + std::to_string(lease_ttl_ms_) +
                   " ms; its lease, if it led, ran out unrenewed): it routes no writes until it does";
            return CallOutcome::kRetryable;
          }
          const std::string p = primary();
          if (p.empty()) return CallOutcome::kRetryable;
          try {
            position = node(p).store().write(epoch, ops.data(), ops.size());
          } catch (const Error& e) {
            last = e.what();
            code = e.code();
            return is_retryable(e) ? CallOutcome::kRetryable : CallOutcome::kFailed;
          }
          // Committed on the primary; acknowledged once replicated as the
          // mode requires (a change-log replicator waits here; PostgreSQL's
          // synchronous commit already did). Not repeated by the gate: the
          // caller gets the retryable error and its retry is idempotent.
          if (replicator_) {
            try {
              replicator_.wait_replicated(p, position, static_cast<uint32_t>(left_ms));
            } catch (const Error& e) {
              last = e.what();
              code = e.code();
              not_replicated = true;
              return CallOutcome::kFailed;
            }
          }
          return CallOutcome::kOk;
        },
        left_ms, &timed_out);
    if (outcome == CallOutcome::kOk) return position;
    if (outcome == CallOutcome::kFailed) throw Error(code, last, not_replicated);
    if (timed_out)
      throw Error(KESTREL_ERR_UNAVAILABLE,
                  "a failover held writes for failover_timeout (" + std::to_string(options_.failover_timeout_ms) +
                      " ms); retry: " + last,
                  true);
    // Retryable with no failover running: the primary may have just died,
    // before any check saw it. Check now, and ride through (bounded by
    // failover_timeout) unless the primary is confirmed down with no failover
    // coming: a failover costs the caller a pause, not an error.
    bool give_up;
    {
      std::lock_guard<std::mutex> lock(mu_);
      give_up = !no_failover_reason_.empty();
    }
    if (give_up || std::chrono::steady_clock::now() >= deadline) throw Error(code, last, true);
    monitor_->wake();
    // Backing off 10, 20, 40 ms... up to 100: a new primary's store may hand
    // out a few pooled connections from before the failover, each failing
    // once at once; a primary that just died takes a check or two to confirm.
    std::this_thread::sleep_for(std::chrono::milliseconds(backoff_ms));
    backoff_ms = std::min<int64_t>(backoff_ms * 2, 100);
  }
}

const HaCatalog::Node& HaCatalog::read_node() const {
  const std::string p = primary();
  if (options_.read_from_standby) {
    // The healthy standby within max_read_lag with the best priority.
    std::string best;
    int best_priority = 0;
    for (const NodeView& v : monitor_->snapshot()) {
      if (v.name == p || v.role != "standby" || !v.healthy || !node(v.name).url.empty() || v.lag_bytes < 0 ||
          std::isnan(v.lag_seconds) ||
          v.lag_seconds * 1000.0 > static_cast<double>(options_.max_read_lag_ms))
        continue;
      if (best.empty() || v.priority < best_priority) {
        best = v.name;
        best_priority = v.priority;
      }
    }
    if (!best.empty()) return node(best);
  }
  if (p.empty()) throw Error(KESTREL_ERR_UNAVAILABLE, "no primary accepts reads or writes yet", true);
  return node(p);
}

// Reads ride through a failover like writes: a retryable failure is tried
// again (on the node the router names then) until failover_timeout, unless
// the primary is down with no failover coming. `call` is repeated, so it must
// not have delivered anything when it fails (read_images checks that).
void HaCatalog::read_through(bool primary_only, const std::function<void(const Node&)>& call) const {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.failover_timeout_ms);
  int64_t backoff_ms = 10;
  for (;;) {
    try {
      const int64_t left_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                  deadline - std::chrono::steady_clock::now())
                                  .count();
      gate_.wait_open(std::max<int64_t>(left_ms, 1));
      const std::string p = primary();
      if (primary_only && p.empty())
        throw Error(KESTREL_ERR_UNAVAILABLE, "no primary accepts reads or writes yet", true);
      call(primary_only ? node(p) : read_node());
      return;
    } catch (const Error& e) {
      bool give_up;
      {
        std::lock_guard<std::mutex> lock(mu_);
        give_up = !no_failover_reason_.empty();
      }
      if (dynamic_cast<const PartialRead*>(&e) != nullptr || !is_retryable(e) || give_up ||
          std::chrono::steady_clock::now() >= deadline)
        throw;
    }
    monitor_->wake();
    std::this_thread::sleep_for(std::chrono::milliseconds(backoff_ms));
    backoff_ms = std::min<int64_t>(backoff_ms * 2, 100);
  }
}

void HaCatalog::catalog_read_images(uint64_t /*epoch*/, const kestrel_image_query& query,
                                    const std::function<bool(const kestrel_image_row&)>& fn) {
  read_through(false, [&](const Node& n) {
    uint64_t delivered = 0;
    try {
      n.store().read_images(gate_.epoch(), query, [&](const kestrel_image_row& row) {
        ++delivered;
        return fn(row);
      });
    } catch (const Error& e) {
      // Rows already handed to the caller cannot be taken back: not repeated.
      if (delivered > 0) throw PartialRead(e.code(), e.what(), e.retryable());
      throw;
    }
  });
}

int64_t HaCatalog::catalog_session_id(uint64_t /*epoch*/, const std::string& session_key) {
  // Read-your-writes: the crawler looks up the session it just wrote.
  int64_t id = 0;
  read_through(true, [&](const Node& n) { id = n.store().session_id(gate_.epoch(), session_key); });
  return id;
}

uint64_t HaCatalog::catalog_count_images(uint64_t /*epoch*/, const kestrel_image_query& query) {
  uint64_t count = 0;
  read_through(false, [&](const Node& n) { count = n.store().count_images(gate_.epoch(), query); });
  return count;
}

void HaCatalog::catalog_read_failover_events(
    uint64_t /*epoch*/, uint32_t limit, const std::function<bool(int64_t, const kestrel_failover_record&)>& fn) {
  read_through(true, [&](const Node& n) {
    uint64_t delivered = 0;
    try {
      n.store().read_failover_events(gate_.epoch(), limit, [&](int64_t id, const kestrel_failover_record& r) {
        ++delivered;
        return fn(id, r);
      });
    } catch (const Error& e) {
      if (delivered > 0) throw PartialRead(e.code(), e.what(), e.retryable());
      throw;
    }
  });
}

void HaCatalog::catalog_cluster_state(uint64_t* epoch, std::string* primary_node) {
  *epoch = gate_.epoch();
  *primary_node = primary();
}

// ---- status ----------------------------------------------------------------

ClusterView HaCatalog::status() const {
  ClusterView c;
  c.epoch = gate_.epoch();
  c.mode = mode_name(mode());
  c.failover_in_progress = gate_.in_progress();
  {
    std::lock_guard<std::mutex> lock(coord_mu_);
    if (leader_) c.leader = this_node_;  // another daemon's name comes with the etcd coordinator
    c.lease_note = lease_note_;
  }
  c.this_node = this_node_;
  {
    std::lock_guard<std::mutex> lock(mu_);
    c.primary = primary_;
    c.auto_failover = auto_failover_;
  }
  c.nodes = monitor_ ? monitor_->snapshot() : std::vector<NodeView>();
  const PolicyDecision d = decide(c.nodes, c.primary);
  for (NodeView& n : c.nodes) {
    if (n.name == c.primary) continue;
    n.eligible = true;
    for (const Rejection& r : d.rejected)
      if (r.node == n.name) {
        n.eligible = false;
        n.not_eligible_reason = r.reason;
      }
  }
  c.failover_candidate = d.candidate;
  if (d.candidate.empty()) c.no_candidate_reason = replicator_ ? d.reasons() : "this catalog has one node";
  return c;
}

std::string HaCatalog::status_json() {
  Poco::JSON::Object::Ptr o = cluster_json(status());
  std::lock_guard<std::mutex> lock(mu_);
  o->set("no_failover_reason", no_failover_reason_);
  return to_text(o);
}

const void* HaCatalog::interface_table(const char* interface_name) {
  if (std::string(interface_name) == kHaControlInterface) return static_cast<const HaControl*>(this);
  return Component::interface_table(interface_name);
}

}  // namespace kestrel::host::ha
