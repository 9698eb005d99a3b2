// replicator-pg against real PostgreSQL: bootstrap of two standbys, rows on
// both, lag while replay is paused, each mode's guarantee, the consistency
// check, and bad input (the nodes list, connection info, a foreign cluster, a
// replication slot in use). One set of clusters for the whole suite: a
// (primary), b and c (standbys), d (a copy promoted behind Kestrel's back), x
// (another cluster).
#include <cppunit/extensions/HelperMacros.h>
#include <libpq-fe.h>

#include <chrono>
#include <future>

#include "replication_env.h"

using kestrel::ReplicatorClient;
using kestrel::test::eventually;
using kestrel::test::PgCluster;
using kestrel::test::ReplicationEnv;

namespace {

std::unique_ptr<ReplicationEnv>& shared_env() {
  static std::unique_ptr<ReplicationEnv> env;
  return env;
}

const char* const kPassword = "s3cret-repl";

// `nodes`: node_item's (or hand-written flow maps), the primary first.
std::string component(const std::string& id, const std::vector<std::string>& nodes,
                      const std::string& extra = std::string(),
                      const std::string& conninfo = ReplicationEnv::superuser_conninfo()) {
  std::string y = "  " + id + ":\n    type: replicator-pg\n" + ReplicationEnv::replicator_nodes(nodes, conninfo);
  y += "    replication_password: \"" + std::string(kPassword) + "\"\n    poll_interval: 200ms\n"
       "    catch_up_timeout: 30s\n    connect_timeout: 2s\n    range_size: 10\n"
       "    bootstrap: manual\n" + extra;  // the scenarios bootstrap each standby themselves
  return y;
}

ReplicationEnv& env() {
  auto& e = shared_env();
  if (!e) {
    e = std::make_unique<ReplicationEnv>();
    e->add_primary("a");
    e->add_empty("b");
    e->add_empty("c");
    e->add_empty("d");
    e->add_initialized("x");
    // "wrong": a's password is wrong; b is a remote node where nothing listens.
    const std::string bad_standby = "{name: b, priority: 1, host: 127.0.0.1, port: 1}";
    e->start_runtime("components:\n" +
                     component("repl", {e->node_item("a", 0), e->node_item("b", 1), e->node_item("c", 2)}) +
                     component("copy", {e->node_item("a", 0), e->node_item("d", 3), e->node_item("x", 4)}) +
                     component("wrong", {e->node_item("a", 0), bad_standby}, std::string(),
                               "user=postgres password=wrong"));
  }
  return *e;
}

kestrel::NodeStatus status_of(const ReplicatorClient& r, const std::string& node) {
  for (const auto& s : r.node_status())
    if (s.node == node) return s;
  CPPUNIT_FAIL("no status for node " + node);
  return {};
}

kestrel_result code_of(const std::function<void()>& fn, std::string* message) {
  try {
    fn();
  } catch (const kestrel::Error& e) {
    *message = e.what();
    return e.code();
  }
  return KESTREL_OK;
}

bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

}  // namespace

class ReplicationStreamingTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(ReplicationStreamingTest);
  CPPUNIT_TEST(bad_node_specs_are_refused_at_create);
  CPPUNIT_TEST(bootstrap_streams_rows_to_both_standbys);
  CPPUNIT_TEST(wrong_connection_info_is_reported_with_the_node);
  CPPUNIT_TEST(foreign_cluster_is_refused);
  CPPUNIT_TEST(active_slot_is_refused_then_reused);
  CPPUNIT_TEST(lag_rises_while_replay_is_paused);
  CPPUNIT_TEST(sync_commit_waits_for_a_stopped_standby);
  CPPUNIT_TEST(semi_sync_commits_with_one_of_two_stopped);
  CPPUNIT_TEST(sync_without_standbys_is_refused_unless_forced);
  CPPUNIT_TEST(consistency_check_locates_a_changed_row);
  CPPUNIT_TEST(teardown_clusters);
  CPPUNIT_TEST_SUITE_END();

 public:
  void bad_node_specs_are_refused_at_create() {
    ReplicationEnv& e = env();
    const std::string good = e.node_item("a", 0);
    std::string err = e.create_errors("components:\n" + component("r", {good, "{name: z, hots: 127.0.0.1}"}));
    CPPUNIT_ASSERT_MESSAGE(err, contains(err, "item 1 of 'nodes'") && contains(err, "hots"));
    err = e.create_errors("components:\n" + component("r", {good, "{host: 127.0.0.1, port: 5}"}));
    CPPUNIT_ASSERT_MESSAGE(err, contains(err, "item 1 of 'nodes'") && contains(err, "'name' is missing"));
    err = e.create_errors("components:\n" + component("r", {good}, std::string(), "user=postgres password"));
    CPPUNIT_ASSERT_MESSAGE(err, contains(err, "option conninfo") && contains(err, "missing \"=\""));
    err = e.create_errors("components:\n" + component("r", {good}, "    mode: fast\n"));
    CPPUNIT_ASSERT_MESSAGE(err, contains(err, "option mode") && contains(err, "fast"));
    err = e.create_errors("components:\n" + component("r", {good, e.node_item("a", 1)}));
    CPPUNIT_ASSERT_MESSAGE(err, contains(err, "key 'name' is 'a', already the value of an item"));
    // Another name, the same server.
    std::string same_server = e.node_item("a", 1);
    same_server.replace(same_server.find("name: a"), 7, "name: a2");
    err = e.create_errors("components:\n" + component("r", {good, same_server}));
    CPPUNIT_ASSERT_MESSAGE(err, contains(err, "node a2 is at 127.0.0.1:") && contains(err, "the address of node a"));
  }

  void bootstrap_streams_rows_to_both_standbys() {
    ReplicationEnv& e = env();
    ReplicatorClient r = e.replicator("repl");
    ReplicationEnv::insert_images(e.cluster("a"), "http://site/before/", 30);
    r.bootstrap("b");
    r.bootstrap("c");
    ReplicationEnv::insert_images(e.cluster("a"), "http://site/after/", 20);
    ReplicationEnv::wait_rows(e.cluster("b"), 50);
    ReplicationEnv::wait_rows(e.cluster("c"), 50);
    // Streaming through slots, authenticated by scram-sha-256 (never trust).
    auto slots = e.cluster("a").query("SELECT slot_name FROM pg_replication_slots WHERE active ORDER BY 1");
    CPPUNIT_ASSERT_EQUAL(size_t{2}, slots.size());
    CPPUNIT_ASSERT_EQUAL(std::string("kestrel_b"), slots[0][0]);
    auto hba = e.cluster("a").query(
        "SELECT auth_method FROM pg_hba_file_rules WHERE 'replication' = ANY(database) AND 'replicator' = ANY(user_name)");
    CPPUNIT_ASSERT(!hba.empty());
    CPPUNIT_ASSERT_EQUAL(std::string("scram-sha-256"), hba[0][0]);
    auto trust = e.cluster("a").query("SELECT count(*) FROM pg_hba_file_rules WHERE auth_method = 'trust'"
                                      " AND 'replication' = ANY(database)");
    CPPUNIT_ASSERT_EQUAL(std::string("0"), trust[0][0]);
    // Standby b: role standby, healthy, streaming; bootstrap again is a no-op.
    kestrel::NodeStatus b = status_of(r, "b");
    CPPUNIT_ASSERT_EQUAL(KESTREL_ROLE_STANDBY, b.role);
    CPPUNIT_ASSERT(b.healthy);
    CPPUNIT_ASSERT_EQUAL(KESTREL_ROLE_PRIMARY, status_of(r, "a").role);
    r.bootstrap("b");
    // Writes on a standby are refused by PostgreSQL itself.
    CPPUNIT_ASSERT_THROW(e.cluster("b").query("INSERT INTO images (url, created_at, updated_at) VALUES ('u', 1, 1)",
                                              "kestrel"),
                         std::runtime_error);
  }

  void wrong_connection_info_is_reported_with_the_node() {
    ReplicatorClient r = env().replicator("wrong");
    kestrel::NodeStatus a = status_of(r, "a");
    CPPUNIT_ASSERT(!a.healthy);
    CPPUNIT_ASSERT_MESSAGE(a.detail, contains(a.detail, "node a") && contains(a.detail, "password"));
    kestrel::NodeStatus b = status_of(r, "b");
    CPPUNIT_ASSERT(!b.healthy);
    CPPUNIT_ASSERT_MESSAGE(b.detail, contains(b.detail, "node b") && contains(b.detail, "cannot connect"));
    std::string msg;
    CPPUNIT_ASSERT_EQUAL(KESTREL_ERR_INVALID, code_of([&] { r.set_mode(KESTREL_REPLICATION_ASYNC); }, &msg));
    CPPUNIT_ASSERT_MESSAGE(msg, contains(msg, "node a") && contains(msg, "login refused"));
  }

  void foreign_cluster_is_refused() {
    ReplicationEnv& e = env();
    std::string msg;
    CPPUNIT_ASSERT_EQUAL(KESTREL_ERR_INVALID, code_of([&] { e.replicator("copy").bootstrap("x"); }, &msg));
    CPPUNIT_ASSERT_MESSAGE(msg, contains(msg, "node x") && contains(msg, "system identifier") && contains(msg, "force"));
    // Nothing was touched: x still runs as its own primary.
    CPPUNIT_ASSERT_EQUAL(std::string("f"), e.cluster("x").query("SELECT pg_is_in_recovery()")[0][0]);
  }

  void active_slot_is_refused_then_reused() {
    ReplicationEnv& e = env();
    PgCluster& a = e.cluster("a");
    a.query("SELECT pg_create_physical_replication_slot('kestrel_d', true)");
    {
      // Someone else streams from slot kestrel_d (a raw replication connection).
      const std::string conninfo = "host=127.0.0.1 port=" + std::to_string(a.port()) +
                                   " user=postgres password=postgres replication=true application_name=intruder";
      std::unique_ptr<PGconn, void (*)(PGconn*)> holder(PQconnectdb(conninfo.c_str()), PQfinish);
      CPPUNIT_ASSERT_EQUAL(CONNECTION_OK, PQstatus(holder.get()));
      const std::string from =
          a.query("SELECT restart_lsn FROM pg_replication_slots WHERE slot_name = 'kestrel_d'")[0][0];
      std::unique_ptr<PGresult, void (*)(PGresult*)> res(
          PQexec(holder.get(), ("START_REPLICATION SLOT kestrel_d PHYSICAL " + from).c_str()), PQclear);
      CPPUNIT_ASSERT_EQUAL(PGRES_COPY_BOTH, PQresultStatus(res.get()));
      std::string msg;
      CPPUNIT_ASSERT(eventually(
          [&] { return a.query("SELECT active FROM pg_replication_slots WHERE slot_name = 'kestrel_d'")[0][0] == "t"; },
          10000));
      CPPUNIT_ASSERT_EQUAL(KESTREL_ERR_UNAVAILABLE, code_of([&] { e.replicator("copy").bootstrap("d"); }, &msg));
      CPPUNIT_ASSERT_MESSAGE(msg, contains(msg, "kestrel_d") && contains(msg, "in use") &&
                                      contains(msg, "pg_drop_replication_slot"));
    }
    // Released: the inactive slot is reused.
    CPPUNIT_ASSERT(eventually(
        [&] { return a.query("SELECT active FROM pg_replication_slots WHERE slot_name = 'kestrel_d'")[0][0] == "f"; },
        10000));
    e.replicator("copy").bootstrap("d");
    ReplicationEnv::wait_rows(e.cluster("d"), ReplicationEnv::count_rows(a));
  }

  void lag_rises_while_replay_is_paused() {
    ReplicationEnv& e = env();
    ReplicatorClient r = e.replicator("repl");
    e.cluster("b").query("SELECT pg_wal_replay_pause()");
    ReplicationEnv::insert_images(e.cluster("a"), "http://site/paused/", 200);
    kestrel::NodeStatus b;
    CPPUNIT_ASSERT(eventually(
        [&] {
          b = status_of(r, "b");
          // Received (streaming goes on) but not replayed.
          return b.lag_bytes > 0 && contains(b.detail, "replay paused") && b.receive_lsn > b.lsn;
        },
        20000));
    CPPUNIT_ASSERT(ReplicationEnv::gauge("kestrel_replication_lag_bytes", "repl", "b") > 0);
    // The other standby is unaffected.
    ReplicationEnv::wait_rows(e.cluster("c"), ReplicationEnv::count_rows(e.cluster("a")));
    e.cluster("b").query("SELECT pg_wal_replay_resume()");
    CPPUNIT_ASSERT(eventually(
        [&] {
          b = status_of(r, "b");
          return b.lag_bytes == 0 && b.replay_lag_seconds == 0.0 && b.detail.empty();
        },
        30000));
    // The background poller (200 ms) brings the gauge back to 0 too.
    CPPUNIT_ASSERT(eventually([&] { return ReplicationEnv::gauge("kestrel_replication_lag_bytes", "repl", "b") == 0.0; },
                              10000));
    CPPUNIT_ASSERT(ReplicationEnv::gauge("kestrel_replication_replay_lag_seconds", "repl", "b") >= 0.0);
  }

  void sync_commit_waits_for_a_stopped_standby() {
    ReplicationEnv& e = env();
    ReplicatorClient r = e.replicator("repl");
    r.set_mode(KESTREL_REPLICATION_SYNC);
    CPPUNIT_ASSERT_EQUAL(KESTREL_REPLICATION_SYNC, r.mode());
    CPPUNIT_ASSERT_EQUAL(std::string("FIRST 2 (\"b\", \"c\")"),
                         e.cluster("a").query("SHOW synchronous_standby_names")[0][0]);
    CPPUNIT_ASSERT(eventually([&] { return status_of(r, "c").sync_state == "sync"; }, 10000));
    e.cluster("c").stop("fast");
    const long before = ReplicationEnv::count_rows(e.cluster("a"));
    auto commit = std::async(std::launch::async, [&] { ReplicationEnv::insert_images(e.cluster("a"), "http://site/sync/", 1); });
    CPPUNIT_ASSERT(commit.wait_for(std::chrono::seconds(2)) == std::future_status::timeout);
    e.cluster("c").start();
    CPPUNIT_ASSERT(commit.wait_for(std::chrono::seconds(60)) == std::future_status::ready);
    commit.get();
    ReplicationEnv::wait_rows(e.cluster("c"), before + 1);
  }

  void semi_sync_commits_with_one_of_two_stopped() {
    ReplicationEnv& e = env();
    ReplicatorClient r = e.replicator("repl");
    r.set_mode(KESTREL_REPLICATION_SEMI_SYNC);
    CPPUNIT_ASSERT_EQUAL(std::string("ANY 1 (\"b\", \"c\")"),
                         e.cluster("a").query("SHOW synchronous_standby_names")[0][0]);
    CPPUNIT_ASSERT(eventually([&] { return status_of(r, "b").sync_state == "quorum"; }, 10000));
    e.cluster("c").stop("fast");
    auto commit = std::async(std::launch::async, [&] { ReplicationEnv::insert_images(e.cluster("a"), "http://site/semi/", 1); });
    CPPUNIT_ASSERT(commit.wait_for(std::chrono::seconds(60)) == std::future_status::ready);
    commit.get();
    e.cluster("c").start();
    r.set_mode(KESTREL_REPLICATION_ASYNC);
    CPPUNIT_ASSERT_EQUAL(std::string(""), e.cluster("a").query("SHOW synchronous_standby_names")[0][0]);
  }

  void sync_without_standbys_is_refused_unless_forced() {
    ReplicationEnv& e = env();
    ReplicatorClient r = e.replicator("repl");
    e.cluster("b").stop("fast");
    // Once the primary has noticed, sync (FIRST 2) would block every commit.
    CPPUNIT_ASSERT(eventually(
        [&] { return e.cluster("a").query("SELECT count(*) FROM pg_stat_replication WHERE application_name = 'b'")[0][0] == "0"; }, 20000));
    std::string msg;
    CPPUNIT_ASSERT_EQUAL(KESTREL_ERR_UNAVAILABLE, code_of([&] { r.set_mode(KESTREL_REPLICATION_SYNC); }, &msg));
    CPPUNIT_ASSERT_MESSAGE(msg, contains(msg, "every commit would block"));
    CPPUNIT_ASSERT_EQUAL(KESTREL_REPLICATION_ASYNC, r.mode());
    CPPUNIT_ASSERT_EQUAL(std::string(""), e.cluster("a").query("SHOW synchronous_standby_names")[0][0]);
    r.set_mode(KESTREL_REPLICATION_SYNC, true);  // forced: the operator accepts blocked writes
    CPPUNIT_ASSERT_EQUAL(KESTREL_REPLICATION_SYNC, r.mode());
    r.set_mode(KESTREL_REPLICATION_ASYNC);
    e.cluster("b").start();
    ReplicationEnv::wait_rows(e.cluster("b"), ReplicationEnv::count_rows(e.cluster("a")));
  }

  void consistency_check_locates_a_changed_row() {
    ReplicationEnv& e = env();
    const std::string same = e.replicator("repl").check_consistency("b");
    CPPUNIT_ASSERT_MESSAGE(same, contains(same, "\"consistent\":true"));
    CPPUNIT_ASSERT_MESSAGE(same, !contains(same, "\"from_id\""));
    // d: a copy promoted behind Kestrel's back, one row changed there.
    ReplicationEnv::wait_rows(e.cluster("d"), ReplicationEnv::count_rows(e.cluster("a")));
    e.cluster("d").query("SELECT pg_promote(true, 30)");
    e.cluster("d").query("UPDATE images SET width = 4242 WHERE id = 23", "kestrel");
    const std::string diff = e.replicator("copy").check_consistency("d");
    CPPUNIT_ASSERT_MESSAGE(diff, contains(diff, "\"consistent\":false"));
    CPPUNIT_ASSERT_MESSAGE(diff, contains(diff, "\"from_id\":21") && contains(diff, "\"to_id\":30"));
    CPPUNIT_ASSERT_MESSAGE(diff, !contains(diff, "\"from_id\":11"));
  }

  void teardown_clusters() { shared_env().reset(); }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ReplicationStreamingTest);
