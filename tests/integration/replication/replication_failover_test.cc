// replicator-pg failover against real PostgreSQL: promote a standby (epoch
// recorded in cluster_state), fence the old primary through SQL (roles
// NOLOGIN, pg_hba reject, backends terminated: no write even after SET
// default_transaction_read_only = off), rejoin it with pg_rewind, and the
// fallback to a fresh pg_basebackup when rewinding is impossible. Clusters: a
// (primary, fence=sql), b and c (standbys).
#include <cppunit/extensions/HelperMacros.h>
#include <libpq-fe.h>

#include <fstream>

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

ReplicationEnv& env() {
  auto& e = shared_env();
  if (!e) {
    e = std::make_unique<ReplicationEnv>();
    e->add_primary("a");
    e->add_empty("b");
    e->add_empty("c");
    e->start_runtime("components:\n  repl:\n    type: replicator-pg\n" +
                     ReplicationEnv::replicator_nodes({e->node_item("a", 0, "sql"), e->node_item("b", 1),
                                                       e->node_item("c", 2)}) +
                     "    replication_password: \"s3cret-repl\"\n    poll_interval: 1s\n"
                     "    catch_up_timeout: 30s\n    connect_timeout: 2s\n    bootstrap: manual\n");
    ReplicationEnv::insert_images(e->cluster("a"), "http://site/first/", 40);
    e->replicator("repl").bootstrap("b");
    e->replicator("repl").bootstrap("c");
  }
  return *e;
}

using Conn = std::unique_ptr<PGconn, void (*)(PGconn*)>;

Conn app_connection(const PgCluster& c) { return Conn(PQconnectdb(c.conninfo("kestrel").c_str()), PQfinish); }

// Runs sql on conn; true when it succeeded.
bool run(PGconn* conn, const std::string& sql, std::string* error) {
  std::unique_ptr<PGresult, void (*)(PGresult*)> res(PQexec(conn, sql.c_str()), PQclear);
  const ExecStatusType st = PQresultStatus(res.get());
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return true;
  *error = PQerrorMessage(conn);
  return false;
}

bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

kestrel::NodeStatus status_of(const ReplicatorClient& r, const std::string& node) {
  for (const auto& s : r.node_status())
    if (s.node == node) return s;
  CPPUNIT_FAIL("no status for node " + node);
  return {};
}

}  // namespace

class ReplicationFailoverTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(ReplicationFailoverTest);
  CPPUNIT_TEST(promote_fence_and_rejoin_with_rewind);
  CPPUNIT_TEST(rejoin_falls_back_to_a_fresh_copy);
  CPPUNIT_TEST(teardown_clusters);
  CPPUNIT_TEST_SUITE_END();

 public:
  void promote_fence_and_rejoin_with_rewind() {
    ReplicationEnv& e = env();
    ReplicatorClient r = e.replicator("repl");
    PgCluster& a = e.cluster("a");
    PgCluster& b = e.cluster("b");
    PgCluster& c = e.cluster("c");
    ReplicationEnv::wait_rows(b, 40);
    Conn session = app_connection(a);  // an application session open before the fence
    CPPUNIT_ASSERT_EQUAL(CONNECTION_OK, PQstatus(session.get()));

    r.promote("b", 2, 30000);
    CPPUNIT_ASSERT_EQUAL(std::string("f"), b.query("SELECT pg_is_in_recovery()")[0][0]);
    auto state = b.query("SELECT epoch, primary_node FROM cluster_state WHERE id = 1");
    CPPUNIT_ASSERT_EQUAL(std::string("2"), state[0][0]);
    CPPUNIT_ASSERT_EQUAL(std::string("b"), state[0][1]);
    ReplicationEnv::insert_images(b, "http://site/on-b/", 5);
    // A lower epoch never goes back.
    std::string msg;
    try {
      r.promote("b", 1, 30000);
    } catch (const kestrel::Error& err) {
      msg = err.what();
      CPPUNIT_ASSERT_EQUAL(KESTREL_ERR_FENCED, err.code());
    }
    CPPUNIT_ASSERT_MESSAGE(msg, contains(msg, "epoch 2"));

    // The old primary still takes a write nobody else has (split brain before the fence).
    ReplicationEnv::insert_images(a, "http://site/diverged/", 1);

    r.fence("a");
    std::string error;
    // The open session was terminated: turning read-only off does not help it.
    const bool wrote = run(session.get(), "SET default_transaction_read_only = off", &error) &&
                       run(session.get(), "INSERT INTO images (url, created_at, updated_at) VALUES ('http://x/1', 1, 1)",
                           &error);
    CPPUNIT_ASSERT_MESSAGE("a fenced node accepted a write on an old session", !wrote);
    // A new application session is refused.
    Conn fresh = app_connection(a);
    CPPUNIT_ASSERT(PQstatus(fresh.get()) != CONNECTION_OK);
    error = PQerrorMessage(fresh.get());
    CPPUNIT_ASSERT_MESSAGE(error, contains(error, "pg_hba.conf rejects") || contains(error, "not permitted to log in"));
    // The administrator (superuser) still gets in; the node reports itself fenced.
    CPPUNIT_ASSERT_EQUAL(std::string("1"), a.query("SELECT 1")[0][0]);
    CPPUNIT_ASSERT_EQUAL(KESTREL_ROLE_FENCED, status_of(r, "a").role);
    r.fence("a");  // idempotent

    // Rejoin: a rewinds onto b's timeline, losing its diverged row.
    r.rejoin("a");
    CPPUNIT_ASSERT_MESSAGE(e.status_json("repl"), contains(e.status_json("repl"), "\"last_rejoin\":\"a:rewind\""));
    CPPUNIT_ASSERT_EQUAL(std::string("t"), a.query("SELECT pg_is_in_recovery()")[0][0]);
    ReplicationEnv::insert_images(b, "http://site/after-rejoin/", 3);
    ReplicationEnv::wait_rows(a, 48);
    CPPUNIT_ASSERT_EQUAL(std::string("0"), a.query("SELECT count(*) FROM images WHERE url LIKE '%diverged%'")[0][0]);
    // The application role logs in again (b's catalog), read-only as a standby.
    Conn again = app_connection(a);
    CPPUNIT_ASSERT_EQUAL(CONNECTION_OK, PQstatus(again.get()));

    // c, which followed a, now follows b.
    r.rejoin("c");
    ReplicationEnv::wait_rows(c, 48);
    CPPUNIT_ASSERT_EQUAL(KESTREL_ROLE_PRIMARY, status_of(r, "b").role);
    CPPUNIT_ASSERT_EQUAL(KESTREL_ROLE_STANDBY, status_of(r, "a").role);
    CPPUNIT_ASSERT_EQUAL(KESTREL_ROLE_STANDBY, status_of(r, "c").role);
    const std::string report = r.check_consistency("a");
    CPPUNIT_ASSERT_MESSAGE(report, contains(report, "\"consistent\":true"));
  }

  void rejoin_falls_back_to_a_fresh_copy() {
    ReplicationEnv& e = env();
    ReplicatorClient r = e.replicator("repl");
    PgCluster& a = e.cluster("a");
    a.stop("fast");
    // A data directory pg_rewind cannot use: its control file is gone.
    { std::ofstream(a.data_dir() + "/global/pg_control", std::ios::trunc); }
    r.rejoin("a");
    CPPUNIT_ASSERT_MESSAGE(e.status_json("repl"), contains(e.status_json("repl"), "\"last_rejoin\":\"a:basebackup\""));
    ReplicationEnv::insert_images(e.cluster("b"), "http://site/after-copy/", 2);
    ReplicationEnv::wait_rows(a, 50);
  }

  void teardown_clusters() { shared_env().reset(); }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ReplicationFailoverTest);
