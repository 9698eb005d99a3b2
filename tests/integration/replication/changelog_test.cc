// replicator-changelog against real SQLite files (issue 10), loaded through
// the host's loader and runtime with store-sqlite and, where the HA side is
// tested, the ha-catalog. Every node is a catalog file in this test's
// folder; faults are real: a standby's file write-locked by another
// connection (it cannot apply), a primary's file removed (its disk lost)
// and put back (the old primary returns), a standby's fence epoch raised.
//   - Changes reach every standby, also after a restart, resumed from each
//     standby's own recorded position (no second copy).
//   - sync mode: a write the standbys cannot apply fails with a retryable
//     TIMEOUT once sync_timeout passes; it succeeds once they can again.
//   - A change from an epoch below the one a standby has seen is refused.
//   - The HA catalog fails over from a lost primary file to the standby; the
//     old primary comes back, is fenced, and its changes the new primary
//     never had land in `conflicts` (primary wins), never dropped; it is
//     rebuilt as a copy and follows; the consistency check agrees.
#include <cppunit/extensions/HelperMacros.h>

#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/Session.h>
#include <Poco/File.h>

#include <chrono>
#include <thread>

#include "ha/ha_control.h"
#include "kestrel/test/sqlite_query.h"
#include "replication_env.h"

using kestrel::CatalogClient;
using kestrel::Error;
using kestrel::host::ha::FailoverEvent;
using kestrel::host::ha::HaControl;
using kestrel::test::eventually;
using kestrel::test::ImageOp;
using kestrel::test::ReplicationEnv;
using kestrel::test::sqlite_scalar;

namespace {

std::string node_item(const std::string& name, int priority, const std::string& path) {
  return "      - name: " + name + "\n        priority: " + std::to_string(priority) + "\n        path: " + path + "\n";
}

long rows(const std::string& file, const std::string& table = "images") {
  return std::stol(sqlite_scalar(file, "SELECT COUNT(*) FROM " + table));
}

uint64_t write_images(CatalogClient catalog, const std::string& prefix, int n, uint64_t epoch = 0) {
  uint64_t position = 0;
  for (int i = 0; i < n; ++i) {
    ImageOp op(prefix + std::to_string(i));
    position = catalog.write(epoch, &op.op_, 1);
  }
  return position;
}

// A connection holding the write lock of `file` until released: the
// replicator cannot apply there meanwhile.
struct WriteLock {
  explicit WriteLock(const std::string& file) : session("SQLite", file) {
    session << "BEGIN IMMEDIATE", Poco::Data::Keywords::now;
  }
  void release() {
    if (held) session << "ROLLBACK", Poco::Data::Keywords::now;
    held = false;
  }
  ~WriteLock() {
    try {
      release();
    } catch (...) {
    }
  }
  Poco::Data::Session session;
  bool held = true;
};

}  // namespace

class ChangelogTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(ChangelogTest);
  CPPUNIT_TEST(changes_reach_every_standby_and_resume_after_a_restart);
  CPPUNIT_TEST(sync_mode_fails_retryably_until_the_standbys_apply);
  CPPUNIT_TEST(a_change_from_a_stale_epoch_is_refused);
  CPPUNIT_TEST(failover_from_a_lost_primary_and_its_changes_land_in_conflicts);
  CPPUNIT_TEST(a_standby_past_max_log_entries_is_rebuilt_and_the_log_truncated);
  CPPUNIT_TEST(force_sync_repairs_only_the_ranges_that_differ);
  CPPUNIT_TEST(bad_options_are_named);
  CPPUNIT_TEST_SUITE_END();

 public:
  static void setUpClass() { Poco::Data::SQLite::Connector::registerConnector(); }
  void setUp() override { Poco::Data::SQLite::Connector::registerConnector(); }

  // Stores a, b, c (store-sqlite, nodes: repl) and the replicator.
  static std::string replicator_yaml(const std::string& dir, const std::string& options,
                                     const std::vector<std::string>& names = {"a", "b", "c"}) {
    std::string y = "components:\n  repl:\n    type: replicator-changelog\n    nodes:\n";
    int priority = 0;
    for (const std::string& n : names) y += node_item(n, priority++, dir + "/" + n + ".db");
    y += options;
    for (const std::string& n : names) y += "  " + n + ":\n    type: store-sqlite\n    nodes: repl\n";
    return y;
  }

  void changes_reach_every_standby_and_resume_after_a_restart() {
    ReplicationEnv e;
    const std::string dir = e.dir();
    const std::string yaml = replicator_yaml(dir, "    mode: async\n    ship_interval: 50ms\n");
    e.start_runtime(yaml);
    write_images(e.catalog("a"), "http://site/one/", 50);
    for (const char* n : {"b", "c"})
      CPPUNIT_ASSERT_MESSAGE(e.log_text(), eventually([&] { return rows(dir + "/" + n + ".db") == 50; }, 20000));
    CPPUNIT_ASSERT_EQUAL(std::string("primary"), sqlite_scalar(dir + "/a.db", "SELECT role FROM replication_state"));
    CPPUNIT_ASSERT_EQUAL(std::string("standby"), sqlite_scalar(dir + "/b.db", "SELECT role FROM replication_state"));
    // The standby recorded where it stands, in its own file.
    CPPUNIT_ASSERT_EQUAL(sqlite_scalar(dir + "/a.db", "SELECT seq FROM sqlite_sequence WHERE name = 'change_log'"),
                         sqlite_scalar(dir + "/b.db", "SELECT applied_seq FROM replica_positions WHERE node = 'a'"));
    // A standby file refuses the store's writers.
    try {
      write_images(e.catalog("b"), "http://site/refused/", 1);
      CPPUNIT_FAIL("a standby's store accepted a write");
    } catch (const Error& err) {
      CPPUNIT_ASSERT_EQUAL(KESTREL_ERR_FENCED, err.code());
    }
    const size_t copies = e.log_count("rebuilt as a copy of a");
    CPPUNIT_ASSERT_EQUAL(size_t{2}, copies);  // b and c were new files

    // A restart of the whole daemon: every standby goes on from its position.
    e.start_runtime(yaml);
    write_images(e.catalog("a"), "http://site/two/", 30);
    for (const char* n : {"b", "c"})
      CPPUNIT_ASSERT_MESSAGE(e.log_text(), eventually([&] { return rows(dir + "/" + n + ".db") == 80; }, 20000));
    CPPUNIT_ASSERT_EQUAL(copies, e.log_count("rebuilt as a copy of a"));
    for (const auto& s : e.replicator("repl").node_status())
      if (s.node != "a") {
        CPPUNIT_ASSERT_MESSAGE(s.node + ": " + s.detail, s.healthy && s.role == KESTREL_ROLE_STANDBY);
        CPPUNIT_ASSERT(eventually([&] {
          for (const auto& t : e.replicator("repl").node_status())
            if (t.node == s.node) return t.lag_bytes == 0 && t.sync_state == "async";
          return false;
        }, 10000));
      }
    // Truncated once every standby applied it (the maintenance runs each second).
    CPPUNIT_ASSERT(eventually([&] { return rows(dir + "/a.db", "change_log") == 0; }, 10000));
    const std::string report = e.replicator("repl").check_consistency("c");
    CPPUNIT_ASSERT_MESSAGE(report, report.find("\"consistent\":true") != std::string::npos);
  }

  void sync_mode_fails_retryably_until_the_standbys_apply() {
    ReplicationEnv e;
    const std::string dir = e.dir();
    e.start_runtime(replicator_yaml(dir, "    mode: sync\n    sync_timeout: 700ms\n    busy_timeout: 100ms\n") +
                    "  catalog:\n    type: ha-catalog\n    nodes: repl\n    stores: [a, b, c]\n"
                    "    replicator: repl\n    failover_timeout: 20s\n");
    CatalogClient catalog = e.catalog("catalog");
    write_images(catalog, "http://site/sync/", 5);  // acknowledged: applied on b and c already
    CPPUNIT_ASSERT_EQUAL(5L, rows(dir + "/b.db"));
    CPPUNIT_ASSERT_EQUAL(5L, rows(dir + "/c.db"));
    {
      WriteLock lock(dir + "/c.db");
      try {
        write_images(catalog, "http://site/blocked/", 1);
        CPPUNIT_FAIL("a sync write was acknowledged although standby c could not apply it");
      } catch (const Error& err) {
        CPPUNIT_ASSERT_EQUAL_MESSAGE(err.what(), KESTREL_ERR_TIMEOUT, err.code());
        CPPUNIT_ASSERT(err.retryable());
        CPPUNIT_ASSERT_MESSAGE(err.what(), std::string(err.what()).find("c at ") != std::string::npos);
      }
      CPPUNIT_ASSERT_EQUAL(6L, rows(dir + "/a.db"));  // committed on the primary, not acknowledged
      lock.release();
      // The writer's retry: acknowledged once c applied it too.
      write_images(catalog, "http://site/blocked/", 1);
    }
    CPPUNIT_ASSERT_EQUAL(6L, rows(dir + "/c.db"));
  }

  void a_change_from_a_stale_epoch_is_refused() {
    ReplicationEnv e;
    const std::string dir = e.dir();
    e.start_runtime(replicator_yaml(dir, "    mode: async\n    ship_interval: 50ms\n", {"a", "b"}));
    write_images(e.catalog("a"), "http://site/epoch/", 3, 1);
    CPPUNIT_ASSERT(eventually([&] { return rows(dir + "/b.db") == 3; }, 20000));
    // b has seen epoch 3 (a newer primary's); a still writes in epoch 1.
    kestrel::test::sqlite_query(dir + "/b.db", "UPDATE cluster_state SET epoch = 3");
    write_images(e.catalog("a"), "http://site/stale/", 1, 1);
    CPPUNIT_ASSERT_MESSAGE(e.log_text(), eventually([&] {
      for (const auto& s : e.replicator("repl").node_status())
        if (s.node == "b" && s.detail.find("of epoch 1: it has seen epoch 3") != std::string::npos) return true;
      return false;
    }, 20000));
    CPPUNIT_ASSERT_EQUAL(3L, rows(dir + "/b.db"));
  }

  void failover_from_a_lost_primary_and_its_changes_land_in_conflicts() {
    ReplicationEnv e;
    const std::string dir = e.dir();
    e.start_runtime(replicator_yaml(dir, "    mode: async\n    ship_interval: 50ms\n    busy_timeout: 100ms\n",
                                    {"a", "b"}) +
                    "  catalog:\n    type: ha-catalog\n    nodes: repl\n    stores: [a, b]\n    replicator: repl\n"
                    "    health_check_interval: 1s\n    retry_interval: 200ms\n    failure_threshold: 3\n"
                    "    failover_timeout: 20s\n");
    HaControl& ha = e.ha("catalog");
    CatalogClient catalog = e.catalog("catalog");
    write_images(catalog, "http://site/before/", 20);
    CPPUNIT_ASSERT(eventually([&] { return rows(dir + "/b.db") == 20; }, 20000));
    CPPUNIT_ASSERT_EQUAL(std::string("a"), ha.status().primary);
    // The HA catalog has seen the primary's position (it judges a standby's
    // lag from it once the primary is gone).
    CPPUNIT_ASSERT(eventually([&] {
      for (const auto& n : ha.status().nodes)
        if (n.name == "a" && n.healthy && n.lsn >= 20) return true;
      return false;
    }, 20000));

    // b cannot apply for a while; a takes 4 more writes (acknowledged in
    // async mode), then its file is lost before b got them.
    {
      WriteLock lock(dir + "/b.db");
      write_images(catalog, "http://site/only-a/", 4);
      for (const char* ext : {"", "-wal", "-shm"})
        if (Poco::File(dir + "/a.db" + ext).exists()) Poco::File(dir + "/a.db" + ext).renameTo(dir + "/lost-a.db" + ext);
      // A batch the shipper read before the rename may still be waiting on
      // b's lock; it would land once the lock goes (legitimately: a shipped
      // change). Hold the lock until the shipper has seen a's file gone, so
      // that none of the 4 reached b (CI saw 3 of them land).
      const bool shipper_saw_loss = eventually([&] {
        for (const auto& s : e.replicator("repl").node_status())
          if (s.node == "b" && s.detail.find("is gone") != std::string::npos) return true;
        return false;
      }, 20000);
      CPPUNIT_ASSERT_MESSAGE(e.log_text(), shipper_saw_loss);
    }
    const bool failed_over = eventually([&] { return ha.status().primary == "b"; }, 30000);
    CPPUNIT_ASSERT_MESSAGE(e.status_json("catalog"), failed_over);
    CPPUNIT_ASSERT_EQUAL(uint64_t{2}, ha.status().epoch);
    write_images(catalog, "http://site/after/", 5);
    CPPUNIT_ASSERT_EQUAL(25L, rows(dir + "/b.db"));

    // a comes back: fenced, its 4 changes kept in b's conflicts, rebuilt as a copy of b.
    for (const char* ext : {"", "-wal", "-shm"})
      if (Poco::File(dir + "/lost-a.db" + ext).exists()) Poco::File(dir + "/lost-a.db" + ext).renameTo(dir + "/a.db" + ext);
    CPPUNIT_ASSERT_MESSAGE(e.log_text(), eventually([&] { return rows(dir + "/b.db", "conflicts") == 4; }, 60000));
    CPPUNIT_ASSERT_EQUAL(std::string("4"),
                         sqlite_scalar(dir + "/b.db", "SELECT COUNT(*) FROM conflicts WHERE node = 'a' AND epoch = 1 "
                                                      "AND row_image LIKE '%only-a%'"));
    const std::string listed = ha.conflicts(10);  // what GET /api/conflicts and kestrelctl conflicts show
    CPPUNIT_ASSERT_MESSAGE(listed, listed.find("\"node\":\"a\"") != std::string::npos &&
                                       listed.find("only-a") != std::string::npos &&
                                       listed.find("\"epoch\":1") != std::string::npos);
    CPPUNIT_ASSERT_MESSAGE(e.log_text(), eventually([&] {
      return sqlite_scalar(dir + "/a.db", "SELECT role FROM replication_state") == "standby" &&
             rows(dir + "/a.db") == 25;
    }, 60000));
    write_images(catalog, "http://site/later/", 2);
    CPPUNIT_ASSERT(eventually([&] { return rows(dir + "/a.db") == 27; }, 20000));
    const std::vector<FailoverEvent> h = ha.history(5);
    CPPUNIT_ASSERT(!h.empty() && h[0].automatic && h[0].succeeded && h[0].to_node == "b");
    const std::string report = e.replicator("repl").check_consistency("a");
    CPPUNIT_ASSERT_MESSAGE(report, report.find("\"consistent\":true") != std::string::npos);
  }

  // A standby that cannot apply while the primary's log passes
  // max_log_entries is marked for rebuild (the log is truncated without
  // it, never held for it); once it can apply again it is rebuilt as a copy
  // and then streams.
  void a_standby_past_max_log_entries_is_rebuilt_and_the_log_truncated() {
    ReplicationEnv e;
    const std::string dir = e.dir();
    e.start_runtime(replicator_yaml(dir, "    mode: async\n    ship_interval: 50ms\n    busy_timeout: 100ms\n"
                                         "    max_log_entries: 20\n"));
    write_images(e.catalog("a"), "http://site/early/", 5, 1);
    for (const char* n : {"b", "c"})
      CPPUNIT_ASSERT(eventually([&] { return rows(dir + "/" + n + ".db") == 5; }, 20000));
    {
      WriteLock lock(dir + "/c.db");
      write_images(e.catalog("a"), "http://site/behind/", 40, 1);
      CPPUNIT_ASSERT_MESSAGE(e.log_text(), eventually([&] {
        return e.log_text().find("standby c is") != std::string::npos &&
               e.log_text().find("marked for rebuild") != std::string::npos;
      }, 20000));
      // b applied everything, so the log is truncated past what c lacks.
      CPPUNIT_ASSERT_MESSAGE(e.log_text(), eventually([&] { return rows(dir + "/a.db", "change_log") < 20; }, 20000));
      CPPUNIT_ASSERT_EQUAL(5L, rows(dir + "/c.db"));
    }
    CPPUNIT_ASSERT_MESSAGE(e.log_text(), eventually([&] { return rows(dir + "/c.db") == 45; }, 30000));
    CPPUNIT_ASSERT_MESSAGE(e.log_text(), e.log_text().find("standby c rebuilt as a copy of a") != std::string::npos);
    write_images(e.catalog("a"), "http://site/after/", 3, 1);
    CPPUNIT_ASSERT(eventually([&] { return rows(dir + "/c.db") == 48; }, 20000));
    const std::string report = e.replicator("repl").check_consistency("c");
    CPPUNIT_ASSERT_MESSAGE(report, report.find("\"consistent\":true") != std::string::npos);
  }

  // Rows changed, removed and added on a standby behind Kestrel's back: the
  // consistency check finds the id ranges; force-sync rewrites only those,
  // and the standby streams on.
  void force_sync_repairs_only_the_ranges_that_differ() {
    ReplicationEnv e;
    const std::string dir = e.dir();
    e.start_runtime(replicator_yaml(dir, "    mode: async\n    ship_interval: 50ms\n    range_size: 10\n", {"a", "b"}));
    write_images(e.catalog("a"), "http://site/fs/", 30, 1);
    CPPUNIT_ASSERT(eventually([&] { return rows(dir + "/b.db") == 30; }, 20000));
    {
      // As an operator's sqlite3 would, past the standby's guard.
      using Poco::Data::Keywords::now;
      Poco::Data::Session s("SQLite", dir + "/b.db");
      s << "BEGIN IMMEDIATE", now;
      s << "UPDATE replication_state SET role = 'applying'", now;
      s << "UPDATE images SET width = 1, height = 1 WHERE id = 5", now;  // range 1-10
      s << "DELETE FROM images WHERE id = 25", now;                         // range 21-30
      s << "CREATE TEMP TABLE extra AS SELECT * FROM images WHERE id = 3", now;
      s << "UPDATE extra SET id = 995, url = url || '#extra'", now;         // range 991-1000
      s << "INSERT INTO images SELECT * FROM extra", now;
      s << "UPDATE replication_state SET role = 'standby'", now;
      s << "COMMIT", now;
    }
    kestrel::ReplicatorClient r = e.replicator("repl");
    const std::string before = r.check_consistency("b");
    CPPUNIT_ASSERT_MESSAGE(before, before.find("\"consistent\":false") != std::string::npos);
    const std::string report = r.force_sync("b");
    for (const char* needle : {"\"ranges_repaired\":3", "\"rows_written\":20", "\"rows_deleted\":1",
                               "\"consistent\":true", "\"from_id\":991"})
      CPPUNIT_ASSERT_MESSAGE(report + " lacks " + needle, report.find(needle) != std::string::npos);
    CPPUNIT_ASSERT_EQUAL(30L, rows(dir + "/b.db"));
    CPPUNIT_ASSERT_EQUAL(sqlite_scalar(dir + "/a.db", "SELECT width || 'x' || height FROM images WHERE id = 5"),
                         sqlite_scalar(dir + "/b.db", "SELECT width || 'x' || height FROM images WHERE id = 5"));
    const std::string again = r.force_sync("b");
    CPPUNIT_ASSERT_MESSAGE(again, again.find("nothing repaired") != std::string::npos);
    write_images(e.catalog("a"), "http://site/fs-after/", 2, 1);
    CPPUNIT_ASSERT(eventually([&] { return rows(dir + "/b.db") == 32; }, 20000));
    // The primary is not a standby to repair.
    try {
      r.force_sync("a");
      CPPUNIT_FAIL("force-sync of the primary was accepted");
    } catch (const Error& err) {
      CPPUNIT_ASSERT_EQUAL_MESSAGE(err.what(), KESTREL_ERR_INVALID, err.code());
    }
  }

  // Bad configuration is refused at create, naming the option and the node.
  void bad_options_are_named() {
    ReplicationEnv e;
    const std::string dir = e.dir();
    auto expect = [&](const std::string& yaml, const std::string& needle) {
      const std::string errors = e.create_errors(yaml);
      CPPUNIT_ASSERT_MESSAGE(yaml + "\n---\n" + errors, errors.find(needle) != std::string::npos);
    };
    expect(replicator_yaml(dir, "    mode: eventually\n", {"a", "b"}), "option mode: \"eventually\" is not async");
    expect(replicator_yaml(dir, "    sync_fallback: maybe\n", {"a", "b"}), "option sync_fallback");
    expect("components:\n  repl:\n    type: replicator-changelog\n    nodes:\n      - name: a\n",
           "give one of path (its SQLite catalog file on this machine), url");
    expect("components:\n  repl:\n    type: replicator-changelog\n    nodes:\n      - {name: a, path: " + dir +
               "/a.db}\n      - {name: b, url: 'ftp://127.0.0.1:1'}\n",
           "node b: url 'ftp://127.0.0.1:1' is not http://host:port");
    expect("components:\n  repl:\n    type: replicator-changelog\n    nodes:\n      - {name: b, url: "
           "'http://127.0.0.1:1'}\n",
           "every node has a url");
    expect(replicator_yaml(dir, "", {"a", "b"}) + "  x:\n    type: store-sqlite\n    nodes: repl\n",
           "option node: no node named 'x'");
    expect("components:\n  repl:\n    type: replicator-changelog\n    nodes:\n" + node_item("a", 0, dir + "/a.db") +
               "  a:\n    type: store-sqlite\n    nodes: repl\n    path: other.db\n",
           "leave path out here");
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ChangelogTest);
