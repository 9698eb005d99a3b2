#include "changelog_replicator.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/Timestamp.h>

#include <algorithm>
#include <cmath>
#include <sstream>

#include <unistd.h>

#include "pg_node.h"
#include "pg_conninfo.h"
#include "remote_node.h"
#include "snapshot.h"

namespace kestrel {
namespace replicator_changelog {
namespace {

int64_t now_us() { return Poco::Timestamp().epochMicroseconds(); }

const char* mode_name(kestrel_replication_mode m) {
  switch (m) {
    case KESTREL_REPLICATION_SYNC: return "sync";
    case KESTREL_REPLICATION_SEMI_SYNC: return "semi-sync";
    default: return "async";
  }
}

kestrel_replication_mode parse_mode(const std::string& text) {
  if (text == "async") return KESTREL_REPLICATION_ASYNC;
  if (text == "semi-sync") return KESTREL_REPLICATION_SEMI_SYNC;
  if (text == "sync") return KESTREL_REPLICATION_SYNC;
  throw Error(KESTREL_ERR_INVALID, "option mode: \"" + text + "\" is not async, semi-sync or sync");
}

// The libpq conninfo of PostgreSQL node `m`: its address from the node,
// the credentials from the replicator's `conninfo` option.
void postgres_node(const CreateArgs& args, const OptionMap& m, int64_t timeout_ms, NodeSpec* n) {
  if (!m.is_set("nofailover") || !m.get_bool("nofailover"))
    throw Error(KESTREL_ERR_INVALID, "option nodes: node " + n->name + " (" + m.where() +
                                         "): a PostgreSQL standby of the change log keeps no log of its own and is "
                                         "never promoted: set nofailover: true on it");
  const std::string raw = args.is_set("conninfo") ? args.get_string("conninfo") : std::string();
  if (raw.empty())
    throw Error(KESTREL_ERR_INVALID, "option conninfo: needed for the PostgreSQL node " + n->name +
                                         " (its credentials, e.g. 'user=kestrel password=...')");
  std::map<std::string, std::string> kv = pg::parse("option conninfo: not a libpq connection string or URI", raw);
  for (const char* key : {"host", "hostaddr", "port", "dbname"})
    if (kv.count(key))
      throw Error(KESTREL_ERR_INVALID, std::string("option conninfo: ") + key +
                                           "= is the node's, in the nodes list; leave it out here");
  kv["host"] = m.get_string("host");
  kv["port"] = std::to_string(m.get_int("port"));
  kv["dbname"] = m.get_string("dbname");
  // libpq counts connect_timeout in whole seconds and treats 1 as 2.
  kv["connect_timeout"] = std::to_string(std::max<int64_t>(2, (timeout_ms + 999) / 1000));
  // A server cut off mid-query is given up on, not waited for until the
  // kernel's two-hour keepalive: TCP keepalives after a peer_timeout idle
  // (probes 1 s apart, 3 lost = dead), and unacknowledged data for a
  // peer_timeout ends the connection (TCP_USER_TIMEOUT, libpq's
  // tcp_user_timeout in ms). The conninfo option may set its own.
  const std::map<std::string, std::string> keepalive = {
      {"keepalives", "1"},
      {"keepalives_idle", std::to_string(std::max<int64_t>(1, timeout_ms / 1000))},
      {"keepalives_interval", "1"},
      {"keepalives_count", "3"},
      {"tcp_user_timeout", std::to_string(timeout_ms)}};
  for (const auto& k : keepalive) kv.emplace(k);
  if (!kv.count("application_name")) kv["application_name"] = "kestrel-replicator-changelog";
  n->conninfo = pg::join(pg::Conninfo(kv.begin(), kv.end()));
  n->server = kv["host"] + ":" + kv["port"] + "/" + kv["dbname"] + " as " + (kv.count("user") ? kv["user"] : "(OS user)");
}

std::vector<NodeSpec> parse_nodes(const CreateArgs& args, int64_t timeout_ms) {
  std::vector<NodeSpec> out;
  for (const OptionMap& m : args.get_maps("nodes")) {
    NodeSpec n;
    n.name = m.get_string("name");
    n.priority = static_cast<int>(m.get_int("priority"));
    const bool has_path = m.is_set("path") && !m.get_string("path").empty();
    const bool has_url = m.is_set("url") && !m.get_string("url").empty();
    const bool has_host = m.is_set("host") && !m.get_string("host").empty();
    if (int(has_path) + int(has_url) + int(has_host) != 1)
      throw Error(KESTREL_ERR_INVALID, "option nodes: node " + n.name + " (" + m.where() +
                                           "): give one of path (its SQLite catalog file on this machine), url "
                                           "(the HA API of the kestreld holding it) or host (a PostgreSQL standby), "
                                           "not " + (has_path || has_url || has_host ? "several" : "none"));
    if (has_host) {
      if (out.empty())
        throw Error(KESTREL_ERR_INVALID, "option nodes: node " + n.name + " (" + m.where() +
                                             "): the first node is the primary of a new cluster and must be an "
                                             "SQLite file (path) or a kestreld's (url); PostgreSQL nodes are standbys");
      postgres_node(args, m, timeout_ms, &n);
      out.push_back(std::move(n));
      continue;
    }
    if (has_url) {
      n.url = m.get_string("url");
      out.push_back(std::move(n));
      continue;
    }
    n.path = m.get_string("path");
    for (const NodeSpec& o : out)
      if (!o.path.empty() && o.path == n.path)
        throw Error(KESTREL_ERR_INVALID, "option nodes: nodes " + o.name + " and " + n.name + " share the file " + n.path);
    out.push_back(std::move(n));
  }
  if (out.empty())
    throw Error(KESTREL_ERR_INVALID,
                "option nodes: missing or empty: list the nodes (name, priority, path), the primary first, or name "
                "the component holding the list (nodes: catalog)");
  return out;
}

}  // namespace

ChangelogReplicator::ChangelogReplicator(const CreateArgs& args) : host_(args) {
  const int64_t busy_timeout_ms = args.get_duration_ms("busy_timeout");
  busy_timeout_ms_ = busy_timeout_ms;
  const std::string token = args.is_set("peer_token") ? args.get_string("peer_token") : std::string();
  const int64_t peer_timeout_ms = std::max<int64_t>(100, args.get_duration_ms("peer_timeout"));
  bool any_local = false;
  for (NodeSpec& n : parse_nodes(args, peer_timeout_ms)) {
    if (!n.conninfo.empty()) {
      files_.push_back(std::make_unique<PgNode>(std::move(n), peer_timeout_ms));
    } else if (n.url.empty()) {
      any_local = true;
      files_.push_back(std::make_unique<CatalogFile>(std::move(n), busy_timeout_ms));
    } else {
      files_.push_back(std::make_unique<RemoteNode>(std::move(n), token, peer_timeout_ms));
    }
  }
  if (!any_local)
    throw Error(KESTREL_ERR_INVALID, "option nodes: every node has a url: this daemon must hold at least one node "
                                     "(a path)");
  snapshot_chunk_bytes_ = static_cast<int64_t>(args.get_size_bytes("snapshot_chunk"));
  if (snapshot_chunk_bytes_ < 4096 || snapshot_chunk_bytes_ > (32 << 20))
    throw Error(KESTREL_ERR_INVALID, "option snapshot_chunk: must be 4KiB..32MiB (the HA API takes bodies up to 64 MiB)");
  configured_mode_ = parse_mode(args.get_string("mode"));
  mode_ = configured_mode_;
  const std::string bootstrap = args.get_string("bootstrap");
  if (bootstrap != "auto" && bootstrap != "manual")
    throw Error(KESTREL_ERR_INVALID, "option bootstrap: \"" + bootstrap + "\" is not auto or manual");
  bootstrap_auto_ = bootstrap == "auto";
  const std::string fallback = args.get_string("sync_fallback");
  if (fallback != "none" && fallback != "async")
    throw Error(KESTREL_ERR_INVALID, "option sync_fallback: \"" + fallback + "\" is not none or async");
  sync_fallback_async_ = fallback == "async";
  batch_size_ = args.get_int("batch_size");
  if (batch_size_ < 1 || batch_size_ > 100000)
    throw Error(KESTREL_ERR_INVALID, "option batch_size: " + std::to_string(batch_size_) + " is not in 1..100000");
  ship_interval_ms_ = std::max<int64_t>(1, args.get_duration_ms("ship_interval"));
  sync_timeout_ms_ = std::max<int64_t>(1, args.get_duration_ms("sync_timeout"));
  max_log_entries_ = args.get_int("max_log_entries");
  if (max_log_entries_ < 1) throw Error(KESTREL_ERR_INVALID, "option max_log_entries: must be at least 1");
  range_size_ = args.get_int("range_size");
  if (range_size_ < 1) throw Error(KESTREL_ERR_INVALID, "option range_size: must be at least 1");
}

ChangelogReplicator::~ChangelogReplicator() { ChangelogReplicator::stop(0); }

CatalogFile& ChangelogReplicator::local_file(const std::string& name, const std::string& what) {
  CatalogNode& n = file(name);
  if (!n.is_local())
    throw Error(KESTREL_ERR_INVALID, what + ": node " + name + " is held by the kestreld at " + n.spec().url +
                                         ": run it there");
  return static_cast<CatalogFile&>(n);
}

CatalogNode& ChangelogReplicator::file(const std::string& name) {
  for (auto& f : files_)
    if (f->spec().name == name) return *f;
  std::string known;
  for (auto& f : files_) known += (known.empty() ? "" : ", ") + f->spec().name;
  throw Error(KESTREL_ERR_NOT_FOUND, "unknown node '" + name + "' (nodes: " + known + ")");
}

std::string ChangelogReplicator::primary_name() const {
  std::lock_guard<std::mutex> lock(mu_);
  return primary_;
}

bool ChangelogReplicator::is_standby(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  return !primary_.empty() && name != primary_;
}

void ChangelogReplicator::start() {
  // The primary: the file that says so with the highest epoch; else the first node.
  std::string primary;
  int64_t best_epoch = -1;
  std::map<std::string, FileState> states;
  for (auto& f : files_) {
    try {
      states[f->spec().name] = f->state();
    } catch (const Error& e) {
      host_.logf(KESTREL_LOG_WARNING, "node %s does not answer: %s", f->spec().name.c_str(), e.what());
    }
  }
  for (auto& f : files_) {
    auto it = states.find(f->spec().name);
    if (it != states.end() && it->second.role == "primary" && it->second.epoch > best_epoch) {
      primary = f->spec().name;
      best_epoch = it->second.epoch;
    }
  }
  bool new_cluster = true;  // no file was ever replicated
  for (const auto& kv : states) new_cluster = new_cluster && kv.second.role == "none";
  if (primary.empty() && new_cluster && !files_.front()->is_local()) {
    // The daemon holding the first node starts the cluster; until it
    // answers, nothing is shipped (maintenance looks again each second).
    host_.logf(KESTREL_LOG_INFO, "a new cluster: waiting for the kestreld holding the first node %s (%s)",
               files_.front()->spec().name.c_str(), files_.front()->spec().url.c_str());
  } else if (primary.empty() && new_cluster) {
    const std::string first = files_.front()->spec().name;
    auto it = states.find(first);
    if (it == states.end())
      throw Error(KESTREL_ERR_UNAVAILABLE, "a new cluster, and its first node " + first +
                                               " does not answer: nothing to replicate from", true);
    files_.front()->promote(static_cast<uint64_t>(it->second.epoch));
    primary = first;
    best_epoch = it->second.epoch;
    host_.logf(KESTREL_LOG_INFO, "node %s is the primary (the first node; its writes are logged from now on)",
               first.c_str());
  } else if (primary.empty()) {
    // Never promote on our own here: the HA catalog fails over (with its
    // eligibility rules and epoch); until then nothing is shipped.
    host_.logf(KESTREL_LOG_ERROR, "no node answers as the primary (lost, or not reachable): fail over to a standby "
                                  "(the HA catalog does when it confirms the primary down; kestrelctl failover)");
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    primary_ = primary;
    primary_epoch_ = primary.empty() ? -1 : best_epoch;
    stopping_ = false;
    for (auto& f : files_) {
      Progress& p = progress_[f->spec().name];
      auto it = states.find(f->spec().name);
      if (it != states.end()) {
        p.applied_seq = it->second.head_seq;
        p.applied_commit_seq = it->second.commit_seq;
        p.epoch = it->second.epoch;
      }
    }
  }
  for (auto& f : files_) {
    const std::string& n = f->spec().name;
    const std::string label = "standby=\"" + n + "\"";
    StandbyMetrics& m = metrics_[n];
    m.lag_entries = host_.metric(KESTREL_METRIC_GAUGE, "kestrel_changelog_lag_entries",
                                 "change-log entries the standby has not applied yet", label);
    m.lag_bytes = host_.metric(KESTREL_METRIC_GAUGE, "kestrel_changelog_lag_bytes",
                               "bytes of row images the standby has not applied yet", label);
    m.lag_seconds = host_.metric(KESTREL_METRIC_GAUGE, "kestrel_changelog_lag_seconds",
                                 "age of the oldest change the standby has not applied, seconds", label);
    m.applied_total = host_.metric(KESTREL_METRIC_COUNTER, "kestrel_changelog_applied_total",
                                   "change-log entries applied on the standby", label);
  }
  fallbacks_total_ = host_.metric(KESTREL_METRIC_COUNTER, "kestrel_changelog_sync_fallbacks_total",
                                  "writes acknowledged in async mode after sync_timeout (sync_fallback: async)");
  for (size_t i = 0; i < files_.size(); ++i) threads_.emplace_back([this, i] { ship_loop(i); });
  threads_.emplace_back([this] { maintenance_loop(); });
  host_.logf(KESTREL_LOG_INFO, "change-log replication: primary %s, %zu standby(s), mode %s",
             primary.empty() ? "(none)" : primary.c_str(),
             files_.size() - 1, mode_name(mode_));
}

void ChangelogReplicator::stop(uint32_t /*deadline_ms*/) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  ship_cv_.notify_all();
  applied_cv_.notify_all();
  for (std::thread& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
}

void ChangelogReplicator::health() {
  const std::string p = primary_name();
  if (p.empty()) throw Error(KESTREL_ERR_UNAVAILABLE, "no primary");
  file(p).state();
}

// ---- shipping --------------------------------------------------------------

void ChangelogReplicator::ship_loop(size_t index) {
  CatalogNode& f = *files_[index];
  for (;;) {
    uint64_t requests;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
      requests = ship_requests_;
    }
    const bool shipped = is_standby(f.spec().name) && ship_once(f);
    if (shipped) continue;  // more may be waiting
    std::unique_lock<std::mutex> lock(mu_);
    ship_cv_.wait_for(lock, std::chrono::milliseconds(ship_interval_ms_),
                      [&] { return stopping_ || ship_requests_ != requests; });
  }
}

bool ChangelogReplicator::ship_once(CatalogNode& f) {
  const std::string name = f.spec().name;
  const std::string primary = primary_name();
  if (primary.empty() || primary == name) return false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (std::chrono::steady_clock::now() < progress_[name].retry_at) return false;
  }
  auto set = [&](bool streaming, const std::string& detail) {
    std::lock_guard<std::mutex> lock(mu_);
    Progress& p = progress_[name];
    p.streaming = streaming;
    p.detail = detail;
    if (streaming) p.backoff_ms = 0;
  };
  try {
    CatalogNode& pf = file(primary);
    if (!pf.is_local()) return false;  // the daemon holding the primary ships
    const FileState st = f.state();
    if (st.role == "none") {
      if (st.commit_seq == 0 && bootstrap_auto_) {
        rebuild(f, "a new standby");
        return true;
      }
      set(false, st.commit_seq == 0 ? "not bootstrapped (bootstrap: manual): kestrelctl bootstrap " + name
                                    : "not bootstrapped: the file holds a catalog of its own; bootstrap " + name +
                                          " with force to replace it by a copy of " + primary);
      return false;
    }
    if (st.role != "standby") {
      set(false, "it is " + st.role + ", not a standby: rejoin it");
      return false;
    }
    const FileState ps = pf.state();
    if (st.source != primary && ps.promoted_at_seq > 0 && st.head_seq > ps.promoted_at_seq) {
      set(false, "it applied changes of " + st.source + " past where " + primary + " was promoted (" +
                     std::to_string(ps.promoted_at_seq) + "): rejoin it");
      return false;
    }
    bool lacks_truncated = ps.first_seq > st.head_seq + 1 || (ps.first_seq == 0 && ps.head_seq > st.head_seq);
    {
      std::lock_guard<std::mutex> lock(mu_);
      lacks_truncated = lacks_truncated || progress_[name].needs_rebuild;
    }
    if (lacks_truncated) {
      if (!bootstrap_auto_) {
        set(false, "it needs a rebuild: the primary's change log no longer holds the changes after " +
                       std::to_string(st.head_seq) + " (bootstrap " + name + " with force)");
        return false;
      }
      rebuild(f, "the primary's change log no longer holds the changes after " + std::to_string(st.head_seq));
      return true;
    }
    const std::vector<Entry> entries = pf.entries_after(st.head_seq, static_cast<size_t>(batch_size_));
    if (entries.empty()) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        Progress& p = progress_[name];
        p.applied_seq = st.head_seq;
        p.applied_commit_seq = st.commit_seq;
        p.epoch = st.epoch;
      }
      set(true, "");
      applied_cv_.notify_all();
      return false;
    }
    const int64_t head = f.apply(primary, entries);
    const auto now = std::chrono::steady_clock::now();
    bool persist = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      Progress& p = progress_[name];
      p.applied_seq = head;
      p.applied_commit_seq = entries.back().commit_seq;
      p.epoch = std::max(p.epoch, entries.back().epoch);
      persist = p.persisted_seq != head && now - p.persisted_at >= std::chrono::seconds(1);
      if (persist) {
        p.persisted_seq = head;
        p.persisted_at = now;
      }
    }
    set(true, "");
    metrics_.at(name).applied_total.add(static_cast<double>(entries.size()));
    applied_cv_.notify_all();
    if (persist) {
      try {
        pf.record_position(name, head, entries.back().commit_seq, entries.back().epoch);
      } catch (const Error& e) {
        host_.logf(KESTREL_LOG_DEBUG, "%s's position not recorded on %s: %s", name.c_str(), primary.c_str(), e.what());
      }
    }
    return true;
  } catch (const Error& e) {
    std::lock_guard<std::mutex> lock(mu_);
    Progress& p = progress_[name];
    if (p.streaming || p.detail != e.what())
      host_.logf(KESTREL_LOG_WARNING, "standby %s: %s (retried with back-off)", name.c_str(), e.what());
    p.streaming = false;
    p.detail = e.what();
    p.backoff_ms = std::min<int64_t>(std::max<int64_t>(100, p.backoff_ms * 2), 5000);
    p.retry_at = std::chrono::steady_clock::now() + std::chrono::milliseconds(p.backoff_ms);
    return false;
  }
}

void ChangelogReplicator::rebuild(CatalogNode& standby, const std::string& why) {
  const std::string primary = primary_name();
  CatalogFile& pf = local_file(primary, "rebuild of " + standby.spec().name + " from the primary");
  const auto t0 = std::chrono::steady_clock::now();
  if (standby.is_local()) {
    static_cast<CatalogFile&>(standby).copy_from(primary, pf.spec().path);
  } else if (!standby.spec().conninfo.empty()) {
    // Rows read from a snapshot (one read transaction on the primary), so
    // the copy is of one position even while writes go on.
    const std::string snap = temp_path_beside(pf.spec().path, standby.spec().name + "-" + std::to_string(now_us()) + ".db");
    try {
      take_snapshot(pf.spec().path, snap, busy_timeout_ms_);
      CatalogFile copy(NodeSpec{primary + " (snapshot)", 0, snap, "", "", ""}, busy_timeout_ms_);
      static_cast<PgNode&>(standby).copy_from(primary, copy);
    } catch (...) {
      ::unlink(snap.c_str());
      throw;
    }
    ::unlink(snap.c_str());
  } else {
    // A snapshot of one read transaction (the backup API), sent in chunks.
    // Unique per rebuild: a bootstrap and the shipper may rebuild one standby at once.
    const std::string snap =
        temp_path_beside(pf.spec().path, standby.spec().name + "-" + std::to_string(now_us()) + ".db");
    try {
      take_snapshot(pf.spec().path, snap, busy_timeout_ms_);
      static_cast<RemoteNode&>(standby).restore_snapshot(primary, snap, snapshot_chunk_bytes_);
    } catch (...) {
      ::unlink(snap.c_str());
      throw;
    }
    ::unlink(snap.c_str());
  }
  const FileState st = standby.state();
  {
    std::lock_guard<std::mutex> lock(mu_);
    Progress& p = progress_[standby.spec().name];
    p.needs_rebuild = false;
    p.applied_seq = st.head_seq;
    p.applied_commit_seq = st.commit_seq;
    p.epoch = st.epoch;
    p.detail.clear();
  }
  host_.logf(KESTREL_LOG_INFO, "standby %s rebuilt as a copy of %s (%s) in %lld ms, at change %lld",
             standby.spec().name.c_str(), primary.c_str(), why.c_str(),
             static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::steady_clock::now() - t0)
                                        .count()),
             static_cast<long long>(st.head_seq));
  applied_cv_.notify_all();
}

void ChangelogReplicator::maintenance_loop() {
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (ship_cv_.wait_for(lock, std::chrono::seconds(1), [&] { return stopping_; })) return;
    }
    discover_primary();
    const std::string primary = primary_name();
    if (primary.empty()) continue;
    try {
      CatalogNode& pf = file(primary);
      if (!pf.is_local()) continue;  // the daemon holding the primary truncates
      const FileState ps = pf.state();
      // Truncate what every standby applied; a standby further behind than
      // max_log_entries is marked for rebuild instead of holding the log.
      int64_t keep_after = ps.head_seq;
      std::vector<std::string> standbys;
      {
        std::lock_guard<std::mutex> lock(mu_);
        for (auto& kv : progress_) {
          if (kv.first == primary) continue;
          Progress& p = kv.second;
          if (ps.head_seq - p.applied_seq > max_log_entries_) {
            if (!p.needs_rebuild)
              host_.logf(KESTREL_LOG_WARNING,
                         "standby %s is %lld changes behind (max_log_entries %lld): marked for rebuild",
                         kv.first.c_str(), static_cast<long long>(ps.head_seq - p.applied_seq),
                         static_cast<long long>(max_log_entries_));
            p.needs_rebuild = true;
          }
          if (!p.needs_rebuild) keep_after = std::min(keep_after, p.applied_seq);
          standbys.push_back(kv.first);
        }
      }
      if (ps.first_seq > 0 && keep_after >= ps.first_seq) {
        pf.truncate(keep_after);
        for (const std::string& s : standbys) {
          try {
            file(s).truncate(keep_after);
          } catch (const Error&) {
            // a standby that does not answer truncates at a later round
          }
        }
      }
    } catch (const Error& e) {
      host_.logf(KESTREL_LOG_DEBUG, "change-log maintenance: %s", e.what());
    }
  }
}

void ChangelogReplicator::discover_primary() {
  // The states are read without op_mu_: a peer that does not answer must
  // not hold up a promote for its request timeout.
  std::string best;
  int64_t best_epoch = -1;
  for (auto& f : files_) {
    try {
      const FileState st = f->state();
      if (st.role == "primary" && st.epoch > best_epoch) {
        best = f->spec().name;
        best_epoch = st.epoch;
      }
    } catch (const Error&) {
      // a node that does not answer says nothing about who leads
    }
  }
  if (best.empty()) return;
  std::unique_lock<std::mutex> op(op_mu_, std::try_to_lock);
  if (!op.owns_lock()) return;  // a promote or rejoin runs: it sets the primary itself
  adopt_primary(best, best_epoch, "its file says primary at the highest epoch");
}

void ChangelogReplicator::adopt_primary(const std::string& node, int64_t epoch, const char* why) {
  std::string old;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (node == primary_) {
      primary_epoch_ = std::max(primary_epoch_, epoch);
      return;
    }
    if (!primary_.empty() && epoch <= primary_epoch_) return;
    old = primary_;
    primary_ = node;
    primary_epoch_ = epoch;
    Progress& p = progress_[node];
    p.streaming = false;
    p.detail.clear();
    if (!old.empty()) {
      Progress& o = progress_[old];
      o.streaming = false;
      o.retry_at = {};
    }
  }
  host_.logf(KESTREL_LOG_INFO, "primary is %s at epoch %lld (%s; was %s)", node.c_str(), static_cast<long long>(epoch),
             why, old.empty() ? "none" : old.c_str());
  ship_cv_.notify_all();
  applied_cv_.notify_all();
}

void ChangelogReplicator::replicator_wait_replicated(const std::string& /*primary*/, uint64_t /*position*/,
                                                     uint32_t timeout_ms) {
  kestrel_replication_mode mode;
  std::string primary;
  {
    std::lock_guard<std::mutex> lock(mu_);
    mode = mode_;
    primary = primary_;
  }
  if (mode == KESTREL_REPLICATION_ASYNC || files_.size() < 2 || primary.empty()) return;
  if (!file(primary).is_local())
    throw Error(KESTREL_ERR_UNAVAILABLE,
                "the replicator here sees the primary " + primary + " on the kestreld at " + file(primary).spec().url +
                    ": a write committed on this daemon's node is not replicated by it (retry: the router follows "
                    "the new primary)",
                true);
  // Every change committed so far, the caller's batch among them.
  const int64_t target = file(primary).head_seq();
  const size_t need = mode == KESTREL_REPLICATION_SYNC ? files_.size() - 1 : 1;
  // Semi-sync: one standby a failover may promote (a PostgreSQL standby
  // holding the write would not save it); sync: every standby.
  auto counts = [&](const std::string& node) {
    return node != primary_ && (mode == KESTREL_REPLICATION_SYNC || file(node).promotable());
  };
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(std::min<int64_t>(timeout_ms, sync_timeout_ms_));
  std::unique_lock<std::mutex> lock(mu_);
  ++ship_requests_;
  for (auto& kv : progress_) kv.second.retry_at = {};  // a waiting writer retries a failing standby now
  ship_cv_.notify_all();
  auto applied = [&] {
    size_t n = 0;
    for (const auto& kv : progress_)
      if (counts(kv.first) && kv.second.applied_seq >= target) ++n;
    return n;
  };
  if (applied_cv_.wait_until(lock, deadline, [&] { return stopping_ || applied() >= need; }) && !stopping_) {
    if (fell_back_) host_.logf(KESTREL_LOG_INFO, "the standbys apply in time again: %s mode holds", mode_name(mode));
    fell_back_ = false;
    return;
  }
  std::string behind;
  for (const auto& kv : progress_)
    if (kv.first != primary_ && kv.second.applied_seq < target)
      behind += (behind.empty() ? "" : ", ") + kv.first + " at " + std::to_string(kv.second.applied_seq) +
                (kv.second.detail.empty() ? "" : " (" + kv.second.detail + ")");
  if (sync_fallback_async_) {
    if (!fell_back_)
      host_.logf(KESTREL_LOG_WARNING, "%s mode fell back to async (sync_fallback: async): behind change %lld: %s",
                 mode_name(mode), static_cast<long long>(target), behind.c_str());
    fell_back_ = true;
    fallbacks_total_.add(1);
    return;
  }
  throw Error(KESTREL_ERR_TIMEOUT,
              std::string(mode_name(mode)) + " mode: the write is committed on " + primary + " but " +
                  std::to_string(need - std::min(need, applied())) + " more standby(s) must apply it (change " +
                  std::to_string(target) + ") and did not within " +
                  std::to_string(std::min<int64_t>(timeout_ms, sync_timeout_ms_)) + " ms: " + behind +
                  "; retry (the write is idempotent)",
              true);
}

// ---- status ----------------------------------------------------------------

std::vector<NodeStatus> ChangelogReplicator::replicator_node_status() {
  const std::string primary = primary_name();
  // The standbys first, the primary last: a standby only holds what the
  // primary had, so its head is never above the primary's read after it,
  // and the lag in entries is never negative.
  std::vector<FileState> states(files_.size());
  std::vector<std::string> errors(files_.size());
  for (size_t i = 0; i < files_.size(); ++i) {
    if (files_[i]->spec().name == primary) continue;
    try {
      states[i] = files_[i]->state();
    } catch (const Error& e) {
      errors[i] = e.what();
    }
  }
  FileState ps;
  bool primary_answers = false;
  for (size_t i = 0; i < files_.size(); ++i) {
    if (files_[i]->spec().name != primary) continue;
    try {
      states[i] = ps = files_[i]->state();
      primary_answers = true;
    } catch (const Error& e) {
      errors[i] = e.what();
    }
  }
  std::vector<NodeStatus> out;
  for (size_t i = 0; i < files_.size(); ++i) {
    const auto& f = files_[i];
    NodeStatus n;
    n.node = f->spec().name;
    n.priority = f->spec().priority;
    try {
      if (!errors[i].empty()) throw Error(KESTREL_ERR_UNAVAILABLE, errors[i], true);
      const FileState& st = states[i];
      n.healthy = true;
      n.lsn = static_cast<uint64_t>(st.head_seq);
      if (st.role == "primary") {
        n.role = KESTREL_ROLE_PRIMARY;
      } else if (st.role == "fenced") {
        n.role = KESTREL_ROLE_FENCED;
      } else {
        n.role = KESTREL_ROLE_STANDBY;
        n.receive_lsn = static_cast<uint64_t>(st.head_seq);
        Progress p;
        {
          std::lock_guard<std::mutex> lock(mu_);
          p = progress_[n.node];
        }
        if (primary_answers && n.node != primary) {
          int64_t bytes = 0, oldest = 0;
          file(primary).backlog(st.head_seq, ps.head_seq, &bytes, &oldest);
          n.lag_bytes = bytes;
          n.replay_lag_seconds = oldest > 0 ? std::max(0.0, static_cast<double>(now_us() - oldest) / 1e6) : 0.0;
          n.write_lag_seconds = n.flush_lag_seconds = n.replay_lag_seconds;
          const StandbyMetrics& m = metrics_.at(n.node);
          m.lag_entries.set(static_cast<double>(std::max<int64_t>(0, ps.head_seq - st.head_seq)));
          m.lag_bytes.set(static_cast<double>(bytes));
          m.lag_seconds.set(n.replay_lag_seconds);
        } else {
          n.lag_bytes = -1;
          n.write_lag_seconds = n.flush_lag_seconds = n.replay_lag_seconds = std::nan("");
        }
        if (p.streaming && st.role == "standby" && (st.source == primary || st.source.empty()))
          n.sync_state = mode_ == KESTREL_REPLICATION_SYNC        ? "sync"
                         : mode_ == KESTREL_REPLICATION_SEMI_SYNC ? "quorum"
                                                                  : "async";
        n.detail = p.detail;
        if (st.role == "none" && n.detail.empty()) n.detail = "not bootstrapped yet";
      }
    } catch (const Error& e) {
      n.healthy = false;
      n.role = KESTREL_ROLE_UNKNOWN;
      n.lag_bytes = -1;
      n.write_lag_seconds = n.flush_lag_seconds = n.replay_lag_seconds = std::nan("");
      n.detail = e.what();
    }
    out.push_back(std::move(n));
  }
  return out;
}

std::string ChangelogReplicator::status_json() {
  Poco::JSON::Object o;
  std::lock_guard<std::mutex> lock(mu_);
  o.set("kind", "changelog");
  o.set("primary", primary_);
  o.set("mode", mode_name(mode_));
  o.set("configured_mode", mode_name(configured_mode_));
  o.set("sync_fallback", sync_fallback_async_ ? "async" : "none");
  o.set("fell_back_to_async", fell_back_);
  Poco::JSON::Object standbys;
  for (const auto& kv : progress_) {
    if (kv.first == primary_) continue;
    Poco::JSON::Object s;
    s.set("applied_seq", kv.second.applied_seq);
    s.set("applied_commit_seq", kv.second.applied_commit_seq);
    s.set("epoch", kv.second.epoch);
    s.set("streaming", kv.second.streaming);
    s.set("needs_rebuild", kv.second.needs_rebuild);
    if (!kv.second.detail.empty()) s.set("detail", kv.second.detail);
    standbys.set(kv.first, s);
  }
  o.set("standbys", standbys);
  std::ostringstream out;
  o.stringify(out);
  return out.str();
}

// ---- control ---------------------------------------------------------------

void ChangelogReplicator::replicator_set_mode(kestrel_replication_mode mode, bool force) {
  std::lock_guard<std::mutex> op(op_mu_);
  if (mode != KESTREL_REPLICATION_ASYNC && mode != KESTREL_REPLICATION_SEMI_SYNC && mode != KESTREL_REPLICATION_SYNC)
    throw Error(KESTREL_ERR_INVALID, "replication mode " + std::to_string(static_cast<int>(mode)) + " is unknown");
  std::lock_guard<std::mutex> lock(mu_);
  if (mode != KESTREL_REPLICATION_ASYNC && !force) {
    size_t streaming = 0;
    for (const auto& kv : progress_)
      if (kv.first != primary_ && kv.second.streaming &&
          (mode == KESTREL_REPLICATION_SYNC || file(kv.first).promotable()))
        ++streaming;
    const size_t need = mode == KESTREL_REPLICATION_SYNC ? files_.size() - 1 : 1;
    if (files_.size() < 2 || streaming < need)
      throw Error(KESTREL_ERR_UNAVAILABLE, std::string(mode_name(mode)) + " mode needs " + std::to_string(need) +
                                               " streaming standby(s); " + std::to_string(streaming) +
                                               " stream now: every write would wait and fail (use force to set it)");
  }
  mode_ = mode;
  fell_back_ = false;
  host_.logf(KESTREL_LOG_INFO, "replication mode %s", mode_name(mode));
}

kestrel_replication_mode ChangelogReplicator::replicator_mode() {
  std::lock_guard<std::mutex> lock(mu_);
  return mode_;
}

void ChangelogReplicator::replicator_bootstrap(const std::string& standby, bool force) {
  std::lock_guard<std::mutex> op(op_mu_);
  CatalogNode& f = file(standby);
  if (standby == primary_name()) throw Error(KESTREL_ERR_INVALID, "node " + standby + " is the primary");
  const FileState st = f.state();
  if (!force && !(st.role == "none" && st.commit_seq == 0))
    throw Error(KESTREL_ERR_INVALID, "node " + standby + " is " + (st.role == "none" ? "a catalog of its own" : st.role) +
                                         ": bootstrap with force replaces it by a copy of the primary");
  rebuild(f, force ? "bootstrap with force" : "bootstrap");
  ship_cv_.notify_all();
}

void ChangelogReplicator::replicator_promote(const std::string& node, uint64_t epoch, uint32_t /*timeout_ms*/) {
  std::lock_guard<std::mutex> op(op_mu_);
  CatalogNode& f = file(node);
  const FileState st = f.state();
  if (st.role == "none" && node != primary_name())
    throw Error(KESTREL_ERR_INVALID, "node " + node + " was never bootstrapped: it holds no copy of the catalog");
  f.promote(epoch);
  std::string old;
  {
    std::lock_guard<std::mutex> lock(mu_);
    old = primary_;
    primary_ = node;
    primary_epoch_ = static_cast<int64_t>(epoch);  // the HA catalog's word: the newest epoch
    Progress& p = progress_[node];
    p.streaming = false;
    p.detail.clear();
    if (!old.empty() && old != node) {
      Progress& o = progress_[old];
      o.streaming = false;
      o.detail = "the former primary: rejoin it";
    }
  }
  if (old != node)
    host_.logf(KESTREL_LOG_WARNING, "node %s promoted at epoch %llu (was %s; at change %lld)", node.c_str(),
               static_cast<unsigned long long>(epoch), st.role.c_str(), static_cast<long long>(st.head_seq));
  ship_cv_.notify_all();
  applied_cv_.notify_all();
}

void ChangelogReplicator::replicator_fence(const std::string& node) {
  std::lock_guard<std::mutex> op(op_mu_);
  file(node).set_role("fenced", "");
  host_.logf(KESTREL_LOG_INFO, "fence %s: its catalog file refuses every writer", node.c_str());
}

void ChangelogReplicator::replicator_rejoin(const std::string& node) {
  std::lock_guard<std::mutex> op(op_mu_);
  const std::string primary = primary_name();
  if (node == primary) throw Error(KESTREL_ERR_INVALID, "node " + node + " is the primary: nothing to rejoin");
  CatalogNode& f = file(node);
  CatalogNode& pf = file(primary);
  const FileState st = f.state();
  const FileState ps = pf.state();
  const int64_t fork = ps.promoted_at_seq;
  if (st.head_seq <= fork || (st.role == "standby" && st.source == primary)) {
    // Nothing the primary lacks: follow it from where this file stopped.
    f.set_role("standby", primary);
    host_.logf(KESTREL_LOG_INFO, "rejoin %s: a standby of %s from change %lld", node.c_str(), primary.c_str(),
               static_cast<long long>(st.head_seq));
  } else {
    // What only this node holds (past the fork, from an older epoch) is kept
    // on the primary in conflicts (primary wins), then the node is rebuilt.
    const std::vector<Entry> only_here = f.entries_after_older_than(fork, ps.epoch);
    if (!only_here.empty()) {
      pf.record_conflicts(node, only_here);
      host_.logf(KESTREL_LOG_WARNING,
                 "rejoin %s: %zu change(s) only it held (after change %lld, epoch below %lld) kept in %s's "
                 "conflicts table; the primary's rows win",
                 node.c_str(), only_here.size(), static_cast<long long>(fork), static_cast<long long>(ps.epoch),
                 primary.c_str());
    }
    rebuild(f, "rejoin after a fork at change " + std::to_string(fork));
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    Progress& p = progress_[node];
    p.detail.clear();
    p.retry_at = {};
  }
  ship_cv_.notify_all();
}

std::string ChangelogReplicator::replicator_check_consistency(const std::string& standby) {
  return consistency_report(standby, nullptr);
}

std::string ChangelogReplicator::consistency_report(const std::string& standby,
                                                    std::vector<catalog_schema::RangeDifference>* differences) {
  const std::string primary = primary_name();
  if (standby == primary) throw Error(KESTREL_ERR_INVALID, "node " + standby + " is the primary: name a standby");
  CatalogNode& sf = file(standby);
  CatalogNode& pf = file(primary);
  int64_t primary_head = 0, standby_head = 0;
  const catalog_schema::CatalogSummary a = pf.summary(range_size_, &primary_head);
  // The standby at the primary's position (or past it: changes since then
  // are compared too, and may show as differences only while writes go on).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(std::max<int64_t>(10000, sync_timeout_ms_));
  while (sf.state().head_seq < primary_head) {
    if (std::chrono::steady_clock::now() > deadline)
      throw Error(KESTREL_ERR_TIMEOUT, "standby " + standby + " did not apply up to change " +
                                           std::to_string(primary_head) + " in time: see its lag in node_status",
                  true);
    ship_cv_.notify_all();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const catalog_schema::CatalogSummary b = sf.summary(range_size_, &standby_head);
  if (differences) *differences = catalog_schema::differing_ranges(a, b, range_size_);
  bool consistent = true;
  Poco::JSON::Object::Ptr tables = catalog_schema::tables_report(a, b, range_size_, &consistent);
  Poco::JSON::Object report;
  report.set("primary", primary);
  report.set("standby", standby);
  report.set("primary_position", primary_head);
  report.set("standby_position", standby_head);
  report.set("range_size", range_size_);
  report.set("tables", tables);
  report.set("consistent", consistent);
  std::ostringstream out;
  report.stringify(out);
  return out.str();
}

std::string ChangelogReplicator::replicator_force_sync(const std::string& standby) {
  std::lock_guard<std::mutex> op(op_mu_);
  const std::string primary = primary_name();
  CatalogNode& sf = file(standby);
  if (!sf.spec().url.empty())
    throw Error(KESTREL_ERR_INVALID, "force-sync of node " + standby + ": it is held by the kestreld at " +
                                         sf.spec().url + ": run it there");
  CatalogNode& pf = file(primary);
  const FileState st = sf.state();
  if (standby == primary) throw Error(KESTREL_ERR_INVALID, "node " + standby + " is the primary: name a standby");
  if (st.role != "standby" || st.source != primary)
    throw Error(KESTREL_ERR_INVALID, "node " + standby + " is not a standby of " + primary + " (it is " + st.role +
                                         "): rejoin or bootstrap it first");
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<catalog_schema::RangeDifference> differences;
  consistency_report(standby, &differences);
  std::vector<IdRange> ranges;
  Poco::JSON::Object tables;
  for (const catalog_schema::RangeDifference& d : differences) {
    ranges.push_back({d.table, d.from_id, d.to_id});
    if (!tables.has(d.table)) tables.set(d.table, Poco::JSON::Array::Ptr(new Poco::JSON::Array));
    Poco::JSON::Object::Ptr r = new Poco::JSON::Object;
    r->set("from_id", d.from_id);
    r->set("to_id", d.to_id);
    tables.getArray(d.table)->add(r);
  }
  int64_t written = 0, deleted = 0;
  if (!ranges.empty())
    sf.repair(ranges, [&](const IdRange& r) { return pf.row_images(r); }, &written, &deleted);
  std::vector<catalog_schema::RangeDifference> left;
  if (!ranges.empty()) consistency_report(standby, &left);
  const bool consistent = left.empty();
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  Poco::JSON::Object report;
  std::string message;
  if (ranges.empty())
    message = "standby " + standby + " already matches " + primary + ": nothing repaired";
  else
    message = "standby " + standby + ": " + std::to_string(ranges.size()) + " id range(s) repaired from " + primary +
              " (" + std::to_string(written) + " row(s) written, " + std::to_string(deleted) + " deleted) in " +
              std::to_string(static_cast<int64_t>(ms)) + " ms" + (consistent ? "" : "; still differs (writes going on?)");
  if (!ranges.empty()) host_.logf(consistent ? KESTREL_LOG_INFO : KESTREL_LOG_WARNING, "force-sync: %s", message.c_str());
  report.set("message", message);
  report.set("standby", standby);
  report.set("primary", primary);
  report.set("ranges_repaired", static_cast<int64_t>(ranges.size()));
  report.set("rows_written", written);
  report.set("rows_deleted", deleted);
  report.set("tables", tables);
  report.set("consistent", consistent);
  report.set("duration_ms", ms);
  std::ostringstream out;
  report.stringify(out);
  return out.str();
}

std::string ChangelogReplicator::replicator_list_conflicts(uint32_t limit) {
  const std::string primary = primary_name();
  if (primary.empty()) throw Error(KESTREL_ERR_UNAVAILABLE, "no primary", true);
  return file(primary).conflicts_json(limit);
}

}  // namespace replicator_changelog
}  // namespace kestrel
