// replicator-changelog with a PostgreSQL standby of an SQLite primary
// (issue 10: "SQLite or PostgreSQL standbys"): SQLite files a and b, a real
// PostgreSQL 15 server c (PgCluster) holding the catalog schema, behind the
// ha-catalog, loaded in-process with store-sqlite and store-postgres.
//   - c is bootstrapped from a snapshot of a, then streams: in sync mode a
//     write is acknowledged only once c holds it; updates of a row land
//     too; the consistency check compares SQLite's and PostgreSQL's rows
//     checksum by checksum (text with quotes, backslashes, tabs and
//     non-ASCII, which both dialects must print alike); a restart resumes
//     from c's recorded position (no second copy).
//   - Rows changed and removed on c behind Kestrel's back are found by the
//     check and repaired by force-sync, only in the ranges that differ.
//   - c is never promoted: a failover from a lost primary file goes to b
//     although c has the better priority (nofailover), a manual promote of
//     c is refused, and c follows the new primary.
//   - Bad node lists are refused, naming the node.
#include <cppunit/extensions/HelperMacros.h>

#include <Poco/Data/SQLite/Connector.h>
#include <Poco/File.h>

#include "ha/ha_control.h"
#include "kestrel/test/pg_cluster.h"
#include "kestrel/test/sqlite_query.h"
#include "replication_env.h"

using kestrel::CatalogClient;
using kestrel::Error;
using kestrel::host::ha::HaControl;
using kestrel::test::eventually;
using kestrel::test::ImageOp;
using kestrel::test::PgCluster;
using kestrel::test::ReplicationEnv;
using kestrel::test::sqlite_scalar;

namespace {

long rows(const std::string& file, const std::string& table = "images") {
  return std::stol(sqlite_scalar(file, "SELECT COUNT(*) FROM " + table));
}

void write_images(CatalogClient catalog, const std::string& prefix, int n, int64_t file_size = 100) {
  for (int i = 0; i < n; ++i) {
    ImageOp op(prefix + std::to_string(i));
    op.record_.file_size = file_size;
    catalog.write(0, &op.op_, 1);
  }
}

// Nodes a, b (SQLite files in `dir`) and c (PostgreSQL `pg`, nofailover
// unless `nofailover` is empty), the replicator with `options`, the three
// stores and an ha-catalog over them.
std::string cluster_yaml(const std::string& dir, PgCluster& pg, const std::string& options,
                         const std::string& nofailover = "true", int c_priority = 2) {
  std::string y = "components:\n  repl:\n    type: replicator-changelog\n    nodes:\n";
  y += "      - {name: a, priority: 0, path: " + dir + "/a.db}\n";
  y += "      - {name: b, priority: 3, path: " + dir + "/b.db}\n";
  y += "      - {name: c, priority: " + std::to_string(c_priority) + ", host: 127.0.0.1, port: " +
       std::to_string(pg.port()) + (nofailover.empty() ? "" : ", nofailover: " + nofailover) + "}\n";
  y += "    conninfo: \"user=kestrel password=kestrel\"\n";
  y += options;
  y += "  a:\n    type: store-sqlite\n    nodes: repl\n  b:\n    type: store-sqlite\n    nodes: repl\n";
  y += "  c:\n    type: store-postgres\n    nodes: repl\n    conninfo: \"user=kestrel password=kestrel\"\n";
  y += "  catalog:\n    type: ha-catalog\n    nodes: repl\n    stores: [a, b, c]\n    replicator: repl\n"
       "    health_check_interval: 1s\n    retry_interval: 200ms\n    failure_threshold: 3\n"
       "    failover_timeout: 20s\n";
  return y;
}

std::string pg_scalar(PgCluster& pg, const std::string& sql) { return pg.query(sql).at(0).at(0); }

}  // namespace

class ChangelogPostgresTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(ChangelogPostgresTest);
  CPPUNIT_TEST(a_postgres_standby_holds_every_acknowledged_write_and_checks_consistent);
  CPPUNIT_TEST(force_sync_repairs_the_postgres_standby_and_failover_never_picks_it);
  CPPUNIT_TEST(bad_postgres_nodes_are_named);
  CPPUNIT_TEST_SUITE_END();

 public:
  void setUp() override { Poco::Data::SQLite::Connector::registerConnector(); }

  void a_postgres_standby_holds_every_acknowledged_write_and_checks_consistent() {
    ReplicationEnv e;
    PgCluster& pg = e.add_initialized("c");  // an empty database: the replicator and the store migrate it
    const std::string dir = e.dir();
    const std::string yaml = cluster_yaml(dir, pg, "    mode: sync\n    sync_timeout: 20s\n    ship_interval: 50ms\n"
                                                   "    range_size: 16\n");
    e.start_runtime(yaml);
    HaControl& ha = e.ha("catalog");
    CatalogClient catalog = e.catalog("catalog");
    // Sync mode waits for every standby: c among them, once it streams.
    CPPUNIT_ASSERT_MESSAGE(e.log_text(), eventually([&] {
      int streaming = 0;
      for (const auto& s : e.replicator("repl").node_status())
        if (s.node != "a" && s.healthy && s.sync_state == "sync") ++streaming;
      return streaming == 2;
    }, 30000));
    write_images(catalog, "http://site/one/", 40);
    // Acknowledged means applied on c: no waiting here.
    CPPUNIT_ASSERT_EQUAL(40L, ReplicationEnv::count_rows(pg));
    CPPUNIT_ASSERT_EQUAL(40L, rows(dir + "/b.db"));
    // Text both dialects must print alike in a row's JSON image.
    ImageOp odd("http://site/caf\xc3\xa9/\"quoted\"/back\\slash/tab\there/\x01");
    odd.record_.mime_type = "image/png; name=\"\xe2\x98\x83\"";
    catalog.write(0, &odd.op_, 1);
    write_images(catalog, "http://site/one/", 10, 777);  // updates of rows c holds
    CPPUNIT_ASSERT_EQUAL(41L, ReplicationEnv::count_rows(pg));
    CPPUNIT_ASSERT_EQUAL(std::string("10"), pg_scalar(pg, "SELECT count(*) FROM images WHERE file_size = 777"));
    CPPUNIT_ASSERT_EQUAL(std::string("standby"), pg_scalar(pg, "SELECT role FROM replication_state"));
    CPPUNIT_ASSERT_EQUAL(sqlite_scalar(dir + "/a.db", "SELECT seq FROM sqlite_sequence WHERE name = 'change_log'"),
                         pg_scalar(pg, "SELECT applied_seq FROM replica_positions WHERE node = 'a'"));
    const std::string report = e.replicator("repl").check_consistency("c");
    CPPUNIT_ASSERT_MESSAGE(report, report.find("\"consistent\":true") != std::string::npos);
    // Every table's checksummed ranges were compared, not only counts.
    CPPUNIT_ASSERT_MESSAGE(report, report.find("\"ranges\":3") != std::string::npos);
    CPPUNIT_ASSERT_EQUAL(size_t{2}, e.log_count("rebuilt as a copy of a"));  // b and c were new
    CPPUNIT_ASSERT_EQUAL(std::string("a"), ha.status().primary);

    // A restart of the daemon: c goes on from its own position.
    e.start_runtime(yaml);
    CPPUNIT_ASSERT_MESSAGE(e.log_text(), eventually([&] {
      int streaming = 0;
      for (const auto& s : e.replicator("repl").node_status())
        if (s.node != "a" && s.healthy && s.sync_state == "sync") ++streaming;
      return streaming == 2;
    }, 30000));
    write_images(e.catalog("catalog"), "http://site/two/", 5);
    CPPUNIT_ASSERT_EQUAL(46L, ReplicationEnv::count_rows(pg));
    CPPUNIT_ASSERT_EQUAL(size_t{2}, e.log_count("rebuilt as a copy of a"));  // the log spans both runs
    for (const auto& s : e.replicator("repl").node_status())
      if (s.node == "c")
        CPPUNIT_ASSERT_MESSAGE(s.detail, s.healthy && s.role == KESTREL_ROLE_STANDBY && s.lag_bytes == 0);
  }

  void force_sync_repairs_the_postgres_standby_and_failover_never_picks_it() {
    ReplicationEnv e;
    PgCluster& pg = e.add_initialized("c");  // an empty database: the replicator and the store migrate it
    const std::string dir = e.dir();
    // c has the best standby priority (1, b has 3): only nofailover keeps it out.
    e.start_runtime(cluster_yaml(dir, pg, "    mode: async\n    ship_interval: 50ms\n    busy_timeout: 100ms\n"
                                          "    range_size: 10\n", "true", 1));
    HaControl& ha = e.ha("catalog");
    CatalogClient catalog = e.catalog("catalog");
    write_images(catalog, "http://site/fs/", 30);
    CPPUNIT_ASSERT_MESSAGE(e.log_text(), eventually([&] { return ReplicationEnv::count_rows(pg) == 30; }, 30000));
    CPPUNIT_ASSERT(eventually([&] { return rows(dir + "/b.db") == 30; }, 20000));

    // Behind Kestrel's back, as an operator's psql would.
    pg.query("UPDATE images SET width = 1, height = 1 WHERE id = 5; DELETE FROM images WHERE id = 25", "kestrel");
    kestrel::ReplicatorClient r = e.replicator("repl");
    const std::string before = r.check_consistency("c");
    CPPUNIT_ASSERT_MESSAGE(before, before.find("\"consistent\":false") != std::string::npos);
    const std::string report = r.force_sync("c");
    for (const char* needle : {"\"ranges_repaired\":2", "\"rows_written\":20", "\"rows_deleted\":0",
                               "\"consistent\":true"})
      CPPUNIT_ASSERT_MESSAGE(report + " lacks " + needle, report.find(needle) != std::string::npos);
    CPPUNIT_ASSERT_EQUAL(30L, ReplicationEnv::count_rows(pg));
    CPPUNIT_ASSERT_EQUAL(std::string("10"), pg_scalar(pg, "SELECT width FROM images WHERE id = 5"));

    // Never promoted: by hand refused, and the policy says why.
    try {
      r.promote("c", 9, 5000);
      CPPUNIT_FAIL("a PostgreSQL standby was promoted");
    } catch (const Error& err) {
      CPPUNIT_ASSERT_EQUAL_MESSAGE(err.what(), KESTREL_ERR_INVALID, err.code());
    }
    CPPUNIT_ASSERT_EQUAL(std::string("standby"), pg_scalar(pg, "SELECT role FROM replication_state"));
    bool c_says_nofailover = false;
    for (const auto& n : ha.status().nodes)
      if (n.name == "c") c_says_nofailover = !n.eligible && n.not_eligible_reason == "nofailover";
    CPPUNIT_ASSERT_MESSAGE(e.status_json("catalog"), c_says_nofailover);
    // Nor through the HA catalog, even with force, and nothing is fenced
    // on the way (a switchover that fenced a first would leave no primary).
    for (int attempt = 0; attempt < 2; ++attempt) {
      try {
        if (attempt == 0) ha.failover("c", "test", true);
        else ha.switchover("c");
        CPPUNIT_FAIL("a failover or switchover to a nofailover node was accepted");
      } catch (const Error& err) {
        CPPUNIT_ASSERT_EQUAL_MESSAGE(err.what(), KESTREL_ERR_INVALID, err.code());
        CPPUNIT_ASSERT_MESSAGE(err.what(), std::string(err.what()).find("nofailover") != std::string::npos);
      }
    }
    CPPUNIT_ASSERT_EQUAL(std::string("a"), ha.status().primary);
    write_images(catalog, "http://site/still-a/", 1);  // a still takes writes: it was not fenced
    CPPUNIT_ASSERT(eventually([&] { return ReplicationEnv::count_rows(pg) == 31; }, 20000));
    CPPUNIT_ASSERT(eventually([&] { return rows(dir + "/b.db") == 31; }, 20000));  // b loses nothing at the failover

    // The primary's file is lost: the failover goes to b, and c follows b.
    CPPUNIT_ASSERT(eventually([&] {
      for (const auto& n : ha.status().nodes)
        if (n.name == "a" && n.healthy && n.lsn >= 31) return true;
      return false;
    }, 20000));
    for (const char* ext : {"", "-wal", "-shm"})
      if (Poco::File(dir + "/a.db" + ext).exists()) Poco::File(dir + "/a.db" + ext).renameTo(dir + "/lost-a.db" + ext);
    const bool failed_over = eventually([&] { return ha.status().primary == "b"; }, 30000);
    CPPUNIT_ASSERT_MESSAGE(e.status_json("catalog"), failed_over);
    write_images(catalog, "http://site/after/", 5);
    CPPUNIT_ASSERT_MESSAGE(e.log_text(), eventually([&] { return ReplicationEnv::count_rows(pg) == 36; }, 30000));
    CPPUNIT_ASSERT_EQUAL(std::string("b"), pg_scalar(pg, "SELECT source FROM replication_state"));
    CPPUNIT_ASSERT_EQUAL(std::string("2"), pg_scalar(pg, "SELECT epoch FROM cluster_state"));
    const std::string after = r.check_consistency("c");
    CPPUNIT_ASSERT_MESSAGE(after, after.find("\"consistent\":true") != std::string::npos);
  }

  void bad_postgres_nodes_are_named() {
    ReplicationEnv e;
    PgCluster& pg = e.add_initialized("c");  // an empty database: the replicator and the store migrate it
    const std::string dir = e.dir();
    auto expect = [&](const std::string& yaml, const std::string& needle) {
      const std::string errors = e.create_errors(yaml);
      CPPUNIT_ASSERT_MESSAGE(yaml + "\n---\n" + errors, errors.find(needle) != std::string::npos);
    };
    expect(cluster_yaml(dir, pg, "", ""), "node c (");
    expect(cluster_yaml(dir, pg, "", ""), "set nofailover: true on it");
    const std::string port = std::to_string(pg.port());
    expect("components:\n  repl:\n    type: replicator-changelog\n    nodes:\n"
           "      - {name: c, host: 127.0.0.1, port: " + port + ", nofailover: true}\n"
           "      - {name: a, path: " + dir + "/a.db}\n    conninfo: \"user=kestrel\"\n",
           "the first node is the primary of a new cluster and must be an SQLite file");
    expect("components:\n  repl:\n    type: replicator-changelog\n    nodes:\n      - {name: a, path: " + dir +
               "/a.db}\n      - {name: c, host: 127.0.0.1, port: " + port + ", nofailover: true}\n",
           "option conninfo: needed for the PostgreSQL node c");
    expect("components:\n  repl:\n    type: replicator-changelog\n    nodes:\n      - {name: a, path: " + dir +
               "/a.db}\n      - {name: c, host: 127.0.0.1, port: " + port +
               ", nofailover: true}\n    conninfo: \"host=elsewhere user=kestrel\"\n",
           "option conninfo: host= is the node's");
    expect("components:\n  repl:\n    type: replicator-changelog\n    nodes:\n      - {name: a, path: " + dir +
               "/a.db, host: 127.0.0.1}\n",
           "give one of path");
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ChangelogPostgresTest);
