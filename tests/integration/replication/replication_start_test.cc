// replicator-pg at start, as a new user meets it (issue 16 items 1-3),
// against real PostgreSQL 15 servers:
//   - standbys whose data directories are empty: with `bootstrap: manual` each
//     is reported `not bootstrapped` (health, status_json, node_status, the
//     log) with the fix, and nothing is created on the primary; with the
//     default `bootstrap: auto` they are copied on the poller thread;
//   - the configured mode is applied once enough standbys stream (held back,
//     and said so, until then), re-applied after a promote once standbys
//     follow the new primary; status_json's "mode" is read back from the server;
//   - lag gauges are NaN (unknown), with kestrel_replication_standby_streaming
//     0, for a standby that does not stream and for the primary.
// Clusters: a (primary), b, c (empty) for the manual scenario; p (primary),
// q, r (empty) for the auto one.
#include <cppunit/extensions/HelperMacros.h>

#include <cmath>

#include "replication_env.h"

using kestrel::ReplicatorClient;
using kestrel::test::eventually;
using kestrel::test::PgCluster;
using kestrel::test::ReplicationEnv;

namespace {

bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

// `nodes`: node_item's, the primary first.
std::string component(const std::string& id, const std::vector<std::string>& nodes, const std::string& extra) {
  return "  " + id + ":\n    type: replicator-pg\n" + ReplicationEnv::replicator_nodes(nodes) +
         "    replication_password: \"s3cret-repl\"\n    poll_interval: 200ms\n    catch_up_timeout: 30s\n"
         "    connect_timeout: 2s\n" + extra;
}

kestrel::NodeStatus status_of(const ReplicatorClient& r, const std::string& node) {
  for (const auto& s : r.node_status())
    if (s.node == node) return s;
  CPPUNIT_FAIL("no status for node " + node);
  return {};
}

std::string ssn(PgCluster& c) { return c.query("SHOW synchronous_standby_names")[0][0]; }

double lag(const std::string& component, const std::string& node) {
  return ReplicationEnv::gauge("kestrel_replication_lag_bytes", component, node);
}
double replay_lag(const std::string& component, const std::string& node) {
  return ReplicationEnv::gauge("kestrel_replication_replay_lag_seconds", component, node);
}
double streaming(const std::string& component, const std::string& node) {
  return ReplicationEnv::gauge("kestrel_replication_standby_streaming", component, node);
}

// Unknown lag: NaN in both gauges and a streaming gauge of 0.
bool lag_unknown(const std::string& component, const std::string& node) {
  return std::isnan(lag(component, node)) && std::isnan(replay_lag(component, node)) &&
         streaming(component, node) == 0.0;
}

std::string where(const ReplicationEnv& e, const std::string& id) {
  return "status: " + e.status_json(id) + "\nhealth: " + e.app_health().second;
}

}  // namespace

class ReplicationStartTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(ReplicationStartTest);
  CPPUNIT_TEST(manual_standbys_are_reported_and_the_mode_waits_for_them);
  CPPUNIT_TEST(auto_bootstrap_applies_sync_and_promote_reapplies_it);
  CPPUNIT_TEST(primary_down_at_start_is_reported_and_applied_later);
  CPPUNIT_TEST_SUITE_END();

 public:
  void manual_standbys_are_reported_and_the_mode_waits_for_them() {
    ReplicationEnv e;
    PgCluster& a = e.add_primary("a");
    PgCluster& b = e.add_empty("b");
    e.add_empty("c");
    e.start_runtime("components:\n" + component("repl", {e.node_item("a", 0), e.node_item("b", 1), e.node_item("c", 2)},
                                                "    mode: semi-sync\n    bootstrap: manual\n"));
    ReplicatorClient r = e.replicator("repl");

    // Item 3: each empty standby is reported, with the fix, in the log (once),
    // health (503), status_json and node_status; nothing created on a.
    for (const char* s : {"b", "c"}) {
      CPPUNIT_ASSERT_EQUAL_MESSAGE(e.log_text(), size_t{1},
                                   e.log_count("repl: standby " + std::string(s) + " is not bootstrapped"));
    }
    CPPUNIT_ASSERT_MESSAGE(e.log_text(), contains(e.log_text(), "bootstrap: auto") &&
                                             contains(e.log_text(), "pg_basebackup"));
    auto health = e.app_health();
    CPPUNIT_ASSERT_EQUAL_MESSAGE(health.second, 503, health.first);
    CPPUNIT_ASSERT_MESSAGE(health.second, contains(health.second, "b not bootstrapped") &&
                                              contains(health.second, "c not bootstrapped"));
    const std::string status = e.status_json("repl");
    CPPUNIT_ASSERT_MESSAGE(status, contains(status, "\"not_bootstrapped\":{\"b\":") && contains(status, "\"c\":"));
    CPPUNIT_ASSERT_MESSAGE(status, contains(status, "\"bootstrap\":\"manual\""));
    kestrel::NodeStatus bs = status_of(r, "b");
    CPPUNIT_ASSERT_MESSAGE(bs.detail, contains(bs.detail, "not bootstrapped") && contains(bs.detail, "pg_basebackup"));
    CPPUNIT_ASSERT_EQUAL(std::string("0"), a.query("SELECT count(*) FROM pg_replication_slots")[0][0]);
    CPPUNIT_ASSERT_EQUAL(std::string("0"), a.query("SELECT count(*) FROM pg_roles WHERE rolname = 'replicator'")[0][0]);

    // Item 2: no standby streams, so no lag is known; the primary is no standby.
    CPPUNIT_ASSERT(eventually([&] { return lag_unknown("repl", "b") && lag_unknown("repl", "c"); }, 10000));
    CPPUNIT_ASSERT_MESSAGE("primary a reported as a standby", lag_unknown("repl", "a"));
    CPPUNIT_ASSERT_MESSAGE(bs.detail, bs.lag_bytes < 0 && std::isnan(bs.replay_lag_seconds));

    // Item 1: semi-sync with no standby streaming would block every commit:
    // held back (async in force), and said so: status reads the server.
    CPPUNIT_ASSERT_EQUAL(std::string(""), ssn(a));
    CPPUNIT_ASSERT_MESSAGE(status, contains(status, "\"mode\":\"async\"") &&
                                       contains(status, "\"configured_mode\":\"semi-sync\""));
    CPPUNIT_ASSERT_MESSAGE(status, contains(status, "\"mode_held_back\":\"semi-sync"));
    CPPUNIT_ASSERT_MESSAGE(health.second, contains(health.second, "mode semi-sync is configured but async is in force"));
    CPPUNIT_ASSERT_EQUAL_MESSAGE(e.log_text(), size_t{1}, e.log_count("repl: mode semi-sync held back on a"));
    ReplicationEnv::insert_images(a, "http://site/first/", 10);  // commits do not block meanwhile

    r.bootstrap("b");
    // As soon as b streams the configured mode is in force, read back.
    CPPUNIT_ASSERT_MESSAGE(where(e, "repl"), eventually([&] { return ssn(a) == "ANY 1 (\"b\", \"c\")"; }, 15000));
    CPPUNIT_ASSERT(eventually([&] { return status_of(r, "b").sync_state == "quorum"; }, 10000));
    CPPUNIT_ASSERT_MESSAGE(e.status_json("repl"), contains(e.status_json("repl"), "\"mode\":\"semi-sync\""));
    CPPUNIT_ASSERT_MESSAGE(e.status_json("repl"), contains(e.status_json("repl"), "\"mode_held_back\":\"\""));
    CPPUNIT_ASSERT_EQUAL(KESTREL_REPLICATION_SEMI_SYNC, r.mode());
    // b's lag is known now; c's still is not.
    CPPUNIT_ASSERT(eventually([&] { return streaming("repl", "b") == 1.0 && lag("repl", "b") == 0.0; }, 15000));
    CPPUNIT_ASSERT(lag_unknown("repl", "c"));
    ReplicationEnv::insert_images(a, "http://site/second/", 5);
    ReplicationEnv::wait_rows(b, 15);

    // c left: health names it alone, then nothing once it is bootstrapped.
    health = e.app_health();
    CPPUNIT_ASSERT_MESSAGE(health.second, contains(health.second, "c not bootstrapped") &&
                                              !contains(health.second, "b not bootstrapped"));
    r.bootstrap("c");
    CPPUNIT_ASSERT_MESSAGE(where(e, "repl"), eventually([&] { return e.app_health().first == 200; }, 15000));
    CPPUNIT_ASSERT(eventually([&] { return streaming("repl", "c") == 1.0; }, 15000));
    CPPUNIT_ASSERT(lag_unknown("repl", "a"));
  }

  void auto_bootstrap_applies_sync_and_promote_reapplies_it() {
    ReplicationEnv e;
    PgCluster& p = e.add_primary("p");
    PgCluster& q = e.add_empty("q");
    PgCluster& r_ = e.add_empty("r");
    ReplicationEnv::insert_images(p, "http://site/p/", 20);
    // bootstrap is not set: auto is the default for local standbys.
    e.start_runtime("components:\n" +
                    component("auto", {e.node_item("p", 0, "sql"), e.node_item("q", 1), e.node_item("r", 2)},
                              "    mode: sync\n"));
    ReplicatorClient r = e.replicator("auto");

    // Item 3: both copied from p without a call, on the poller thread.
    CPPUNIT_ASSERT_MESSAGE(where(e, "auto"), eventually([&] {
                             return e.app_health().first == 200;
                           }, 120000));
    ReplicationEnv::wait_rows(q, 20);
    ReplicationEnv::wait_rows(r_, 20);
    CPPUNIT_ASSERT_MESSAGE(e.log_text(), e.log_count("auto: bootstrap q: streaming from p") == 1 &&
                                             e.log_count("auto: bootstrap r: streaming from p") == 1);
    // Item 1: sync is in force once both stream (FIRST 2, all of them).
    CPPUNIT_ASSERT_EQUAL(std::string("FIRST 2 (\"q\", \"r\")"), ssn(p));
    CPPUNIT_ASSERT(contains(e.status_json("auto"), "\"mode\":\"sync\""));
    CPPUNIT_ASSERT(eventually([&] { return status_of(r, "q").sync_state == "sync"; }, 10000));

    // Promote q: nothing follows it yet, so sync is held back there (a commit
    // would block); the status says so.
    r.promote("q", 2, 30000);
    CPPUNIT_ASSERT_EQUAL(std::string(""), ssn(q));
    const std::string status = e.status_json("auto");
    CPPUNIT_ASSERT_MESSAGE(status, contains(status, "\"primary\":\"q\"") && contains(status, "\"mode\":\"async\"") &&
                                       contains(status, "\"mode_held_back\":\"sync"));
    // Item 2: q is the primary now: its series stop reporting it as a standby.
    CPPUNIT_ASSERT_MESSAGE("promoted q still reports standby lag", eventually([&] { return lag_unknown("auto", "q"); }, 10000));
    r.fence("p");
    r.rejoin("p");
    r.rejoin("r");
    // Item 1: re-applied on q once both follow it.
    CPPUNIT_ASSERT_MESSAGE(where(e, "auto"), eventually([&] { return ssn(q) == "FIRST 2 (\"p\", \"r\")"; }, 30000));
    CPPUNIT_ASSERT(eventually([&] { return contains(e.status_json("auto"), "\"mode\":\"sync\""); }, 10000));
    CPPUNIT_ASSERT(eventually([&] { return streaming("auto", "p") == 1.0 && streaming("auto", "r") == 1.0; }, 15000));
    ReplicationEnv::insert_images(q, "http://site/q/", 3);
    ReplicationEnv::wait_rows(p, 23);
    CPPUNIT_ASSERT(eventually([&] { return e.app_health().first == 200; }, 15000));
  }

  // Item 1 with the primary down at start: kestreld starts anyway, the mode
  // is "unknown" (not the configured one), the reason is logged and in
  // status; once the primary answers, what is safe is applied (semi-sync
  // with no standby streaming: still held back, async in force).
  void primary_down_at_start_is_reported_and_applied_later() {
    ReplicationEnv e;
    PgCluster& a = e.add_primary("a");
    e.add_empty("b");
    a.query("ALTER SYSTEM SET synchronous_standby_names = 'ANY 1 (b)'");  // left over, and stronger than safe
    a.stop("fast");
    e.start_runtime("components:\n" + component("down", {e.node_item("a", 0), e.node_item("b", 1)},
                                                "    mode: semi-sync\n    bootstrap: manual\n"));
    std::string status = e.status_json("down");
    CPPUNIT_ASSERT_MESSAGE(status, contains(status, "\"mode\":\"unknown\"") &&
                                       contains(status, "\"mode_held_back\":\"semi-sync not applied on a: node a"));
    CPPUNIT_ASSERT_EQUAL_MESSAGE(e.log_text(), size_t{1}, e.log_count("down: mode semi-sync not applied on a"));
    CPPUNIT_ASSERT_EQUAL(503, e.app_health().first);
    a.start();
    // ANY 1 (b) with b not streaming blocks every commit: not kept, async until b streams.
    CPPUNIT_ASSERT_MESSAGE(where(e, "down"), eventually([&] { return ssn(a).empty(); }, 15000));
    // The reason is recorded just after the setting is applied: wait for it.
    CPPUNIT_ASSERT_MESSAGE(status, eventually([&] {
                             status = e.status_json("down");
                             return contains(status, "\"mode\":\"async\"") &&
                                    contains(status, "\"mode_held_back\":\"semi-sync held back on a: 0 of 1");
                           },
                                                         15000));
    ReplicationEnv::insert_images(a, "http://site/a/", 1);  // does not block
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ReplicationStartTest);
