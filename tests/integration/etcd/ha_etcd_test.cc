// The HA catalog over coordinator-etcd (issue 11): two daemons (two
// component runtimes, the same config and node name, as two kestreld
// processes would be) agree through a real etcd on one leader. The catalog
// is SQLite kept in step by the change log, so no database server is needed.
//   - Exactly one daemon holds the lease; the other says another holds it
//     and routes writes to the primary the state in etcd names.
//   - The primary's file is lost: only the lease holder fails over (one
//     failover_events row), the new epoch and primary are stored in etcd,
//     and the other daemon follows them.
//   - The lease holder stops (releasing its lease): the other takes it.
//   - etcd dies (self-fencing): within a lease TTL both daemons stop routing
//     writes (the follower too: a leader it cannot hear may have failed
//     over), and the primary on their machine is fenced, so that it
//     acknowledges no write from anyone. etcd returns: the leader fails the
//     fenced primary over to b, writes go on, a is rejoined as b's standby.
//   - The same with b nofailover: no standby may take over, so the leader
//     promotes a again at a new epoch instead of leaving no primary.
#include <cppunit/extensions/HelperMacros.h>

#include <Poco/Data/SQLite/Connector.h>
#include <Poco/File.h>

#include "etcd_server.h"
#include "ha/ha_control.h"
#include "kestrel/test/sqlite_query.h"
#include "replication_env.h"
#include "runtime/component_runtime.h"

using kestrel::CatalogClient;
using kestrel::host::ha::HaControl;
using kestrel::test::EtcdServer;
using kestrel::test::eventually;
using kestrel::test::ImageOp;
using kestrel::test::ReplicationEnv;
using kestrel::test::sqlite_scalar;

namespace {

void write_image(CatalogClient catalog, const std::string& url) {
  ImageOp op(url);
  catalog.write(0, &op.op_, 1);
}

long rows(const std::string& file, const std::string& table = "images") {
  return std::stol(sqlite_scalar(file, "SELECT COUNT(*) FROM " + table));
}

// The replication_state role of node `node`'s file in `dir`.
std::string role_of(const std::string& dir, const char* node) {
  return sqlite_scalar(dir + "/" + node + ".db", "SELECT role FROM replication_state");
}

}  // namespace

class HaEtcdTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(HaEtcdTest);
  CPPUNIT_TEST(two_daemons_agree_through_etcd_on_one_leader_and_one_failover);
  CPPUNIT_TEST(daemons_cut_off_from_etcd_stop_writes_and_fence_their_primary);
  CPPUNIT_TEST(a_self_fenced_primary_with_no_standby_to_take_over_is_promoted_again);
  CPPUNIT_TEST_SUITE_END();

 public:
  void setUp() override { Poco::Data::SQLite::Connector::registerConnector(); }

  static std::string yaml(const std::string& dir, const std::string& etcd_url,
                          const std::string& failover_timeout = "20s", const std::string& b_tags = "") {
    std::string y = "components:\n";
    for (const char* n : {"a", "b"}) y += std::string("  ") + n + ":\n    type: store-sqlite\n    nodes: catalog\n";
    y += "  repl:\n    type: replicator-changelog\n    nodes: catalog\n    mode: async\n    ship_interval: 50ms\n"
         "    busy_timeout: 100ms\n"
         "  coord:\n    type: coordinator-etcd\n    endpoints: [\"" + etcd_url + "\"]\n    prefix: /kestrel/ha-etcd-test/\n"
         "  catalog:\n    type: ha-catalog\n    nodes:\n"
         "      - {name: a, priority: 0, path: " + dir + "/a.db}\n"
         "      - {name: b, priority: 1, path: " + dir + "/b.db" + b_tags + "}\n"
         "    stores: [a, b]\n    replicator: repl\n    coordinator: coord\n"
         "    health_check_interval: 1s\n    retry_interval: 200ms\n    failover_timeout: " + failover_timeout + "\n";
    return y;
  }

  void two_daemons_agree_through_etcd_on_one_leader_and_one_failover() {
    EtcdServer etcd;
    etcd.start();
    ReplicationEnv e;
    const std::string dir = e.dir();
    e.start_runtime(yaml(dir, etcd.client_url()));
    HaControl& one = e.ha("catalog");
    CPPUNIT_ASSERT_MESSAGE(e.log_text(), !one.status().leader.empty());
    std::unique_ptr<kestrel::host::ComponentRuntime> second = e.start_second_runtime(yaml(dir, etcd.client_url()), "n1");
    HaControl& two = ReplicationEnv::ha_of(*second, "catalog");
    CPPUNIT_ASSERT_EQUAL(std::string(""), two.status().leader);
    CPPUNIT_ASSERT_MESSAGE(two.status().lease_note,
                           two.status().lease_note.find("another daemon holds") != std::string::npos);
    CPPUNIT_ASSERT_EQUAL(std::string("a"), two.status().primary);
    CatalogClient second_catalog(second->interface_of("catalog", KESTREL_IFACE_CATALOG_V1));
    write_image(second_catalog, "http://site/etcd/1");
    write_image(e.catalog("catalog"), "http://site/etcd/2");
    CPPUNIT_ASSERT(eventually([&] { return rows(dir + "/b.db") == 2; }, 20000));
    // The leader has seen the primary's position (it judges b's lag by it).
    CPPUNIT_ASSERT(eventually([&] {
      for (const auto& n : one.status().nodes)
        if (n.name == "a" && n.healthy && n.lsn >= 2) return true;
      return false;
    }, 20000));

    // a's file is lost (its disk gone).
    for (const char* ext : {"", "-wal", "-shm"})
      if (Poco::File(dir + "/a.db" + ext).exists()) Poco::File(dir + "/a.db" + ext).remove();
    CPPUNIT_ASSERT_MESSAGE(e.log_text(), eventually([&] { return one.status().primary == "b"; }, 30000));
    CPPUNIT_ASSERT_EQUAL(uint64_t{2}, one.status().epoch);
    // The other daemon follows what the leader stored in etcd.
    CPPUNIT_ASSERT_MESSAGE(e.log_text(), eventually([&] {
      return two.status().primary == "b" && two.status().epoch == 2;
    }, 30000));
    write_image(second_catalog, "http://site/etcd/3");
    CPPUNIT_ASSERT_EQUAL(3L, rows(dir + "/b.db"));
    CPPUNIT_ASSERT_EQUAL(1L, rows(dir + "/b.db", "failover_events"));  // by the lease holder only
    CPPUNIT_ASSERT_EQUAL(std::string(""), two.status().leader);

    // The lease holder stops and gives its lease up: the other takes it.
    e.start_runtime("components: {}\n");
    CPPUNIT_ASSERT_MESSAGE(two.status().lease_note, eventually([&] { return !two.status().leader.empty(); }, 30000));
    CPPUNIT_ASSERT_EQUAL(std::string("b"), two.status().primary);
    write_image(second_catalog, "http://site/etcd/4");
    CPPUNIT_ASSERT_EQUAL(4L, rows(dir + "/b.db"));
    CPPUNIT_ASSERT_EQUAL(1L, rows(dir + "/b.db", "failover_events"));
    second.reset();
  }

  void daemons_cut_off_from_etcd_stop_writes_and_fence_their_primary() {
    EtcdServer etcd;
    etcd.start();
    ReplicationEnv e;
    const std::string dir = e.dir();
    // Lease TTL: 3 x 1 s + 2 s = 5 s. A write is retried for 3 s before it fails.
    e.start_runtime(yaml(dir, etcd.client_url(), "3s"));
    HaControl& one = e.ha("catalog");
    std::unique_ptr<kestrel::host::ComponentRuntime> second =
        e.start_second_runtime(yaml(dir, etcd.client_url(), "3s"), "n1");
    HaControl& two = ReplicationEnv::ha_of(*second, "catalog");
    CatalogClient second_catalog(second->interface_of("catalog", KESTREL_IFACE_CATALOG_V1));
    write_image(second_catalog, "http://site/cut/1");
    write_image(e.catalog("catalog"), "http://site/cut/2");
    CPPUNIT_ASSERT(eventually([&] { return rows(dir + "/b.db") == 2; }, 20000));

    etcd.stop();
    auto role = [&](const char* node) { return role_of(dir, node); };
    CPPUNIT_ASSERT_MESSAGE(e.log_text(), eventually([&] { return role("a") == "fenced"; }, 20000));
    CPPUNIT_ASSERT_EQUAL(std::string("a"), one.status().primary);  // nobody could fail over
    for (CatalogClient c : {e.catalog("catalog"), second_catalog}) {
      try {
        write_image(c, "http://site/cut/refused");
        CPPUNIT_FAIL("a daemon cut off from etcd routed a write");
      } catch (const kestrel::Error& err) {
        CPPUNIT_ASSERT_EQUAL_MESSAGE(err.what(), KESTREL_ERR_UNAVAILABLE, err.code());
        CPPUNIT_ASSERT_MESSAGE(err.what(), err.retryable());
      }
    }
    CPPUNIT_ASSERT_EQUAL(2L, rows(dir + "/a.db"));

    etcd.start();
    CPPUNIT_ASSERT_MESSAGE(e.log_text(), eventually([&] {
      return one.status().primary == "b" && two.status().primary == "b";
    }, 30000));
    CPPUNIT_ASSERT_EQUAL(uint64_t{2}, one.status().epoch);
    write_image(second_catalog, "http://site/cut/3");
    write_image(e.catalog("catalog"), "http://site/cut/4");
    CPPUNIT_ASSERT_EQUAL(4L, rows(dir + "/b.db"));
    CPPUNIT_ASSERT_MESSAGE(e.log_text(), eventually([&] { return role("a") == "standby" && rows(dir + "/a.db") == 4; },
                                                    30000));
    second.reset();
  }

  void a_self_fenced_primary_with_no_standby_to_take_over_is_promoted_again() {
    EtcdServer etcd;
    etcd.start();
    ReplicationEnv e;
    const std::string dir = e.dir();
    e.start_runtime(yaml(dir, etcd.client_url(), "3s", ", nofailover: true"));
    HaControl& one = e.ha("catalog");
    write_image(e.catalog("catalog"), "http://site/again/1");
    CPPUNIT_ASSERT(eventually([&] { return rows(dir + "/b.db") == 1; }, 20000));
    etcd.stop();
    auto role = [&](const char* node) { return role_of(dir, node); };
    CPPUNIT_ASSERT_MESSAGE(e.log_text(), eventually([&] { return role("a") == "fenced"; }, 20000));
    etcd.start();
    CPPUNIT_ASSERT_MESSAGE(e.log_text(), eventually([&] { return role("a") == "primary"; }, 30000));
    CPPUNIT_ASSERT_EQUAL(std::string("a"), one.status().primary);
    CPPUNIT_ASSERT_EQUAL(uint64_t{2}, one.status().epoch);
    write_image(e.catalog("catalog"), "http://site/again/2");
    CPPUNIT_ASSERT_EQUAL(2L, rows(dir + "/a.db"));
    CPPUNIT_ASSERT(eventually([&] { return rows(dir + "/b.db") == 2; }, 20000));
    CPPUNIT_ASSERT_EQUAL(std::string("standby"), role("b"));
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(HaEtcdTest);
