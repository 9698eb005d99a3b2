// A second primary (issue 16 item 4), against real PostgreSQL 15: a standby
// promoted behind Kestrel's back while the primary is down (a timeline ahead
// of the one the replicator follows), then the old primary restarting, so
// both accept writes. The replicator must say split brain everywhere (health
// -> the App API's 503, status_json, node_status, the
// kestrel_replication_split_brain gauge), refuse promote/set_mode/rejoin, and
// clear it once a fence leaves one primary answering. Clusters: m (primary),
// n (standby, fence=sql so it still answers when fenced).
#include <cppunit/extensions/HelperMacros.h>

#include "replication_env.h"

using kestrel::ReplicatorClient;
using kestrel::test::eventually;
using kestrel::test::PgCluster;
using kestrel::test::ReplicationEnv;

namespace {

bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

kestrel::NodeStatus status_of(const ReplicatorClient& r, const std::string& node) {
  for (const auto& s : r.node_status())
    if (s.node == node) return s;
  CPPUNIT_FAIL("no status for node " + node);
  return {};
}

// The message of the kestrel::Error fn throws ("" when none).
std::string refusal(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const kestrel::Error& e) {
    return e.what();
  }
  return std::string();
}

double split_gauge() { return ReplicationEnv::gauge("kestrel_replication_split_brain", "sb", ""); }

}  // namespace

class ReplicationSplitBrainTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(ReplicationSplitBrainTest);
  CPPUNIT_TEST(second_primary_is_reported_and_refused_until_fenced);
  CPPUNIT_TEST_SUITE_END();

 public:
  void second_primary_is_reported_and_refused_until_fenced() {
    ReplicationEnv e;
    PgCluster& m = e.add_primary("m");
    PgCluster& n = e.add_empty("n");
    e.start_runtime("components:\n  sb:\n    type: replicator-pg\n" +
                    ReplicationEnv::replicator_nodes({e.node_item("m", 0), e.node_item("n", 1, "sql")}) +
                    "    replication_password: \"pw\"\n    poll_interval: 200ms\n    catch_up_timeout: 30s\n"
                    "    connect_timeout: 2s\n    bootstrap: manual\n");
    ReplicatorClient r = e.replicator("sb");
    ReplicationEnv::insert_images(m, "http://site/common/", 10);
    r.bootstrap("n");
    ReplicationEnv::wait_rows(n, 10);
    CPPUNIT_ASSERT(eventually([&] { return e.app_health().first == 200 && split_gauge() == 0.0; }, 15000));

    // m dies; n is promoted outside Kestrel: a timeline ahead of m's.
    m.stop("immediate");
    n.query("SELECT pg_promote(true, 30)");
    CPPUNIT_ASSERT_MESSAGE(e.status_json("sb"), eventually([&] { return split_gauge() == 1.0; }, 15000));
    std::string status = e.status_json("sb");
    CPPUNIT_ASSERT_MESSAGE(status, contains(status, "\"split_brain\":true") && contains(status, "timeline"));

    // m comes back: two primaries take different writes.
    m.start();
    ReplicationEnv::insert_images(m, "http://site/on-m/", 3);
    ReplicationEnv::insert_images(n, "http://site/on-n/", 5);
    CPPUNIT_ASSERT(ReplicationEnv::count_rows(m) != ReplicationEnv::count_rows(n));
    auto health = e.app_health();
    CPPUNIT_ASSERT(eventually(
        [&] {
          health = e.app_health();
          return health.first == 503 && contains(health.second, "split brain") && contains(health.second, "m and n");
        },
        15000));
    status = e.status_json("sb");
    CPPUNIT_ASSERT_MESSAGE(status, contains(status, "\"split_brain\":true") &&
                                       contains(status, "\"split_brain_nodes\":[\"m\",\"n\"]"));
    CPPUNIT_ASSERT_EQUAL(1.0, split_gauge());
    for (const char* node : {"m", "n"}) {
      const kestrel::NodeStatus s = status_of(r, node);
      CPPUNIT_ASSERT_MESSAGE(s.detail, contains(s.detail, "split brain"));
    }
    CPPUNIT_ASSERT_EQUAL_MESSAGE(e.log_text(), size_t{1}, e.log_count("sb: split brain: m and n both accept writes"));

    // Neither is treated as the primary until someone decides.
    for (const std::string& msg : {refusal([&] { r.promote("n", 5, 30000); }),
                                   refusal([&] { r.set_mode(KESTREL_REPLICATION_ASYNC); }),
                                   refusal([&] { r.rejoin("n"); })})
      CPPUNIT_ASSERT_MESSAGE(msg, contains(msg, "split brain") && contains(msg, "fence"));
    CPPUNIT_ASSERT_EQUAL(std::string("f"), n.query("SELECT pg_is_in_recovery()")[0][0]);

    // The decision: n is fenced (it still answers, through SQL); one primary
    // answers, so the split brain clears and n can rejoin m.
    r.fence("n");
    CPPUNIT_ASSERT_MESSAGE(e.status_json("sb"), eventually([&] { return split_gauge() == 0.0; }, 15000));
    CPPUNIT_ASSERT(contains(e.status_json("sb"), "\"split_brain\":false"));
    r.rejoin("n");
    ReplicationEnv::wait_rows(n, ReplicationEnv::count_rows(m));
    CPPUNIT_ASSERT(eventually([&] { return e.app_health().first == 200; }, 15000));
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ReplicationSplitBrainTest);
