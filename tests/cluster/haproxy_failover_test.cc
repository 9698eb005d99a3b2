// The cluster as an operator deploys it (issue 11 items 2-4): one kestreld
// process per "server" (here two, on loopback), each managing its own
// PostgreSQL node (node.name = the node's name, one shared config file), a
// real etcd, and HAProxy in front (Debian's haproxy, `option httpchk GET
// /primary` on each daemon's HA API port, as with Patroni). A libpq client
// connects through HAProxy only.
//   - HAProxy routes the client to a, the primary; b is copied from a by its
//     own daemon (bootstrap: auto).
//   - a's PostgreSQL crashes: the leader promotes b (the connection is
//     refused: no partition wait), HAProxy's checks follow, and the client's
//     next connection through the same address writes on b.
//   - a's own daemon rewinds and restarts a as b's standby: its /replica
//     answers 200, its /primary 503, and HAProxy keeps routing to b.
// Every process is killed by PID at the end, also when an assertion fails.
#include <cppunit/extensions/HelperMacros.h>
#include <libpq-fe.h>

#include <fstream>
#include <memory>

#include "api_daemon.h"
#include "etcd_server.h"
#include "kestrel/test/child_process.h"
#include "kestrel/test/files.h"
#include "kestrel/test/paths.h"
#include "kestrel/test/ports.h"
#include "kestrel/test/temp_dir.h"
#include "replication_env.h"

using namespace kestrel::test;

namespace {

const char kHaproxy[] = "/usr/sbin/haproxy";

// One statement through `port` as the app role; "" and *error set on failure.
std::string pg_value(uint16_t port, const std::string& sql, std::string* error) {
  const std::string conninfo = "host=127.0.0.1 port=" + std::to_string(port) +
                               " user=kestrel password=kestrel dbname=kestrel connect_timeout=3";
  std::unique_ptr<PGconn, decltype(&PQfinish)> c(PQconnectdb(conninfo.c_str()), &PQfinish);
  if (PQstatus(c.get()) != CONNECTION_OK) {
    *error = PQerrorMessage(c.get());
    return "";
  }
  std::unique_ptr<PGresult, decltype(&PQclear)> r(PQexec(c.get(), sql.c_str()), &PQclear);
  const ExecStatusType st = PQresultStatus(r.get());
  if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
    *error = PQresultErrorMessage(r.get());
    return "";
  }
  error->clear();
  return st == PGRES_TUPLES_OK && PQntuples(r.get()) > 0 ? PQgetvalue(r.get(), 0, 0) : "ok";
}

// The server's port and role as the client behind HAProxy sees it, e.g. "5432 f".
std::string who_answers(uint16_t haproxy, std::string* error) {
  return pg_value(haproxy, "SELECT inet_server_port()::text || ' ' || pg_is_in_recovery()::text", error);
}

}  // namespace

class HaproxyFailoverTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(HaproxyFailoverTest);
  CPPUNIT_TEST(haproxy_follows_the_primary_through_a_crash);
  CPPUNIT_TEST_SUITE_END();

 public:
  void haproxy_follows_the_primary_through_a_crash() {
    CPPUNIT_ASSERT_MESSAGE(std::string(kHaproxy) + " is missing: bash packaging/install-deps.sh --test",
                           std::ifstream(kHaproxy).good());
    EtcdServer etcd;
    etcd.start();
    ReplicationEnv e;  // the PostgreSQL servers only: the daemons run as processes
    PgCluster& a = e.add_initialized("a");
    PgCluster& b = e.add_empty("b");
    TempDir dir("cluster-haproxy");
    std::map<std::string, uint16_t> admin, api;
    for (const char* n : {"a", "b"}) {
      admin[n] = free_loopback_port();
      api[n] = free_loopback_port();
    }
    // One file for both servers; KESTREL_NODE names the daemon's node.
    const std::string yaml =
        "node:\n  name: ${env:KESTREL_NODE}\n  data_dir: ${env:KESTREL_DATA}\nplugins:\n  paths: [\"" +
        plugin_dir() +
        "\"]\napi:\n  listen: \"127.0.0.1:${env:KESTREL_API_PORT}\"\nadmin:\n  listen: "
        "\"127.0.0.1:${env:KESTREL_ADMIN_PORT}\"\ncomponents:\n"
        "  a:\n    type: store-postgres\n    nodes: catalog\n    conninfo: \"user=kestrel password=kestrel\"\n"
        "  b:\n    type: store-postgres\n    nodes: catalog\n    conninfo: \"user=kestrel password=kestrel\"\n"
        "  repl:\n    type: replicator-pg\n    nodes: catalog\n    conninfo: \"" +
        ReplicationEnv::superuser_conninfo() +
        "\"\n    replication_password: \"s3cret-repl\"\n    poll_interval: 1s\n    connect_timeout: 2s\n"
        "    bootstrap: auto\n    mode: async\n"
        "  coord:\n    type: coordinator-etcd\n    endpoints: [\"" + etcd.client_url() +
        "\"]\n    prefix: /kestrel/cluster-haproxy/\n"
        "  catalog:\n    type: ha-catalog\n" +
        ReplicationEnv::nodes_option({e.node_item("a", 0), e.node_item("b", 1)}) +
        "    stores: [a, b]\n    replicator: repl\n    coordinator: coord\n"
        "    health_check_interval: 1s\n    retry_interval: 200ms\n";
    write_file(dir.file("cluster.yaml"), yaml);
    std::map<std::string, std::unique_ptr<ChildProcess>> daemon;
    auto start_daemon = [&](const std::string& n) {
      daemon[n] = std::make_unique<ChildProcess>(
          kestreld_path(), std::vector<std::string>{"--config", dir.file("cluster.yaml")}, dir.file(n + ".out"),
          dir.file(n + ".err"),
          ChildProcess::Options{"", {{"KESTREL_NODE", n},
                                     {"KESTREL_DATA", dir.make_dir("data-" + n)},
                                     {"KESTREL_API_PORT", std::to_string(api[n])},
                                     {"KESTREL_ADMIN_PORT", std::to_string(admin[n])}}});
    };
    auto logs = [&] {
      std::string s;
      for (auto& d : daemon) s += "--- " + d.first + ":\n" + d.second->stdout_text() + d.second->stderr_text();
      return s;
    };
    start_daemon("a");
    CPPUNIT_ASSERT_MESSAGE(logs(), eventually([&] { return try_http_call(admin["a"], "GET", "/primary").status == 200; },
                                              60000));
    start_daemon("b");  // copies b from a: its own node
    CPPUNIT_ASSERT_MESSAGE(logs(), eventually([&] { return try_http_call(admin["b"], "GET", "/replica").status == 200; },
                                              120000));

    const uint16_t front = free_loopback_port();
    write_file(dir.file("haproxy.cfg"),
               "global\n  maxconn 64\ndefaults\n  mode tcp\n  timeout connect 2s\n  timeout client 30s\n"
               "  timeout server 30s\n  timeout check 1s\n"
               "listen primary\n  bind 127.0.0.1:" + std::to_string(front) +
                   "\n  option httpchk GET /primary\n  http-check expect status 200\n"
                   "  default-server inter 300ms fall 1 rise 1 on-marked-down shutdown-sessions\n"
                   "  server a 127.0.0.1:" + std::to_string(a.port()) + " check port " + std::to_string(admin["a"]) +
                   "\n  server b 127.0.0.1:" + std::to_string(b.port()) + " check port " +
                   std::to_string(admin["b"]) + "\n");
    ChildProcess haproxy(kHaproxy, {"-db", "-f", dir.file("haproxy.cfg")}, dir.file("haproxy.out"),
                         dir.file("haproxy.err"));
    std::string error;
    const std::string on_a = std::to_string(a.port()) + " false", on_b = std::to_string(b.port()) + " false";
    // HAProxy starts each server up until its checks fail (fall 1): routed
    // to a alone means four connections in a row (round robin) reached it.
    auto only = [&](const std::string& want) {
      for (int i = 0; i < 4; ++i)
        if (who_answers(front, &error) != want) return false;
      return true;
    };
    CPPUNIT_ASSERT_MESSAGE(error + haproxy.stderr_text(), eventually([&] { return only(on_a); }, 20000));
    std::string done = pg_value(front, "INSERT INTO categories (name, created_at) VALUES ('before', 1)", &error);
    CPPUNIT_ASSERT_EQUAL_MESSAGE(error, std::string("ok"), done);

    a.stop("immediate");  // a crash of a's PostgreSQL; its daemon lives on
    CPPUNIT_ASSERT_MESSAGE(logs() + error, eventually([&] { return only(on_b); }, 30000));
    done = pg_value(front, "INSERT INTO categories (name, created_at) VALUES ('after', 2)", &error);
    CPPUNIT_ASSERT_EQUAL_MESSAGE(error, std::string("ok"), done);
    const HttpReply st = http_call(admin["a"], "GET", "/api/status");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(st.body, std::string("b"), json_text(st.json, "primary"));
    CPPUNIT_ASSERT_EQUAL(std::string("2"), json_text(st.json, "epoch"));

    // a's own daemon brings a back as b's standby; HAProxy stays on b.
    CPPUNIT_ASSERT_MESSAGE(logs(), eventually([&] { return try_http_call(admin["a"], "GET", "/replica").status == 200; },
                                              120000));
    CPPUNIT_ASSERT_EQUAL(503, http_call(admin["a"], "GET", "/primary").status);
    CPPUNIT_ASSERT_EQUAL(200, http_call(admin["b"], "GET", "/primary").status);
    const std::string still = who_answers(front, &error);
    CPPUNIT_ASSERT_EQUAL_MESSAGE(error, on_b, still);
    CPPUNIT_ASSERT_MESSAGE(logs(), eventually([&] {
      std::string err;
      return pg_value(a.port(), "SELECT count(*) FROM categories WHERE name IN ('before', 'after')", &err) == "2";
    }, 30000));
    for (auto& d : daemon) {
      d.second->terminate();
      CPPUNIT_ASSERT_EQUAL_MESSAGE(logs(), 0, d.second->wait_or_kill(std::chrono::seconds(60)));
    }
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(HaproxyFailoverTest);
