// One daemon per server over PostgreSQL (issue 11 item 2): three daemons
// (component runtimes named a, b and c, as the kestreld of three servers)
// with one config file, each using the data_dir of its own PostgreSQL node
// only (the others reached by address), agreeing through a real etcd.
//   - b's daemon starts first and leads; each replicator copies its own
//     empty node from a (bootstrap: auto).
//   - a's PostgreSQL crashes (stop -m immediate): the leader fails over to b
//     at once (the connection is refused: a is down, not cut off) and cannot
//     rejoin a (not on its machine); a's own daemon, following the new
//     primary, rewinds a and starts it as b's standby; c's own daemon sees
//     c not streaming from b (it followed a) and points it at b.
//   - Writes through any daemon land on b and reach a and c.
#include <cppunit/extensions/HelperMacros.h>

#include "etcd_server.h"
#include "ha/ha_control.h"
#include "replication_env.h"
#include "runtime/component_runtime.h"

using kestrel::CatalogClient;
using kestrel::host::ha::HaControl;
using kestrel::test::EtcdServer;
using kestrel::test::eventually;
using kestrel::test::ImageOp;
using kestrel::test::PgCluster;
using kestrel::test::ReplicationEnv;

namespace {

// The images rows of `c`, -1 while it does not answer (being copied, restarted).
long rows(PgCluster& c) {
  try {
    return ReplicationEnv::count_rows(c);
  } catch (const std::exception&) {
    return -1;
  }
}

void write_image(CatalogClient catalog, const std::string& url) {
  ImageOp op(url);
  catalog.write(0, &op.op_, 1);
}

// The cluster's config, one file for every server (as config/cluster-etcd.yaml):
// each node with its data_dir; a daemon whose node.name names a node uses
// only that node's data_dir, the other node is reached by address.
std::string cluster_yaml(ReplicationEnv& e, const std::string& etcd_url) {
  std::string y = "components:\n";
  for (const char* n : {"a", "b", "c"})
    y += std::string("  ") + n + ":\n    type: store-postgres\n    nodes: catalog\n    node: " + n +
         "\n    conninfo: \"user=kestrel password=kestrel connect_timeout=5\"\n    pool_size: 2\n";
  y += "  repl:\n    type: replicator-pg\n    nodes: catalog\n    conninfo: \"" + ReplicationEnv::superuser_conninfo() +
       "\"\n    replication_password: \"s3cret-repl\"\n    poll_interval: 1s\n    connect_timeout: 2s\n"
       "    bootstrap: auto\n    mode: async\n"
       "  coord:\n    type: coordinator-etcd\n    endpoints: [\"" + etcd_url + "\"]\n"
       "    prefix: /kestrel/ha-etcd-postgres-test/\n"
       "  catalog:\n    type: ha-catalog\n" +
       ReplicationEnv::nodes_option({e.node_item("a", 0), e.node_item("b", 1), e.node_item("c", 2)}) +
       "    stores: [a, b, c]\n    replicator: repl\n    coordinator: coord\n"
       "    health_check_interval: 1s\n    retry_interval: 200ms\n    failover_timeout: 20s\n";
  return y;
}

}  // namespace

class HaEtcdPostgresTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(HaEtcdPostgresTest);
  CPPUNIT_TEST(each_daemon_rejoins_its_own_former_primary);
  CPPUNIT_TEST_SUITE_END();

 public:
  void each_daemon_rejoins_its_own_former_primary() {
    EtcdServer etcd;
    etcd.start();
    ReplicationEnv e;
    PgCluster& a = e.add_initialized("a");  // an empty database: the stores migrate it
    PgCluster& b = e.add_empty("b");
    PgCluster& c = e.add_empty("c");
    e.start_runtime(cluster_yaml(e, etcd.client_url()), "b");
    HaControl& hb = e.ha("catalog");
    CPPUNIT_ASSERT_MESSAGE(e.log_text(), eventually([&] { return !hb.status().leader.empty(); }, 30000));
    std::unique_ptr<kestrel::host::ComponentRuntime> ra =
        e.start_second_runtime(cluster_yaml(e, etcd.client_url()), "a");
    HaControl& ha = ReplicationEnv::ha_of(*ra, "catalog");
    CPPUNIT_ASSERT_EQUAL(std::string(""), ha.status().leader);
    std::unique_ptr<kestrel::host::ComponentRuntime> rc = e.start_second_runtime(cluster_yaml(e, etcd.client_url()), "c");
    CatalogClient ca(ra->interface_of("catalog", KESTREL_IFACE_CATALOG_V1));
    CatalogClient cb = e.catalog("catalog");
    write_image(ca, "http://site/pg-etcd/1");
    write_image(cb, "http://site/pg-etcd/2");
    CPPUNIT_ASSERT_MESSAGE(e.log_text(), eventually([&] {
      return rows(b) == 2 && rows(c) == 2;
    }, 90000));

    a.stop("immediate");  // a crash: no shutdown checkpoint
    CPPUNIT_ASSERT_MESSAGE(e.log_text(), eventually([&] {
      return hb.status().primary == "b" && ha.status().primary == "b";
    }, 30000));
    CPPUNIT_ASSERT_EQUAL(uint64_t{2}, hb.status().epoch);
    write_image(ca, "http://site/pg-etcd/3");
    write_image(cb, "http://site/pg-etcd/4");
    CPPUNIT_ASSERT_EQUAL(4L, ReplicationEnv::count_rows(b));

    // a's own daemon rewound and restarted it as b's standby.
    CPPUNIT_ASSERT_MESSAGE(e.log_text(), eventually([&] {
      if (!a.running()) return false;
      for (const auto& n : hb.status().nodes)
        if (n.name == "a" && n.healthy && n.role == "standby") return rows(a) == 4;
      return false;
    }, 120000));
    // c's own daemon pointed it at b: b lists it streaming, and it has b's rows.
    CPPUNIT_ASSERT_MESSAGE(e.log_text(), eventually([&] {
      for (const auto& n : hb.status().nodes)
        if (n.name == "c" && n.healthy && !n.sync_state.empty()) return rows(c) == 4;
      return false;
    }, 120000));
    rc.reset();
    ra.reset();
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(HaEtcdPostgresTest);
