// promote, fence and rejoin (see pg_replicator.h and DESIGN §4).
#include <algorithm>
#include <chrono>
#include <thread>

#include "hba_editor.h"
#include "local_server.h"
#include "pg_connection.h"
#include "pg_replicator.h"

namespace kestrel {
namespace replicator_pg {

void PgReplicator::replicator_promote(const std::string& name, uint64_t epoch, uint32_t timeout_ms) {
  std::lock_guard<std::mutex> op(op_mu_);
  const NodeSpec s = node(name);
  replicator_node_status();  // a fresh look: is there a second primary right now?
  refuse_if_split_brain("promote " + name);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  auto conn = connect(s);
  const bool has_state =
      !conn->value("SELECT 1 FROM information_schema.tables WHERE table_name = 'cluster_state'").empty();
  if (has_state) {
    const int64_t known = to_int(conn->value("SELECT epoch FROM cluster_state WHERE id = 1"));
    if (static_cast<int64_t>(epoch) < known)
      throw Error(KESTREL_ERR_FENCED, "node " + name + " already knows epoch " + std::to_string(known) +
                                          ", newer than the requested " + std::to_string(epoch) +
                                          ": promote with an epoch above it");
  }
  // The decision is taken here: from now on the old primary is a node to
  // fence, not a second primary nobody decided about (the poller observes
  // while pg_promote runs). Undone if the promote fails below.
  std::string old;
  bool newly_demoted = false;
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    old = primary_name_;
    if (old != name) newly_demoted = demoted_.insert(old).second;
  }
  try {
    promote_locked(s, epoch, timeout_ms, deadline, has_state, *conn);
  } catch (...) {
    std::lock_guard<std::mutex> lock(state_mu_);
    if (newly_demoted) demoted_.erase(old);
    throw;
  }
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    primary_name_ = name;
    fenced_.erase(name);
    demoted_.erase(name);
    primary_timeline_ = 0;  // the new primary's, at the next observation
    primary_epoch_ = std::max(primary_epoch_, static_cast<int64_t>(epoch));
  }
  host_.logf(KESTREL_LOG_INFO, "promote %s: primary now (was %s), epoch %llu", name.c_str(), old.c_str(),
             static_cast<unsigned long long>(epoch));
  // The configured mode again, as far as the standbys following the new
  // primary allow: none do until rejoin, so a sync mode is held back (logged,
  // in status and health) rather than blocking every write; the poller and
  // rejoin apply it once they stream.
  reconcile_mode_quietly(false);
}

void PgReplicator::promote_locked(const NodeSpec& s, uint64_t epoch, uint32_t timeout_ms,
                                  std::chrono::steady_clock::time_point deadline, bool has_state, PgConnection& conn) {
  const std::string& name = s.name;
  if (conn.value("SELECT pg_is_in_recovery()") == "t") {
    const uint32_t wait_s = timeout_ms / 1000 < 1 ? 1 : timeout_ms / 1000;
    const std::string done = conn.value("SELECT pg_promote(true, $1)", {std::to_string(wait_s)});
    host_.logf(KESTREL_LOG_INFO, "promote %s: pg_promote returned %s", name.c_str(), done.c_str());
  }
  // Accepting writes: out of recovery and a real write commits. The write
  // must not wait for synchronous standbys (none follow the new primary yet).
  std::string last;
  for (;;) {
    try {
      auto c = connect(s);
      if (c->value("SELECT pg_is_in_recovery()") == "f") {
        c->exec("SET synchronous_commit = local");
        c->exec("ALTER SYSTEM SET synchronous_standby_names = ''");
        c->exec("SELECT pg_reload_conf()");
        if (has_state)
          c->exec("UPDATE cluster_state SET epoch = GREATEST(epoch, $1::bigint), primary_node = $2,"
                  " updated_at = CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000000 AS BIGINT) WHERE id = 1",
                  {std::to_string(epoch), name});
        else
          c->value("SELECT txid_current()");
        break;
      }
      last = "still in recovery";
    } catch (const Error& e) {
      last = e.what();
    }
    if (std::chrono::steady_clock::now() > deadline)
      throw Error(KESTREL_ERR_TIMEOUT,
                  "node " + name + " does not accept writes " + std::to_string(timeout_ms) + " ms after pg_promote (" +
                      last + "); check its log, then promote again",
                  true);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

void PgReplicator::replicator_fence(const std::string& name) {
  std::lock_guard<std::mutex> op(op_mu_);
  const NodeSpec s = node(name);
  if (s.fence_by_stop) {
    LocalServer(tools_, s, command_timeout_ms_).stop("fast");
    host_.logf(KESTREL_LOG_INFO, "fence %s: stopped (pg_ctl stop -m fast)", name.c_str());
  } else {
    auto conn = connect(s);
    // An old primary in a sync mode whose standbys left would make each of
    // these commits wait for them forever: they need only local durability.
    conn->exec("SET synchronous_commit = local");
    // 1. No application role may log in (superusers and the replication role stay).
    for (const auto& r : conn->query("SELECT rolname FROM pg_roles WHERE rolcanlogin AND NOT rolsuper AND rolname <> $1",
                                     {replication_user_}))
      conn->exec("ALTER ROLE " + conn->ident(r[0]) + " NOLOGIN");
    // 2. pg_hba rejects everyone else, reloaded.
    prepend_fence_rules(*conn);
    // 3. Sessions already open are ended, so none can turn read-only off and write.
    conn->exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid()"
               " AND backend_type IN ('client backend', 'walsender')");
    host_.logf(KESTREL_LOG_INFO, "fence %s: application roles NOLOGIN, pg_hba reject, backends terminated",
               name.c_str());
  }
  std::lock_guard<std::mutex> lock(state_mu_);
  fenced_.insert(name);
}

void PgReplicator::replicator_rejoin(const std::string& name) {
  std::lock_guard<std::mutex> op(op_mu_);
  const NodeSpec s = node(name);
  replicator_node_status();
  refuse_if_split_brain("rejoin " + name);
  const NodeSpec p = primary();
  if (s.name == p.name) throw Error(KESTREL_ERR_INVALID, "node " + name + " is the current primary: nothing to rejoin");
  if (!s.local())
    throw Error(KESTREL_ERR_UNSUPPORTED, "node " + name +
                                             " has no data_dir in the nodes list: rejoin runs pg_rewind on this machine");
  auto pconn = connect(p);
  prepare_primary(*pconn, s.name);
  // pg_rewind reads the source's timeline from its control file, which a
  // recently promoted primary updates only at its first checkpoint (the
  // pg_rewind docs ask for one): without it the rewind is judged needless,
  // and the standby then stops at "new timeline forked off ... before current
  // recovery point".
  pconn->exec("CHECKPOINT");
  LocalServer server(tools_, s, command_timeout_ms_);
  server.stop("fast");
  std::string path = "rewind";
  std::string why;
  if (!server.has_cluster() || !server.rewind(p.conninfo, &why)) {
    host_.logf(KESTREL_LOG_WARNING, "rejoin %s: pg_rewind impossible (%s): taking a fresh pg_basebackup from %s",
               name.c_str(), why.empty() ? "no cluster in the data directory" : why.c_str(), p.name.c_str());
    path = "basebackup";
    server.clear();
    std::string why2;
    if (!server.basebackup(replication_conninfo(p, s.name), slot_name(s.name), &why2))
      throw Error(KESTREL_ERR_UNAVAILABLE, "rejoin " + name + ": pg_rewind failed (" + why +
                                               ") and the fresh copy from " + p.name + " failed too: " + why2,
                  true);
  }
  host_.logf(KESTREL_LOG_INFO, "rejoin %s: %s from %s", name.c_str(),
             path == "rewind" ? "rewound with pg_rewind" : "fresh copy with pg_basebackup", p.name.c_str());
  configure_standby(s, p);
  server.start();
  wait_streaming(p, s.name);
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    fenced_.erase(name);
    demoted_.erase(name);
    last_rejoin_ = name + ":" + path;
  }
  reconcile_mode_quietly(true);  // one more standby streams
}

}  // namespace replicator_pg
}  // namespace kestrel
