// The ha-catalog against real PostgreSQL (issue 9): three servers a (primary,
// priority 0), b (1) and c (2) streaming in semi-sync mode, one store-postgres
// per node, replicator-pg and the built-in ha-catalog in one runtime, as
// kestreld runs them. A writer thread writes through the ha-catalog while the
// primary's postmaster is SIGKILLed: the best standby is promoted, the epoch
// grows by one, history records it, no acknowledged write is lost, and the old
// primary, restarted, is fenced and rejoins as a standby. Then a switchover
// (nothing lost, the pause recorded), auto_failover off (no failover), a
// manual failover, and the refusals (unknown node, the primary itself, a
// second failover while one runs is covered by the write gate's unit test).
#include <cppunit/extensions/HelperMacros.h>

#include <atomic>
#include <csignal>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include "api/ha_api.h"
#include "ha/ha_control.h"
#include "replication_env.h"

using kestrel::CatalogClient;
using kestrel::Error;
using kestrel::host::ha::ClusterView;
using kestrel::host::ha::FailoverEvent;
using kestrel::host::ha::HaControl;
using kestrel::host::ha::NodeView;
using kestrel::test::eventually;
using kestrel::test::PgCluster;
using kestrel::test::ImageOp;
using kestrel::test::ReplicationEnv;

namespace {

std::unique_ptr<ReplicationEnv>& shared_env() {
  static std::unique_ptr<ReplicationEnv> env;
  return env;
}

// The store on node `name`, reading the catalog's nodes list (the app role's
// credentials here; the address is the node's).
std::string store_yaml(const std::string& name) {
  return "  " + name + ":\n    type: store-postgres\n    nodes: catalog\n    node: " + name +
         "\n    conninfo: \"user=kestrel password=kestrel connect_timeout=5\"\n    pool_size: 4\n";
}

ReplicationEnv& env() {
  auto& e = shared_env();
  if (!e) {
    e = std::make_unique<ReplicationEnv>();
    e->add_initialized("a");  // the store on a creates the schema (migrations), as kestreld does
    e->add_empty("b");
    e->add_empty("c");
    const std::vector<std::string> nodes = {e->node_item("a", 0), e->node_item("b", 1), e->node_item("c", 2)};
    const std::string repl_options =
        "    replication_password: \"s3cret-repl\"\n    poll_interval: 1s\n"
        "    catch_up_timeout: 30s\n    connect_timeout: 2s\n    bootstrap: manual\n"
        "    mode: semi-sync\n";
    // The standbys are copied first, by the replicator alone (no catalog yet:
    // it holds the list itself); the stores on them start once they run.
    e->start_runtime("components:\n  repl:\n    type: replicator-pg\n" + ReplicationEnv::replicator_nodes(nodes) +
                     repl_options);
    e->replicator("repl").bootstrap("b");
    e->replicator("repl").bootstrap("c");
    // Then as kestreld runs them: the nodes written once, in the catalog's
    // list, read by the replicator and the stores (nodes: catalog).
    e->start_runtime("components:\n  repl:\n    type: replicator-pg\n    nodes: catalog\n    conninfo: \"" +
                     ReplicationEnv::superuser_conninfo() + "\"\n" + repl_options + store_yaml("a") +
                     store_yaml("b") + store_yaml("c") + "  catalog:\n    type: ha-catalog\n" +
                     ReplicationEnv::nodes_option(nodes) +
                     "    stores: [a, b, c]\n    replicator: repl\n"
                     "    health_check_interval: 1s\n    retry_interval: 200ms\n    failure_threshold: 3\n"
                     "    failover_timeout: 30s\n");
  }
  return *e;
}

// SIGKILL of the postmaster, as a crash of the server: no shutdown checkpoint.
void kill_postmaster(PgCluster& c) {
  std::ifstream pid_file(c.data_dir() + "/postmaster.pid");
  long pid = 0;
  pid_file >> pid;
  CPPUNIT_ASSERT_MESSAGE("no postmaster.pid in " + c.data_dir(), pid > 0);
  CPPUNIT_ASSERT_EQUAL(0, ::kill(static_cast<pid_t>(pid), SIGKILL));
  CPPUNIT_ASSERT_MESSAGE("the postmaster still answers", eventually([&] { return !c.running(); }, 20000));
}

// Writes one image per call through the ha-catalog on its own thread,
// keeping the URLs whose write was acknowledged.
class Writer {
 public:
  Writer(CatalogClient catalog, std::string prefix) : catalog_(catalog), prefix_(std::move(prefix)) {
    thread_ = std::thread([this] { run(); });
  }
  ~Writer() { stop(); }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  std::set<std::string> acknowledged() {
    std::lock_guard<std::mutex> lock(mu_);
    return acked_;
  }
  size_t count() {
    std::lock_guard<std::mutex> lock(mu_);
    return acked_.size();
  }
  std::string errors() {
    std::lock_guard<std::mutex> lock(mu_);
    return errors_;
  }

 private:
  void run() {
    for (int i = 0; !stop_; ++i) {
      ImageOp op(prefix_ + std::to_string(i));
      try {
        catalog_.write(0, &op.op_, 1);
        std::lock_guard<std::mutex> lock(mu_);
        acked_.insert(op.url_);
      } catch (const Error& e) {
        std::lock_guard<std::mutex> lock(mu_);
        errors_ += std::string(e.what()) + "\n";
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  CatalogClient catalog_;
  std::string prefix_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::set<std::string> acked_;
  std::string errors_;
  std::thread thread_;
};

std::set<std::string> urls_on(PgCluster& c, const std::string& prefix) {
  std::set<std::string> out;
  for (const auto& row : c.query("SELECT url FROM images WHERE url LIKE '" + prefix + "%'")) out.insert(row.at(0));
  return out;
}

const NodeView& view(const ClusterView& c, const std::string& name) {
  for (const NodeView& n : c.nodes)
    if (n.name == name) return n;
  CPPUNIT_FAIL("no node " + name + " in the status");
  static NodeView none;
  return none;
}

bool streams_from_primary(ReplicationEnv& e, const std::string& node) {
  for (const auto& s : e.replicator("repl").node_status())
    if (s.node == node) return s.role == KESTREL_ROLE_STANDBY && s.healthy && s.lag_bytes >= 0;
  return false;
}

std::string describe(const ClusterView& c) {
  std::string s = "epoch " + std::to_string(c.epoch) + " primary " + c.primary + ";";
  for (const NodeView& n : c.nodes)
    s += " " + n.name + "=" + n.role + (n.healthy ? "" : "(down: " + n.detail + ")");
  return s;
}

// GET `path` on the HA API over the env's runtime: the HTTP status.
int ha_get(ReplicationEnv& e, const std::string& path) {
  kestrel::host::HaApi api(e.runtime(), "", "n1");
  kestrel::host::ApiRequest r;
  r.method = "GET";
  r.path = path;
  return api.handle(r).status;
}

void expect_code(kestrel_result code, const std::function<void()>& fn, const std::string& needle) {
  try {
    fn();
  } catch (const Error& e) {
    CPPUNIT_ASSERT_EQUAL_MESSAGE(e.what(), static_cast<int>(code), static_cast<int>(e.code()));
    CPPUNIT_ASSERT_MESSAGE(e.what(), std::string(e.what()).find(needle) != std::string::npos);
    return;
  }
  CPPUNIT_FAIL("no error; expected one containing: " + needle);
}

}  // namespace

class HaCatalogTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(HaCatalogTest);
  CPPUNIT_TEST(routes_writes_to_the_primary_of_the_epoch);
  CPPUNIT_TEST(primary_crash_fails_over_without_losing_a_write);
  CPPUNIT_TEST(old_primary_restarted_is_fenced_and_rejoins);
  CPPUNIT_TEST(switchover_loses_nothing_and_records_the_pause);
  CPPUNIT_TEST(refusals_name_the_node);
  CPPUNIT_TEST(auto_failover_off_then_manual_failover);
  CPPUNIT_TEST(teardown_clusters);
  CPPUNIT_TEST_SUITE_END();

 public:
  void routes_writes_to_the_primary_of_the_epoch() {
    ReplicationEnv& e = env();
    HaControl& ha = e.ha("catalog");
    const ClusterView c = ha.status();
    CPPUNIT_ASSERT_EQUAL_MESSAGE(describe(c), std::string("a"), c.primary);
    CPPUNIT_ASSERT_EQUAL(uint64_t{1}, c.epoch);
    CPPUNIT_ASSERT_EQUAL(std::string("semi-sync"), c.mode);
    CPPUNIT_ASSERT_EQUAL(size_t{3}, c.nodes.size());
    CPPUNIT_ASSERT_MESSAGE(describe(c), eventually([&] {
                             const ClusterView v = ha.status();
                             return view(v, "b").healthy && view(v, "c").healthy && view(v, "a").healthy;
                           },
                                                   10000));
    CPPUNIT_ASSERT_EQUAL(std::string("b"), ha.status().failover_candidate);
    // The epoch is durable on the primary before any write in it.
    CPPUNIT_ASSERT_EQUAL(std::string("1"), e.cluster("a").query("SELECT epoch FROM cluster_state").at(0).at(0));
    ImageOp op("http://site/routed/1");
    e.catalog("catalog").write(0, &op.op_, 1);
    CPPUNIT_ASSERT_EQUAL(size_t{1}, urls_on(e.cluster("a"), "http://site/routed/").size());
    // A write in a stale epoch is refused by the store.
    expect_code(KESTREL_ERR_FENCED, [&] { e.catalog("a").write(0, &op.op_, 1); }, "epoch 0 refused");
  }

  void primary_crash_fails_over_without_losing_a_write() {
    ReplicationEnv& e = env();
    HaControl& ha = e.ha("catalog");
    CPPUNIT_ASSERT_MESSAGE(describe(ha.status()), eventually([&] {
                             const ClusterView v = ha.status();
                             return view(v, "b").sync_state == "quorum" && view(v, "c").sync_state == "quorum";
                           },
                                                                 30000));
    // Patroni's checks for HAProxy, per node.
    CPPUNIT_ASSERT_EQUAL(200, ha_get(e, "/primary/a"));
    CPPUNIT_ASSERT_EQUAL(503, ha_get(e, "/primary/b"));
    CPPUNIT_ASSERT_EQUAL(200, ha_get(e, "/replica/b"));
    CPPUNIT_ASSERT_EQUAL(503, ha_get(e, "/replica/a"));
    CPPUNIT_ASSERT_EQUAL(200, ha_get(e, "/api/health"));
    Writer writer(e.catalog("catalog"), "http://site/crash/");
    CPPUNIT_ASSERT(eventually([&] { return writer.count() >= 50; }, 20000));
    kill_postmaster(e.cluster("a"));
    const size_t at_crash = writer.count();
    CPPUNIT_ASSERT_MESSAGE(describe(ha.status()), eventually([&] { return ha.status().primary == "b"; }, 30000));
    CPPUNIT_ASSERT_EQUAL(uint64_t{2}, ha.status().epoch);
    CPPUNIT_ASSERT_EQUAL(200, ha_get(e, "/primary/b"));
    CPPUNIT_ASSERT_EQUAL(503, ha_get(e, "/primary/a"));
    CPPUNIT_ASSERT_EQUAL(503, ha_get(e, "/replica/b"));
    // The crawl goes on, writing to the new primary.
    CPPUNIT_ASSERT_MESSAGE(writer.errors(), eventually([&] { return writer.count() >= at_crash + 50; }, 30000));
    writer.stop();
    const std::set<std::string> acked = writer.acknowledged();
    const std::set<std::string> on_b = urls_on(e.cluster("b"), "http://site/crash/");
    size_t lost = 0;
    for (const std::string& url : acked) lost += on_b.count(url) ? 0 : 1;
    CPPUNIT_ASSERT_EQUAL_MESSAGE("acknowledged writes missing on the new primary (semi-sync)", size_t{0}, lost);
    CPPUNIT_ASSERT_MESSAGE("writes failed: " + writer.errors(), writer.errors().empty());
    CPPUNIT_ASSERT_EQUAL(std::string("2"), e.cluster("b").query("SELECT epoch FROM cluster_state").at(0).at(0));
    const std::vector<FailoverEvent> h = ha.history(0);
    CPPUNIT_ASSERT(!h.empty());
    CPPUNIT_ASSERT_EQUAL(std::string("failover"), h[0].kind);
    CPPUNIT_ASSERT_EQUAL(std::string("a"), h[0].from_node);
    CPPUNIT_ASSERT_EQUAL(std::string("b"), h[0].to_node);
    CPPUNIT_ASSERT(h[0].automatic && h[0].succeeded);
    CPPUNIT_ASSERT_EQUAL(uint64_t{1}, h[0].epoch_before);
    CPPUNIT_ASSERT_EQUAL(uint64_t{2}, h[0].epoch_after);
    CPPUNIT_ASSERT(h[0].finished_at_us >= h[0].started_at_us && h[0].duration_ms >= 0);
    CPPUNIT_ASSERT_MESSAGE(h[0].reason, h[0].reason.find("primary a down") != std::string::npos);
    // c followed a: it is rejoined to b.
    CPPUNIT_ASSERT_MESSAGE(e.log_text(), eventually([&] { return streams_from_primary(e, "c"); }, 60000));
  }

  void old_primary_restarted_is_fenced_and_rejoins() {
    ReplicationEnv& e = env();
    HaControl& ha = e.ha("catalog");
    // The HA catalog rejoins the old primary itself (its data_dir is here).
    // Only if it has not within a minute does the test restart it as an
    // operator would: back as it was, a primary of epoch 1, to be fenced and
    // rejoined. (Starting it while the rejoin runs would race pg_rewind on
    // its data dir, as it would for an operator.)
    if (!eventually([&] { return streams_from_primary(e, "a"); }, 60000) && !e.cluster("a").running()) {
      try {
        e.cluster("a").start();
      } catch (const std::exception&) {
        // the rejoin started it meanwhile
      }
    }
    CPPUNIT_ASSERT_MESSAGE(e.log_text(), eventually([&] { return streams_from_primary(e, "a"); }, 90000));
    CPPUNIT_ASSERT_EQUAL(std::string("b"), ha.status().primary);
    // As a standby it refuses writes, whatever the epoch.
    ImageOp op("http://site/stale/1");
    CPPUNIT_ASSERT_THROW(e.catalog("a").write(2, &op.op_, 1), Error);
    CPPUNIT_ASSERT(e.log_count("fencing a") + e.log_count("rejoin a") >= 1);
  }

  void switchover_loses_nothing_and_records_the_pause() {
    ReplicationEnv& e = env();
    HaControl& ha = e.ha("catalog");
    CPPUNIT_ASSERT(eventually([&] { return view(ha.status(), "a").healthy; }, 20000));
    Writer writer(e.catalog("catalog"), "http://site/switch/");
    CPPUNIT_ASSERT(eventually([&] { return writer.count() >= 30; }, 20000));
    const FailoverEvent ev = ha.switchover("a");
    CPPUNIT_ASSERT(eventually([&] { return writer.count() >= 30 + 30; }, 30000));
    writer.stop();
    CPPUNIT_ASSERT_EQUAL(std::string("switchover"), ev.kind);
    CPPUNIT_ASSERT(ev.succeeded);
    CPPUNIT_ASSERT_EQUAL(uint64_t{3}, ev.epoch_after);
    CPPUNIT_ASSERT(ev.write_pause_ms >= 0);
    CPPUNIT_ASSERT_EQUAL(std::string("a"), ha.status().primary);
    const std::set<std::string> on_a = urls_on(e.cluster("a"), "http://site/switch/");
    for (const std::string& url : writer.acknowledged())
      CPPUNIT_ASSERT_MESSAGE("lost in the switchover: " + url, on_a.count(url) == 1);
    CPPUNIT_ASSERT_MESSAGE("writes failed: " + writer.errors(), writer.errors().empty());
    CPPUNIT_ASSERT_EQUAL(std::string("switchover"), ha.history(1).at(0).kind);
    CPPUNIT_ASSERT_MESSAGE(e.log_text(), eventually([&] { return streams_from_primary(e, "b"); }, 90000));
  }

  void refusals_name_the_node() {
    ReplicationEnv& e = env();
    HaControl& ha = e.ha("catalog");
    expect_code(KESTREL_ERR_NOT_FOUND, [&] { ha.failover("zz", "", false); }, "unknown node 'zz'");
    expect_code(KESTREL_ERR_INVALID, [&] { ha.failover("a", "", false); }, "node a is already the primary");
    expect_code(KESTREL_ERR_NOT_FOUND, [&] { ha.switchover("nope"); }, "unknown node 'nope'");
    expect_code(KESTREL_ERR_INVALID, [&] { ha.set_mode("fast", false); }, "use async, semi-sync or sync");
    const uint64_t epoch = ha.status().epoch;
    CPPUNIT_ASSERT_EQUAL(std::string("a"), ha.status().primary);
    CPPUNIT_ASSERT_EQUAL(epoch, ha.status().epoch);
  }

  void auto_failover_off_then_manual_failover() {
    ReplicationEnv& e = env();
    HaControl& ha = e.ha("catalog");
    // Semi-sync: b must be a synchronous (quorum) standby when the primary dies.
    CPPUNIT_ASSERT_MESSAGE(describe(ha.status()), eventually([&] {
                             const ClusterView v = ha.status();
                             return view(v, "b").sync_state == "quorum" && view(v, "c").sync_state == "quorum" &&
                                    view(v, "b").eligible;
                           },
                                                                 60000));
    ha.set_auto_failover(false);
    const uint64_t epoch = ha.status().epoch;
    kill_postmaster(e.cluster("a"));
    CPPUNIT_ASSERT(eventually([&] { return view(ha.status(), "a").consecutive_failures >= 3; }, 20000));
    std::this_thread::sleep_for(std::chrono::seconds(2));  // several HA loops with the primary down
    CPPUNIT_ASSERT_EQUAL(std::string("a"), ha.status().primary);
    CPPUNIT_ASSERT_EQUAL(epoch, ha.status().epoch);
    CPPUNIT_ASSERT_MESSAGE(e.status_json("catalog"),
                           e.status_json("catalog").find("auto_failover is off") != std::string::npos);
    const FailoverEvent ev = ha.failover("b", "operator: a is gone", false);
    CPPUNIT_ASSERT(ev.succeeded && !ev.automatic);
    CPPUNIT_ASSERT_EQUAL(epoch + 1, ev.epoch_after);
    CPPUNIT_ASSERT_EQUAL(std::string("b"), ha.status().primary);
    ImageOp op("http://site/manual/1");
    e.catalog("catalog").write(0, &op.op_, 1);
    CPPUNIT_ASSERT_EQUAL(size_t{1}, urls_on(e.cluster("b"), "http://site/manual/").size());
    ha.set_auto_failover(true);
  }

  void teardown_clusters() { shared_env().reset(); }
};

CPPUNIT_TEST_SUITE_REGISTRATION(HaCatalogTest);
