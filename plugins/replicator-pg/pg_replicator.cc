// PgReplicator: options, lifecycle, modes, shared helpers (see pg_replicator.h).
#include "pg_replicator.h"

#include <Poco/JSON/Object.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <limits>
#include <sstream>
#include <thread>

#include "pg_connection.h"
#include "pg_conninfo.h"

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

namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\n");
  if (b == std::string::npos) return std::string();
  return s.substr(b, s.find_last_not_of(" \t\n") - b + 1);
}

// Names in a synchronous_standby_names list, split on commas outside quotes.
size_t count_names(const std::string& list, bool* star) {
  size_t n = 0;
  bool quoted = false, any = false;
  std::string cur;
  auto flush = [&] {
    if (trim(cur) == "*") *star = true;
    if (any) ++n;
    any = false;
    cur.clear();
  };
  for (char c : list) {
    if (c == '"') quoted = !quoted;
    if (c == ',' && !quoted) {
      flush();
      continue;
    }
    if (!std::isspace(static_cast<unsigned char>(c))) any = true;
    cur += c;
  }
  flush();
  return n;
}

}  // namespace

kestrel_replication_mode mode_from_settings(const std::string& standby_names, const std::string& synchronous_commit) {
  const std::string commit = lower(trim(synchronous_commit));
  std::string text = trim(standby_names);
  if (text.empty() || commit == "off" || commit == "local") return KESTREL_REPLICATION_ASYNC;
  bool any = false;
  const std::string head = lower(text.substr(0, text.find_first_of(" \t(")));
  if (head == "any" || head == "first") {
    any = head == "any";
    text = trim(text.substr(head.size()));
  }
  int64_t k = 1;
  std::string list = text;
  const size_t open = text.find('(');
  if (open != std::string::npos && text.back() == ')') {
    const std::string num = trim(text.substr(0, open));
    if (num.empty() || num.find_first_not_of("0123456789") != std::string::npos) return KESTREL_REPLICATION_SEMI_SYNC;
    k = std::stoll(num);
    list = text.substr(open + 1, text.size() - open - 2);
  }
  bool star = false;
  const size_t n = count_names(list, &star);
  if (k <= 0 || n == 0) return KESTREL_REPLICATION_ASYNC;
  if (star) return KESTREL_REPLICATION_SEMI_SYNC;
  if (static_cast<size_t>(k) >= n && !(any && n == 1)) return KESTREL_REPLICATION_SYNC;
  return KESTREL_REPLICATION_SEMI_SYNC;
}

PgReplicator::PgReplicator(const CreateArgs& args)
    : host_(args), tools_(args.host(), args.host_ctx()), id_(args.component_id()) {
  const std::vector<OptionMap> listed = args.get_maps("nodes");
  if (listed.empty())
    throw Error(KESTREL_ERR_INVALID,
                "option nodes: missing or empty: list the nodes (name, priority, host, port, dbname, data_dir, "
                "bindir, fence), the primary first, or name the component holding the list (nodes: catalog)");
  nodes_ = node_specs_from_list(listed, args.get_string("conninfo"), args.node_name());
  const bool has_standbys = nodes_.size() > 1;
  mode_ = parse_mode(args.get_string("mode"));
  if (mode_ != KESTREL_REPLICATION_ASYNC && !has_standbys)
    throw Error(KESTREL_ERR_INVALID, std::string("option mode: ") + mode_name(mode_) +
                                         " needs at least one standby (only one node is configured)");
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
  const std::string bootstrap = args.get_string("bootstrap");
  if (bootstrap != "auto" && bootstrap != "manual")
    throw Error(KESTREL_ERR_INVALID, "option bootstrap: \"" + bootstrap + "\" is not auto or manual");
  bootstrap_auto_ = bootstrap == "auto";
  primary_name_ = nodes_[0].name;
}

PgReplicator::~PgReplicator() { stop(0); }

void PgReplicator::start() {
  // Metrics are registered on the control thread; one series per node (any
  // node may be a standby after a failover). NaN until a standby is seen
  // streaming: an unknown lag must never read as 0.
  const double unknown = std::numeric_limits<double>::quiet_NaN();
  for (const auto& n : nodes_) {
    Gauges g;
    const std::string label = "standby=\"" + n.name + "\"";
    g.lag_bytes = host_.metric(KESTREL_METRIC_GAUGE, "kestrel_replication_lag_bytes",
                               "WAL bytes the standby's replay is behind the primary; NaN: unknown (not streaming)",
                               label);
    g.replay_lag_seconds = host_.metric(KESTREL_METRIC_GAUGE, "kestrel_replication_replay_lag_seconds",
                                        "Seconds the standby's replay is behind the primary; NaN: unknown (not streaming)",
                                        label);
    g.streaming = host_.metric(KESTREL_METRIC_GAUGE, "kestrel_replication_standby_streaming",
                               "1 when the primary shows the standby streaming, else 0 (the primary itself: 0)", label);
    g.lag_bytes.set(unknown);
    g.replay_lag_seconds.set(unknown);
    g.streaming.set(0);
    gauges_[n.name] = g;
  }
  split_brain_gauge_ = host_.metric(KESTREL_METRIC_GAUGE, "kestrel_replication_split_brain",
                                    "1 while two nodes accept writes (or one was promoted outside Kestrel), else 0");
  split_brain_gauge_.set(0);

  // Standbys never bootstrapped, told now (file checks only: no network).
  note_not_bootstrapped(empty_local_standbys());
  // The configured mode, as far as it is safe now (bounded by connect_timeout).
  {
    std::lock_guard<std::mutex> op(op_mu_);
    reconcile_mode_quietly(false);
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

bool PgReplicator::stopping() const {
  std::lock_guard<std::mutex> lock(poll_mu_);
  return stopping_;
}

void PgReplicator::health() {
  // kestrel_status carries 512 bytes: each problem is kept short here; the
  // full text (the fix commands) is in status_json, node_status and the log.
  auto shorten = [](std::string t) { return t.size() > 220 ? t.substr(0, 217) + "..." : t; };
  std::vector<std::string> problems;
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    if (split_brain_) problems.push_back(shorten(split_detail_));
  }
  try {
    connect(primary())->value("SELECT 1");
  } catch (const Error& e) {
    problems.push_back(shorten(e.what()));
  }
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    if (mode_read_ && in_force_.mode < mode_)
      problems.push_back(std::string("mode ") + mode_name(mode_) + " is configured but " + mode_name(in_force_.mode) +
                         " is in force on " + primary_name_ +
                         (held_back_.empty() ? " (changed outside Kestrel: set the mode again)"
                                             : " (held back until standbys stream: see status mode_held_back)"));
    for (const auto& nb : not_bootstrapped_) {
      const NodeSpec& spec = node(nb.first);
      const bool now = nb.second.compare(0, 13, "bootstrapping") == 0;
      const bool auto_copy = bootstrap_auto_ && spec.local() && nb.second.find("another cluster") == std::string::npos;
      problems.push_back("standby " + nb.first + " not bootstrapped" +
                         (now         ? " (bootstrapping now)"
                          : auto_copy ? " (bootstrap: auto copies it)"
                                      : " (fix: see status not_bootstrapped)"));
    }
  }
  if (problems.empty()) return;
  std::string text;
  for (const auto& p : problems) text += (text.empty() ? "" : "; ") + p;
  throw Error(KESTREL_ERR_UNAVAILABLE, text, true);
}

void PgReplicator::poll_loop() {
  std::unique_lock<std::mutex> lock(poll_mu_);
  while (!stopping_) {
    lock.unlock();
    try {
      replicator_node_status();  // observes: gauges, split brain, bootstrap state
    } catch (const std::exception& e) {
      host_.logf(KESTREL_LOG_DEBUG, "poll failed: %s", e.what());
    }
    if (bootstrap_auto_) auto_bootstrap_round();
    {
      // A held-back mode is applied as soon as the standbys allow; a
      // mutating call in progress (try_lock fails) does it itself.
      std::unique_lock<std::mutex> op(op_mu_, std::try_to_lock);
      if (op.owns_lock()) reconcile_mode_quietly(true);
    }
    lock.lock();
    poll_cv_.wait_for(lock, std::chrono::milliseconds(poll_interval_ms_), [this] { return stopping_; });
  }
}

std::string PgReplicator::status_json() {
  // The mode in force is read now; the rest is the last observation.
  std::string mode = "unknown";
  try {
    auto conn = connect(primary());
    mode = mode_name(read_mode(*conn).mode);
  } catch (const Error&) {
  }
  Poco::JSON::Object o;
  std::lock_guard<std::mutex> lock(state_mu_);
  o.set("mode", mode);
  o.set("configured_mode", std::string(mode_name(mode_)));
  o.set("synchronous_standby_names", mode_read_ ? in_force_.standby_names : std::string());
  o.set("synchronous_commit", mode_read_ ? in_force_.synchronous_commit : std::string());
  o.set("configured_synchronous_commit", synchronous_commit_);
  o.set("mode_held_back", held_back_);
  o.set("bootstrap", std::string(bootstrap_auto_ ? "auto" : "manual"));
  Poco::JSON::Object nb;
  for (const auto& n : not_bootstrapped_) nb.set(n.first, n.second);
  o.set("not_bootstrapped", nb);
  o.set("split_brain", split_brain_);
  Poco::JSON::Array split;
  for (const auto& n : split_nodes_) split.add(n);
  o.set("split_brain_nodes", split);
  o.set("split_brain_detail", split_detail_);
  Poco::JSON::Array streaming;
  for (const auto& n : streaming_) streaming.add(n);
  o.set("streaming", streaming);
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
  if (!from.host.empty()) c += "host=" + pg::quote(from.host) + " ";
  if (!from.port.empty()) c += "port=" + pg::quote(from.port) + " ";
  c += "user=" + pg::quote(replication_user_) + " password=" + pg::quote(replication_password_) +
       " application_name=" + pg::quote(application_name);
  return c;
}

std::vector<std::string> PgReplicator::standby_names(const std::string& primary_name) const {
  std::vector<std::string> out;
  for (const auto& n : nodes_)
    if (n.name != primary_name) out.push_back(n.name);
  return out;
}

std::string PgReplicator::standby_names_setting(kestrel_replication_mode mode, const std::string& primary_name) const {
  const std::vector<std::string> names = standby_names(primary_name);
  if (names.empty() || mode == KESTREL_REPLICATION_ASYNC) return std::string();
  std::string list;
  for (const auto& n : names) list += (list.empty() ? "" : ", ") + std::string("\"") + n + "\"";
  if (mode == KESTREL_REPLICATION_SEMI_SYNC) return "ANY 1 (" + list + ")";
  return "FIRST " + std::to_string(names.size()) + " (" + list + ")";
}

PgReplicator::ModeReading PgReplicator::read_mode(PgConnection& conn) {
  Rows r = conn.query("SELECT current_setting('synchronous_standby_names'), current_setting('synchronous_commit')");
  ModeReading m;
  m.standby_names = r[0][0];
  m.synchronous_commit = r[0][1];
  m.mode = mode_from_settings(m.standby_names, m.synchronous_commit);
  std::lock_guard<std::mutex> lock(state_mu_);
  in_force_ = m;
  mode_read_ = true;
  return m;
}

size_t PgReplicator::streaming_standbys(PgConnection& conn, const std::string& primary_name) const {
  // Only this replicator's standbys count (others may stream from the same primary).
  size_t streaming = 0;
  const std::vector<std::string> names = standby_names(primary_name);
  for (const auto& r : conn.query("SELECT application_name FROM pg_stat_replication WHERE state = 'streaming'"))
    for (const auto& n : names)
      if (r[0] == n) ++streaming;
  return streaming;
}

void PgReplicator::apply_mode(PgConnection& conn, kestrel_replication_mode mode, const std::string& primary_name) {
  const std::string ssn = standby_names_setting(mode, primary_name);
  // ALTER SYSTEM cannot run inside a transaction block: one statement each.
  conn.exec("ALTER SYSTEM SET synchronous_standby_names = " + conn.literal(ssn));
  conn.exec("ALTER SYSTEM SET synchronous_commit = " + conn.literal(synchronous_commit_));
  conn.exec("SELECT pg_reload_conf()");
  // The postmaster rereads the files asynchronously: wait until a new session
  // sees the settings, so what is read back next is what was applied.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(connect_timeout_ms_);
  for (;;) {
    ModeReading now = read_mode(*connect(node(primary_name)));
    if (now.standby_names == ssn && now.synchronous_commit == synchronous_commit_) break;
    if (std::chrono::steady_clock::now() > deadline) {
      host_.logf(KESTREL_LOG_WARNING, "mode %s on %s: the reload is not visible after %lld ms (still '%s')",
                 mode_name(mode), primary_name.c_str(), static_cast<long long>(connect_timeout_ms_),
                 now.standby_names.c_str());
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  host_.logf(KESTREL_LOG_INFO, "mode %s on %s: synchronous_standby_names = '%s', synchronous_commit = %s",
             mode_name(mode), primary_name.c_str(), ssn.c_str(), synchronous_commit_.c_str());
}

void PgReplicator::set_held_back(const std::string& reason) {
  std::string old;
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    old = held_back_;
    held_back_ = reason;
  }
  if (reason == old) return;  // once per reason, not per poll
  if (!reason.empty())
    host_.logf(KESTREL_LOG_WARNING, "mode %s", reason.c_str());
  else
    host_.logf(KESTREL_LOG_INFO, "mode %s is in force again (no longer held back)", mode_name(replicator_target()));
}

void PgReplicator::reconcile_mode(PgConnection& conn, const std::string& primary_name, bool fresh) {
  kestrel_replication_mode target;
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    target = mode_;
    if (split_brain_) return;  // neither node is treated as the primary
  }
  if (conn.value("SELECT pg_is_in_recovery()") == "t") {
    set_held_back(std::string(mode_name(target)) + " held back on " + primary_name +
                  ": it is in recovery (a standby), not a primary");
    return;
  }
  const ModeReading now = read_mode(conn);
  const size_t streaming = streaming_standbys(conn, primary_name);
  const size_t standbys = standby_names(primary_name).size();
  const kestrel_replication_mode allowed = streaming == 0 ? KESTREL_REPLICATION_ASYNC
                                           : streaming >= standbys ? KESTREL_REPLICATION_SYNC
                                                                   : KESTREL_REPLICATION_SEMI_SYNC;
  // Strongest safe mode up to the target; after start, never weaken one in
  // force below it (fresh: a leftover that would block every commit goes).
  const kestrel_replication_mode keep =
      !fresh && now.mode <= target ? now.mode : KESTREL_REPLICATION_ASYNC;
  const kestrel_replication_mode effective = std::min(target, std::max(keep, allowed));
  if (now.standby_names != standby_names_setting(effective, primary_name) ||
      now.synchronous_commit != synchronous_commit_)
    apply_mode(conn, effective, primary_name);
  if (effective == target) {
    set_held_back(std::string());
    return;
  }
  const size_t needed = target == KESTREL_REPLICATION_SYNC ? standbys : 1;
  set_held_back(std::string(mode_name(target)) + " held back on " + primary_name + ": " + std::to_string(streaming) +
                " of " + std::to_string(standbys) + " standby(s) stream from it and " + std::to_string(needed) +
                " must confirm every commit, so every commit would block; " + mode_name(effective) +
                " is in force until they stream (bootstrap, start or rejoin them)");
}

void PgReplicator::reconcile_mode_quietly(bool only_held_back) {
  std::string p;
  bool fresh = false;
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    p = primary_name_;
    if (split_brain_ || (only_held_back && held_back_.empty())) return;
    fresh = !only_held_back || apply_pending_;
  }
  try {
    auto conn = connect(node(p));
    reconcile_mode(*conn, p, fresh);
    std::lock_guard<std::mutex> lock(state_mu_);
    apply_pending_ = false;
  } catch (const Error& e) {
    {
      std::lock_guard<std::mutex> lock(state_mu_);
      apply_pending_ = fresh;
    }
    set_held_back(std::string(mode_name(replicator_target())) + " not applied on " + p + ": " + e.what() +
                  "; retried every poll_interval");
  }
}

kestrel_replication_mode PgReplicator::replicator_target() const {
  std::lock_guard<std::mutex> lock(state_mu_);
  return mode_;
}

void PgReplicator::refuse_if_split_brain(const std::string& what) {
  std::lock_guard<std::mutex> lock(state_mu_);
  if (!split_brain_) return;
  throw Error(KESTREL_ERR_UNAVAILABLE,
              "refusing " + what + ": " + split_detail_ +
                  "; Kestrel treats neither as the primary until one is fenced (fence the node that must lose, "
                  "then rejoin it) or put back into recovery",
              false);
}

void PgReplicator::replicator_set_mode(kestrel_replication_mode mode, bool force) {
  std::lock_guard<std::mutex> op(op_mu_);
  replicator_node_status();  // a fresh look for a second primary
  refuse_if_split_brain(std::string("mode ") + mode_name(mode));
  const NodeSpec p = primary();
  auto conn = connect(p);
  const size_t standbys = standby_names(p.name).size();
  const size_t needed = mode == KESTREL_REPLICATION_SYNC ? standbys : mode == KESTREL_REPLICATION_SEMI_SYNC ? 1 : 0;
  if (needed > 0 && !force) {
    const size_t streaming = streaming_standbys(*conn, p.name);
    if (streaming < needed)
      throw Error(KESTREL_ERR_UNAVAILABLE,
                  std::string("refusing mode ") + mode_name(mode) + " on " + p.name + ": " + std::to_string(streaming) +
                      " standby(s) streaming but " + std::to_string(needed) +
                      " must confirm every commit, so every commit would block until they connect;"
                      " bootstrap or start the standbys first, or pass force to accept blocked writes",
                  true);
  }
  apply_mode(*conn, mode, p.name);
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    mode_ = mode;
  }
  set_held_back(std::string());
}

kestrel_replication_mode PgReplicator::replicator_mode() {
  try {
    auto conn = connect(primary());
    return read_mode(*conn).mode;
  } catch (const Error&) {
  }
  std::lock_guard<std::mutex> lock(state_mu_);
  return mode_read_ ? in_force_.mode : mode_;
}

}  // namespace replicator_pg
}  // namespace kestrel
