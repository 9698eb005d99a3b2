// bootstrap: a standby from the primary with pg_basebackup and a physical
// replication slot (see pg_replicator.h).
#include <chrono>
#include <iterator>
#include <map>
#include <thread>

#include "hba_editor.h"
#include "local_server.h"
#include "pg_connection.h"
#include "pg_conninfo.h"
#include "pg_replicator.h"

namespace kestrel {
namespace replicator_pg {

void PgReplicator::prepare_primary(PgConnection& conn, const std::string& standby) const {
  // The role: LOGIN REPLICATION with a scram-sha-256 verifier. Committed
  // with local durability: in a sync mode with a standby down (the one being
  // bootstrapped, say) a waiting commit would never return.
  conn.exec("SET synchronous_commit = local");
  conn.exec("SET password_encryption = 'scram-sha-256'");
  const std::string role = conn.ident(replication_user_);
  if (conn.value("SELECT 1 FROM pg_roles WHERE rolname = $1", {replication_user_}).empty())
    conn.exec("CREATE ROLE " + role + " LOGIN REPLICATION PASSWORD " + conn.literal(replication_password_));
  else
    conn.exec("ALTER ROLE " + role + " LOGIN REPLICATION PASSWORD " + conn.literal(replication_password_));
  ensure_replication_rule(conn, replication_user_, replication_network_);
  // pg_rewind of a former primary reads its WAL back to the last checkpoint
  // before the promotion: keep that much (copied to standbys with the config).
  if (wal_keep_size_kb_ > 0 &&
      to_int(conn.value("SELECT setting FROM pg_settings WHERE name = 'wal_keep_size'")) * 1024 < wal_keep_size_kb_) {
    conn.exec("ALTER SYSTEM SET wal_keep_size = " + conn.literal(std::to_string(wal_keep_size_kb_) + "kB"));
    conn.exec("SELECT pg_reload_conf()");
  }

  // The slot: reuse an inactive one, refuse one in use by someone else.
  const std::string slot = slot_name(standby);
  Rows rows = conn.query(
      "SELECT active, coalesce(active_pid::text, ''), coalesce(wal_status, ''), slot_type"
      " FROM pg_replication_slots WHERE slot_name = $1",
      {slot});
  if (!rows.empty()) {
    if (rows[0][3] != "physical")
      throw Error(KESTREL_ERR_INVALID, "node " + conn.node() + ": replication slot " + slot +
                                           " exists but is a logical slot; drop it with SELECT "
                                           "pg_drop_replication_slot('" + slot + "') and bootstrap " + standby + " again");
    // Active for the standby itself (it already streams): reuse it.
    const bool own = rows[0][0] == "t" &&
                     !conn.value("SELECT 1 FROM pg_stat_replication WHERE pid = $1::int AND application_name = $2",
                                 {rows[0][1], standby})
                          .empty();
    if (rows[0][0] == "t" && !own)
      throw Error(KESTREL_ERR_UNAVAILABLE,
                  "node " + conn.node() + ": replication slot " + slot + " already exists and is in use (walsender pid " +
                      rows[0][1] + "): another server streams as " + standby +
                      "; stop it, or drop the slot with SELECT pg_drop_replication_slot('" + slot + "')",
                  false);
    if (rows[0][2] == "lost") {
      host_.logf(KESTREL_LOG_WARNING, "slot %s on %s lost its WAL: recreating it", slot.c_str(), conn.node().c_str());
      conn.exec("SELECT pg_drop_replication_slot($1)", {slot});
      rows.clear();
    } else {
      host_.logf(KESTREL_LOG_INFO, "reusing %s replication slot %s on %s", own ? "its own" : "inactive", slot.c_str(),
                 conn.node().c_str());
    }
  }
  if (rows.empty()) conn.exec("SELECT pg_create_physical_replication_slot($1, true)", {slot});
}

void PgReplicator::wait_streaming(const NodeSpec& p, const std::string& standby) const {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(catch_up_timeout_ms_);
  std::string last;
  for (;;) {
    try {
      auto conn = connect(p);
      last = conn->value("SELECT state FROM pg_stat_replication WHERE application_name = $1", {standby});
      if (last == "streaming") return;
    } catch (const Error& e) {
      last = e.what();
    }
    if (std::chrono::steady_clock::now() > deadline) {
      std::string tail;
      const NodeSpec& s = node(standby);
      if (s.local()) {
        LocalServer server(tools_, s, command_timeout_ms_);
        tail = server.disk_full_hint();
        if (tail.empty()) tail = "its log ends: " + server.log_tail(800);
      }
      throw Error(KESTREL_ERR_TIMEOUT,
                  "standby " + standby + " is not streaming from " + p.name + " after " +
                      std::to_string(catch_up_timeout_ms_) + " ms (pg_stat_replication state: \"" + last +
                      "\"); check its primary_conninfo and the primary's pg_hba; " + tail,
                  true);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

void PgReplicator::configure_standby(const NodeSpec& s, const NodeSpec& p) const {
  LocalServer server(tools_, s, command_timeout_ms_);
  std::map<std::string, std::string> conf = {
      {"primary_conninfo", replication_conninfo(p, s.name)},
      {"primary_slot_name", slot_name(s.name)},
  };
  // The copy holds the primary's postgresql.auto.conf: give it its own port.
  if (!s.port.empty()) conf["port"] = s.port;
  server.set_auto_conf(conf);
  server.write_standby_signal();
}

void PgReplicator::replicator_bootstrap(const std::string& standby, bool force) {
  std::lock_guard<std::mutex> op(op_mu_);
  bootstrap_locked(standby, force);
}

void PgReplicator::bootstrap_locked(const std::string& standby, bool force) {
  refuse_if_split_brain("bootstrap " + standby);
  const NodeSpec s = node(standby);
  const NodeSpec p = primary();
  if (s.name == p.name) throw Error(KESTREL_ERR_INVALID, "node " + s.name + " is the primary: it cannot be bootstrapped");
  if (!s.local())
    throw Error(KESTREL_ERR_UNSUPPORTED, "node " + s.name +
                                             " has no data_dir in the nodes list: bootstrap runs pg_basebackup on "
                                             "this machine; add its data_dir or bootstrap it where it runs");
  auto pconn = connect(p);
  const std::string primary_id = pconn->value("SELECT system_identifier::text FROM pg_control_system()");
  LocalServer server(tools_, s, command_timeout_ms_);

  bool fresh = true;
  if (server.has_cluster()) {
    const std::string id = server.system_identifier();
    if (id != primary_id && !force)
      throw Error(KESTREL_ERR_INVALID, "node " + s.name + ": its data directory " + s.data_dir +
                                           " holds another cluster (system identifier " + id + ", primary " + p.name +
                                           " has " + primary_id +
                                           "); it cannot stream from this primary: bootstrap it with force to "
                                           "replace it with a fresh copy");
    fresh = force;
  }
  // Stopped first, so its walsender has released the slot before the copy uses it.
  if (fresh) server.stop("fast");
  prepare_primary(*pconn, s.name);
  if (fresh) {
    server.clear();
    std::string why;
    if (!server.basebackup(replication_conninfo(p, s.name), slot_name(s.name), &why)) {
      std::string hint = server.disk_full_hint();
      throw Error(KESTREL_ERR_UNAVAILABLE, "node " + s.name + ": copy from " + p.name + " failed: " + why +
                                               (hint.empty() ? "" : " " + hint),
                  true);
    }
    host_.logf(KESTREL_LOG_INFO, "bootstrap %s: pg_basebackup from %s done", s.name.c_str(), p.name.c_str());
  }
  configure_standby(s, p);
  server.start();
  wait_streaming(p, s.name);
  host_.logf(KESTREL_LOG_INFO, "bootstrap %s: streaming from %s", s.name.c_str(), p.name.c_str());
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    not_bootstrapped_.erase(s.name);
    logged_bootstrap_.erase(s.name);
    bootstrap_failed_.erase(s.name);
  }
  // One more standby streams: a held-back mode may now be safe.
  reconcile_mode_quietly(true);
}

std::string PgReplicator::bootstrap_fix(const NodeSpec& s, const NodeSpec& p, const std::string& why,
                                        bool foreign) const {
  if (foreign)
    return why + "; fix: bootstrap " + s.name + " with force (its data directory is replaced by a copy of " + p.name +
           "; bootstrap: auto never does that)";
  if (s.local() && bootstrap_auto_)
    return why + "; bootstrap: auto copies it from " + p.name + " (pg_basebackup, on the poller thread)";
  std::string password;
  const std::string conninfo = pg::without_password(replication_conninfo(p, s.name), &password);
  std::string fix = s.local() ? "fix: set bootstrap: auto on component '" + id_ + "' and restart kestreld (it copies " +
                                    s.name + " from " + p.name + "), or bootstrap it by hand"
                              : "fix (kestreld cannot copy it: it has no data_dir in the nodes list): bootstrap it "
                                "where it runs";
  fix += ": as the data directory's owner, pg_basebackup -D " + (s.local() ? s.data_dir : std::string("<data_dir>")) +
         " -S " + slot_name(s.name) + " -C -R -X stream -c fast -d \"" + conninfo + "\" (first the role " +
         replication_user_ + " LOGIN REPLICATION and a pg_hba replication rule for it on " + p.name +
         "), then start it";
  return why + "; " + fix;
}

std::map<std::string, std::string> PgReplicator::empty_local_standbys() const {
  std::string primary_name, bootstrapping;
  std::map<std::string, std::string> failed;
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    primary_name = primary_name_;
    bootstrapping = bootstrapping_;
    failed = bootstrap_failed_;
  }
  const NodeSpec& p = node(primary_name);
  std::map<std::string, std::string> out;
  for (const auto& s : nodes_) {
    if (s.name == primary_name || !s.local()) continue;
    // Checked first: pg_basebackup writes PG_VERSION early in the copy.
    if (s.name == bootstrapping) {
      out[s.name] = "bootstrapping: copying it from " + p.name + " with pg_basebackup (bootstrap: auto)";
      continue;
    }
    if (LocalServer(tools_, s, command_timeout_ms_).has_cluster()) continue;
    auto f = failed.find(s.name);
    out[s.name] = bootstrap_fix(s, p, "its data directory " + s.data_dir + " holds no cluster" +
                                          (f == failed.end() ? std::string() : " (the last automatic bootstrap failed: " +
                                                                                    f->second + ")"),
                                false);
  }
  return out;
}

void PgReplicator::note_not_bootstrapped(const std::map<std::string, std::string>& found) {
  std::vector<std::string> lines;
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    not_bootstrapped_ = found;
    for (auto it = logged_bootstrap_.begin(); it != logged_bootstrap_.end();)
      it = found.count(it->first) ? std::next(it) : logged_bootstrap_.erase(it);
    for (const auto& f : found) {
      std::string& logged = logged_bootstrap_[f.first];
      if (logged == f.second) continue;  // once per reason, not per poll
      logged = f.second;
      // The copy itself logs its progress (auto_bootstrap_round).
      if (f.second.compare(0, 13, "bootstrapping") != 0)
        lines.push_back("standby " + f.first + " is not bootstrapped: " + f.second);
    }
  }
  for (const auto& l : lines) host_.log(KESTREL_LOG_WARNING, l);
}

void PgReplicator::auto_bootstrap_round() {
  for (const auto& s : nodes_) {
    if (stopping()) return;
    std::string primary_name;
    {
      std::lock_guard<std::mutex> lock(state_mu_);
      if (split_brain_) return;  // which primary would it copy?
      primary_name = primary_name_;
    }
    if (s.name == primary_name || !s.local()) continue;
    std::unique_lock<std::mutex> op(op_mu_, std::try_to_lock);
    if (!op.owns_lock()) return;  // a mutating call runs: next round
    // Under op_mu_, so that a rejoin emptying the directory cannot interleave.
    if (LocalServer(tools_, s, command_timeout_ms_).has_cluster()) continue;
    {
      std::lock_guard<std::mutex> lock(state_mu_);
      bootstrapping_ = s.name;
      not_bootstrapped_[s.name] = "bootstrapping: copying it from " + primary_name + " with pg_basebackup (bootstrap: auto)";
    }
    host_.logf(KESTREL_LOG_INFO, "bootstrap %s: data directory %s is empty: copying it from %s (bootstrap: auto)",
               s.name.c_str(), s.data_dir.c_str(), primary_name.c_str());
    std::string failure;
    try {
      bootstrap_locked(s.name, false);
    } catch (const Error& e) {
      failure = e.what();
    }
    bool changed = false;
    {
      std::lock_guard<std::mutex> lock(state_mu_);
      bootstrapping_.clear();
      if (!failure.empty()) {
        changed = bootstrap_failed_[s.name] != failure;
        bootstrap_failed_[s.name] = failure;
      }
    }
    if (!failure.empty())
      host_.logf(changed ? KESTREL_LOG_WARNING : KESTREL_LOG_DEBUG,
                 "bootstrap %s (auto) failed: %s; retried every poll_interval", s.name.c_str(), failure.c_str());
  }
}



}  // namespace replicator_pg
}  // namespace kestrel
