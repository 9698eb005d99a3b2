// PgReplicator: options, lifecycle, modes, shared helpers (see pg_replicator.h).
#include "pg_replicator.h"

#include <Poco/JSON/Object.h>

#include <cctype>
#include <chrono>
#include <sstream>

#include "pg_connection.h"

namespace kestrel {
namespace replicator_pg {

kestrel_replication_mode parse_mode(const std::string& text) {
  if (text == "async") return KESTREL_REPLICATION_ASYNC;
  if (text == "semi-sync") return KESTREL_REPLICATION_SEMI_SYNC;
  if (text == "sync") return KESTREL_REPLICATION_SYNC;
  throw Error(KESTREL_ERR_INVALID, "option mode: \"" + text + "\" is not async, semi-sync or sync");
}

const char* mode_name(kestrel_replication_mode mode) noexcept {
  switch (mode) {
    case KESTREL_REPLICATION_SEMI_SYNC: return "semi-sync";
    case KESTREL_REPLICATION_SYNC: return "sync";
    default: return "async";
  }
}

PgReplicator::PgReplicator(const CreateArgs& args) : host_(args) {
  nodes_.push_back(parse_node_spec("primary", args.get_string("primary")));
  const std::vector<std::string> standbys = args.get_list("standbys");
  for (size_t i = 0; i < standbys.size(); ++i) {
    NodeSpec s = parse_node_spec("standbys[" + std::to_string(i) + "]", standbys[i]);
    for (const auto& n : nodes_)
      if (n.name == s.name)
        throw Error(KESTREL_ERR_INVALID, "option standbys[" + std::to_string(i) + "]: node name \"" + s.name +
                                             "\" is used twice (every node needs its own name=)");
    nodes_.push_back(s);
  }
  mode_ = parse_mode(args.get_string("mode"));
  synchronous_commit_ = args.get_string("synchronous_commit");
  if (synchronous_commit_ != "on" && synchronous_commit_ != "remote_apply")
    throw Error(KESTREL_ERR_INVALID,
                "option synchronous_commit: \"" + synchronous_commit_ + "\" is not on or remote_apply");
  replication_user_ = args.get_string("replication_user");
  if (replication_user_.empty()) throw Error(KESTREL_ERR_INVALID, "option replication_user: empty role name");
  replication_password_ = args.get_string("replication_password");
  if (replication_password_.empty())
    throw Error(KESTREL_ERR_INVALID, "option replication_password: empty (scram-sha-256 needs a password)");
  replication_network_ = args.get_string("replication_network");
  poll_interval_ms_ = args.get_duration_ms("poll_interval");
  if (poll_interval_ms_ < 100) throw Error(KESTREL_ERR_INVALID, "option poll_interval: must be at least 100ms");
  connect_timeout_ms_ = args.get_duration_ms("connect_timeout");
  command_timeout_ms_ = args.get_duration_ms("command_timeout");
  catch_up_timeout_ms_ = args.get_duration_ms("catch_up_timeout");
  range_size_ = args.get_int("range_size");
  if (range_size_ < 1) throw Error(KESTREL_ERR_INVALID, "option range_size: must be at least 1 row");
  wal_keep_size_kb_ = static_cast<int64_t>(args.get_size_bytes("wal_keep_size") / 1024);
  primary_name_ = nodes_[0].name;
}

PgReplicator::~PgReplicator() { stop(0); }

void PgReplicator::start() {
  // Metrics are registered on the control thread; one series per node (any
  // node may be a standby after a failover).
  for (const auto& n : nodes_) {
    Gauges g;
    g.lag_bytes = host_.metric(KESTREL_METRIC_GAUGE, "kestrel_replication_lag_bytes",
                               "WAL bytes the standby's replay is behind the primary", "standby=\"" + n.name + "\"");
    g.replay_lag_seconds =
        host_.metric(KESTREL_METRIC_GAUGE, "kestrel_replication_replay_lag_seconds",
                     "Seconds the standby's replay is behind the primary", "standby=\"" + n.name + "\"");
    gauges_[n.name] = g;
  }
  {
    std::lock_guard<std::mutex> lock(poll_mu_);
    stopping_ = false;
  }
  poller_ = std::thread([this] { poll_loop(); });
}

void PgReplicator::stop(uint32_t /*deadline_ms*/) {
  {
    std::lock_guard<std::mutex> lock(poll_mu_);
    stopping_ = true;
  }
  poll_cv_.notify_all();
  if (poller_.joinable()) poller_.join();
}

void PgReplicator::health() { connect(primary())->value("SELECT 1"); }

void PgReplicator::poll_loop() {
  std::unique_lock<std::mutex> lock(poll_mu_);
  while (!stopping_) {
    lock.unlock();
    try {
      replicator_node_status();  // updates the gauges
    } catch (const std::exception& e) {
      host_.logf(KESTREL_LOG_DEBUG, "lag poll failed: %s", e.what());
    }
    lock.lock();
    poll_cv_.wait_for(lock, std::chrono::milliseconds(poll_interval_ms_), [this] { return stopping_; });
  }
}

void PgReplicator::update_gauges(const std::vector<NodeStatus>& statuses) {
  for (const auto& s : statuses) {
    auto it = gauges_.find(s.node);
    if (it == gauges_.end()) continue;
    it->second.lag_bytes.set(static_cast<double>(s.lag_bytes));
    it->second.replay_lag_seconds.set(s.replay_lag_seconds);
  }
}

std::string PgReplicator::status_json() {
  Poco::JSON::Object o;
  std::lock_guard<std::mutex> lock(state_mu_);
  o.set("mode", std::string(mode_name(mode_)));
  o.set("synchronous_commit", synchronous_commit_);
  o.set("primary", primary_name_);
  Poco::JSON::Array fenced;
  for (const auto& f : fenced_) fenced.add(f);
  o.set("fenced", fenced);
  o.set("last_rejoin", last_rejoin_);
  std::ostringstream out;
  o.stringify(out);
  return out.str();
}

const NodeSpec& PgReplicator::node(const std::string& name) const {
  for (const auto& n : nodes_)
    if (n.name == name) return n;
  std::string known;
  for (const auto& n : nodes_) known += (known.empty() ? "" : ", ") + n.name;
  throw Error(KESTREL_ERR_NOT_FOUND, "no node named \"" + name + "\" (configured: " + known + ")");
}

NodeSpec PgReplicator::primary() const {
  std::lock_guard<std::mutex> lock(state_mu_);
  return node(primary_name_);
}

std::unique_ptr<PgConnection> PgReplicator::connect(const NodeSpec& spec) const {
  return std::make_unique<PgConnection>(spec.name, spec.conninfo, connect_timeout_ms_);
}

std::string PgReplicator::slot_name(const std::string& standby) const {
  std::string out = "kestrel_";
  for (char c : standby) out += std::isalnum(static_cast<unsigned char>(c)) ? static_cast<char>(std::tolower(c)) : '_';
  return out;
}

std::string PgReplicator::replication_conninfo(const NodeSpec& from, const std::string& application_name) const {
  std::string c;
  if (!from.host.empty()) c += "host=" + conninfo_quote(from.host) + " ";
  if (!from.port.empty()) c += "port=" + conninfo_quote(from.port) + " ";
  c += "user=" + conninfo_quote(replication_user_) + " password=" + conninfo_quote(replication_password_) +
       " application_name=" + conninfo_quote(application_name);
  return c;
}

std::vector<std::string> PgReplicator::standby_names(const std::string& primary_name) const {
  std::vector<std::string> out;
  for (const auto& n : nodes_)
    if (n.name != primary_name) out.push_back(n.name);
  return out;
}

void PgReplicator::apply_mode(PgConnection& conn, kestrel_replication_mode mode, const std::string& primary_name) const {
  const std::vector<std::string> names = standby_names(primary_name);
  std::string list;
  for (const auto& n : names) list += (list.empty() ? "" : ", ") + std::string("\"") + n + "\"";
  std::string ssn;
  if (mode == KESTREL_REPLICATION_SEMI_SYNC && !names.empty()) ssn = "ANY 1 (" + list + ")";
  if (mode == KESTREL_REPLICATION_SYNC && !names.empty())
    ssn = "FIRST " + std::to_string(names.size()) + " (" + list + ")";
  // ALTER SYSTEM cannot run inside a transaction block: one statement each.
  conn.exec("ALTER SYSTEM SET synchronous_standby_names = " + conn.literal(ssn));
  conn.exec("ALTER SYSTEM SET synchronous_commit = " + conn.literal(synchronous_commit_));
  conn.exec("SELECT pg_reload_conf()");
  host_.logf(KESTREL_LOG_INFO, "mode %s on %s: synchronous_standby_names = '%s', synchronous_commit = %s",
             mode_name(mode), primary_name.c_str(), ssn.c_str(), synchronous_commit_.c_str());
}

void PgReplicator::replicator_set_mode(kestrel_replication_mode mode, bool force) {
  std::lock_guard<std::mutex> op(op_mu_);
  const NodeSpec p = primary();
  auto conn = connect(p);
  const size_t standbys = standby_names(p.name).size();
  const size_t needed = mode == KESTREL_REPLICATION_SYNC ? standbys : mode == KESTREL_REPLICATION_SEMI_SYNC ? 1 : 0;
  if (needed > 0 && !force) {
    // Only this replicator's standbys count (others may stream from the same primary).
    int64_t streaming = 0;
    for (const auto& r : conn->query("SELECT application_name FROM pg_stat_replication WHERE state = 'streaming'"))
      for (const auto& n : standby_names(p.name))
        if (r[0] == n) ++streaming;
    if (static_cast<size_t>(streaming) < needed)
      throw Error(KESTREL_ERR_UNAVAILABLE,
                  std::string("refusing mode ") + mode_name(mode) + " on " + p.name + ": " + std::to_string(streaming) +
                      " standby(s) streaming but " + std::to_string(needed) +
                      " must confirm every commit, so every commit would block until they connect;"
                      " bootstrap or start the standbys first, or pass force to accept blocked writes",
                  true);
  }
  apply_mode(*conn, mode, p.name);
  std::lock_guard<std::mutex> lock(state_mu_);
  mode_ = mode;
}

kestrel_replication_mode PgReplicator::replicator_mode() {
  std::lock_guard<std::mutex> lock(state_mu_);
  return mode_;
}

}  // namespace replicator_pg
}  // namespace kestrel
