// The ha-catalog with a coordinator and the postmaster watch, against real
// PostgreSQL (issue 9 items 2 and 7): servers a (primary) and b (standby)
// and a coordinator-local shared by two runtimes on one host-state.db (two
// kestreld processes started by mistake on one data dir).
//   - Without the lease the daemon routes writes but never fails over: a
//     manual failover is refused naming the reason, and so is the automatic
//     one when the primary dies (the status says why).
//   - Once the other holder lets go, the next check takes the lease; a
//     SIGKILL of the primary's postmaster is then failed over although no
//     check was due for a minute: the watch saw the process exit, and the
//     failover's reason says so.
//   - Two daemons with the very same config (one node name): one holds the
//     lease, the other follows it (one failover, its router on the new
//     primary in the new epoch).
//   - A failover interrupted between its epoch claim and the promote (the
//     state a crash there leaves in the coordinator) is not mistaken for a
//     done one after a restart: the standby is not taken for the primary,
//     and the failover runs again in the next epoch.
#include <cppunit/extensions/HelperMacros.h>

#include <csignal>
#include <fstream>

#include "ha/ha_control.h"
#include "replication_env.h"
#include "runtime/component_runtime.h"

using kestrel::CatalogClient;
using kestrel::CoordinatorClient;
using kestrel::Error;
using kestrel::host::ha::FailoverEvent;
using kestrel::host::ha::HaControl;
using kestrel::test::eventually;
using kestrel::test::ImageOp;
using kestrel::test::PgCluster;
using kestrel::test::ReplicationEnv;

namespace {

std::string store_yaml(const std::string& name) {
  return "  " + name + ":\n    type: store-postgres\n    nodes: catalog\n    node: " + name +
         "\n    conninfo: \"user=kestrel password=kestrel connect_timeout=5\"\n    pool_size: 2\n";
}

uint64_t write_image(CatalogClient catalog, const std::string& url) {
  ImageOp op(url);
  return catalog.write(0, &op.op_, 1);
}

long postmaster_pid(PgCluster& c) {
  std::ifstream pid_file(c.data_dir() + "/postmaster.pid");
  long pid = 0;
  pid_file >> pid;
  return pid;
}

const char* const kReplOptions =
    "    replication_password: \"s3cret-repl\"\n    poll_interval: 1s\n    catch_up_timeout: 30s\n"
    "    connect_timeout: 2s\n    bootstrap: manual\n    mode: async\n";

// a primary, b its standby (bootstrapped by a replicator-only runtime).
std::vector<std::string> two_nodes(ReplicationEnv& e) {
  e.add_initialized("a");
  e.add_empty("b");
  const std::vector<std::string> nodes = {e.node_item("a", 0), e.node_item("b", 1)};
  e.start_runtime("components:\n  repl:\n    type: replicator-pg\n" + ReplicationEnv::replicator_nodes(nodes) +
                  kReplOptions);
  e.replicator("repl").bootstrap("b");
  return nodes;
}

// A whole daemon's components: replicator, the stores, coordinator-local
// `coord` and the ha-catalog `catalog` on it.
std::string ha_yaml(const std::vector<std::string>& nodes, const std::string& interval) {
  return "components:\n  repl:\n    type: replicator-pg\n    nodes: catalog\n    conninfo: \"" +
         ReplicationEnv::superuser_conninfo() + "\"\n" + kReplOptions + store_yaml("a") + store_yaml("b") +
         "  coord:\n    type: coordinator-local\n  catalog:\n    type: ha-catalog\n" +
         ReplicationEnv::nodes_option(nodes) + "    stores: [a, b]\n    replicator: repl\n    coordinator: coord\n"
         "    health_check_interval: " + interval + "\n    retry_interval: 200ms\n    failure_threshold: 3\n"
         "    failover_timeout: 30s\n";
}

bool standby_caught_up(HaControl& ha, const std::string& name) {
  for (const auto& n : ha.status().nodes)
    if (n.name == name && n.healthy && n.role == "standby" && n.lag_bytes == 0) return true;
  return false;
}

}  // namespace

class HaCoordinatorTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(HaCoordinatorTest);
  CPPUNIT_TEST(only_the_lease_holder_fails_over_and_a_dead_postmaster_is_seen_at_once);
  CPPUNIT_TEST(a_second_daemon_with_the_same_config_follows_the_lease_holder);
  CPPUNIT_TEST(a_failover_interrupted_before_its_promote_runs_again_after_a_restart);
  CPPUNIT_TEST_SUITE_END();

 public:
  void only_the_lease_holder_fails_over_and_a_dead_postmaster_is_seen_at_once() {
    ReplicationEnv e;
    const std::vector<std::string> nodes = two_nodes(e);
    // Another process on this host-state.db holds the lease (10 minutes).
    const std::string coord_yaml = "  coord:\n    type: coordinator-local\n";
    std::unique_ptr<kestrel::host::ComponentRuntime> other = e.start_second_runtime("components:\n" + coord_yaml);
    CoordinatorClient other_coord(other->interface_of("coord", KESTREL_IFACE_COORDINATOR_V1));
    CPPUNIT_ASSERT(other_coord.acquire("other-daemon", 600000).is_leader);

    e.start_runtime(ha_yaml(nodes, "60s"));
    HaControl& ha = e.ha("catalog");
    CPPUNIT_ASSERT_EQUAL(std::string("a"), ha.status().primary);
    CPPUNIT_ASSERT_EQUAL(std::string(""), ha.status().leader);
    CPPUNIT_ASSERT_MESSAGE(ha.status().lease_note,
                           ha.status().lease_note.find("another daemon holds") != std::string::npos);
    // It routes writes all the same.
    write_image(e.catalog("catalog"), "http://site/coord/1");
    CPPUNIT_ASSERT(eventually([&] { return standby_caught_up(ha, "b"); }, 30000));
    try {
      ha.failover("b", "test", false);
      CPPUNIT_FAIL("a failover ran without the coordinator's lease");
    } catch (const Error& err) {
      CPPUNIT_ASSERT_EQUAL(KESTREL_ERR_BUSY, err.code());
      CPPUNIT_ASSERT_MESSAGE(err.what(), std::string(err.what()).find("another daemon holds") != std::string::npos);
    }
    CPPUNIT_ASSERT_EQUAL(uint64_t{1}, ha.status().epoch);

    // The other daemon lets go; the primary's postmaster is killed with no
    // check due for a minute. Only the watch can start the checks that
    // confirm it down, and the lease is free now.
    other_coord.release("other-daemon");
    const long pid = postmaster_pid(e.cluster("a"));
    CPPUNIT_ASSERT_MESSAGE("no postmaster.pid in " + e.cluster("a").data_dir(), pid > 0);
    CPPUNIT_ASSERT_EQUAL(0, ::kill(static_cast<pid_t>(pid), SIGKILL));
    CPPUNIT_ASSERT_MESSAGE(e.log_text(), eventually([&] { return ha.status().primary == "b"; }, 30000));
    CPPUNIT_ASSERT_EQUAL(uint64_t{2}, ha.status().epoch);
    CPPUNIT_ASSERT_EQUAL(std::string("n1"), ha.status().leader);
    const std::vector<FailoverEvent> h = ha.history(1);
    CPPUNIT_ASSERT_EQUAL(size_t{1}, h.size());
    CPPUNIT_ASSERT(h[0].automatic && h[0].succeeded);
    const std::string exited = "its postmaster (PID " + std::to_string(pid) + ") exited";
    CPPUNIT_ASSERT_MESSAGE(h[0].reason, h[0].reason.find(exited) != std::string::npos);
    // The epoch is in the coordinator too, where another daemon would read it.
    uint64_t version = 0;
    const std::string state = other_coord.get_state(&version);
    CPPUNIT_ASSERT_MESSAGE(state, state.find("\"epoch\":2") != std::string::npos &&
                                      state.find("\"primary\":\"b\"") != std::string::npos);
    write_image(e.catalog("catalog"), "http://site/coord/2");
    CPPUNIT_ASSERT(ReplicationEnv::count_rows(e.cluster("b"), "images") >= 2);
  }

  void a_second_daemon_with_the_same_config_follows_the_lease_holder() {
    ReplicationEnv e;
    const std::vector<std::string> nodes = two_nodes(e);
    e.start_runtime(ha_yaml(nodes, "5s"));
    HaControl& one = e.ha("catalog");
    CPPUNIT_ASSERT_EQUAL(std::string("n1"), one.status().leader);
    // The same config again, same node name, same data dir.
    std::unique_ptr<kestrel::host::ComponentRuntime> second = e.start_second_runtime(ha_yaml(nodes, "5s"), "n1");
    HaControl& two = ReplicationEnv::ha_of(*second, "catalog");
    CPPUNIT_ASSERT_EQUAL(std::string(""), two.status().leader);
    CPPUNIT_ASSERT_MESSAGE(two.status().lease_note,
                           two.status().lease_note.find("another daemon holds") != std::string::npos);
    CPPUNIT_ASSERT_EQUAL(std::string("a"), two.status().primary);
    CatalogClient second_catalog(second->interface_of("catalog", KESTREL_IFACE_CATALOG_V1));
    write_image(second_catalog, "http://site/same/1");
    CPPUNIT_ASSERT(eventually([&] { return standby_caught_up(one, "b"); }, 30000));

    const long pid = postmaster_pid(e.cluster("a"));
    CPPUNIT_ASSERT_EQUAL(0, ::kill(static_cast<pid_t>(pid), SIGKILL));
    CPPUNIT_ASSERT_MESSAGE(e.log_text(), eventually([&] { return one.status().primary == "b"; }, 30000));
    CPPUNIT_ASSERT_EQUAL(uint64_t{2}, one.status().epoch);
    // The second daemon routes to b in epoch 2, as the leader stored it.
    write_image(second_catalog, "http://site/same/2");
    CPPUNIT_ASSERT_MESSAGE(e.log_text(), eventually([&] {
      return two.status().primary == "b" && two.status().epoch == 2;
    }, 30000));
    CPPUNIT_ASSERT(ReplicationEnv::count_rows(e.cluster("b"), "images") >= 2);
    // One failover, by the lease holder only.
    CPPUNIT_ASSERT_EQUAL(1L, ReplicationEnv::count_rows(e.cluster("b"), "failover_events"));
    CPPUNIT_ASSERT_EQUAL(std::string(""), two.status().leader);
    second.reset();
  }

  void a_failover_interrupted_before_its_promote_runs_again_after_a_restart() {
    ReplicationEnv e;
    const std::vector<std::string> nodes = two_nodes(e);
    std::unique_ptr<kestrel::host::ComponentRuntime> other =
        e.start_second_runtime("components:\n  coord:\n    type: coordinator-local\n");
    CoordinatorClient coord(other->interface_of("coord", KESTREL_IFACE_COORDINATOR_V1));
    uint64_t version = 0;
    {
      // A first run: the leader stores the primary's position (as Patroni
      // its leader optime) once b has caught up.
      e.start_runtime(ha_yaml(nodes, "1s"));
      HaControl& first = e.ha("catalog");
      write_image(e.catalog("catalog"), "http://site/interrupted/0");
      CPPUNIT_ASSERT(eventually([&] { return standby_caught_up(first, "b"); }, 30000));
      CPPUNIT_ASSERT_MESSAGE(coord.get_state(&version), eventually([&] {
        return coord.get_state(&version).find("primary_lsn") != std::string::npos;
      }, 30000));
    }
    // The daemon dies between claiming epoch 2 for b and promoting b (what
    // that leaves in the coordinator is written here); then a dies too.
    e.start_runtime("components:\n  repl:\n    type: replicator-pg\n" + ReplicationEnv::replicator_nodes(nodes) +
                    kReplOptions);
    std::string claimed = coord.get_state(&version);
    const size_t at = claimed.find("\"epoch\":1");
    CPPUNIT_ASSERT_MESSAGE(claimed, at != std::string::npos);
    claimed.replace(at, 9, "\"epoch\":2,\"promoting\":\"b\"");
    coord.compare_and_set(version, claimed);
    const long pid = postmaster_pid(e.cluster("a"));
    CPPUNIT_ASSERT_EQUAL(0, ::kill(static_cast<pid_t>(pid), SIGKILL));

    e.start_runtime(ha_yaml(nodes, "5s"));
    HaControl& ha = e.ha("catalog");
    CPPUNIT_ASSERT_MESSAGE(e.log_text(), e.log_count("a failover from a to b at epoch 2 was interrupted") == 1);
    // b (still a standby) is not taken for the primary: a is, confirmed
    // down, and failed over in the epoch after the claimed one.
    CPPUNIT_ASSERT_MESSAGE(e.log_text(), eventually([&] { return ha.status().primary == "b"; }, 30000));
    CPPUNIT_ASSERT_EQUAL(uint64_t{3}, ha.status().epoch);
    const std::vector<FailoverEvent> h = ha.history(1);
    CPPUNIT_ASSERT_EQUAL(size_t{1}, h.size());
    CPPUNIT_ASSERT(h[0].automatic && h[0].succeeded);
    CPPUNIT_ASSERT_EQUAL(std::string("a"), h[0].from_node);
    CPPUNIT_ASSERT_EQUAL(uint64_t{2}, h[0].epoch_before);
    const std::string state = coord.get_state(&version);
    CPPUNIT_ASSERT_MESSAGE(state, state.find("\"epoch\":3") != std::string::npos &&
                                      state.find("\"primary\":\"b\"") != std::string::npos &&
                                      state.find("promoting") == std::string::npos);
    write_image(e.catalog("catalog"), "http://site/interrupted/1");
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(HaCoordinatorTest);
