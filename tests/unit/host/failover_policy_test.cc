// The failover policy: priority order, then replayed position; the async lag
// bound (and unknown lag); sync-only candidates in sync modes; a reason for
// every rejected node.
#include <cppunit/extensions/HelperMacros.h>

#include "ha/failover_policy.h"

using namespace kestrel::host::ha;

namespace {

NodeView standby(const std::string& name, int priority, uint64_t lsn, int64_t lag, const std::string& sync = "async") {
  NodeView v;
  v.name = name;
  v.role = "standby";
  v.priority = priority;
  v.healthy = true;
  v.lsn = lsn;
  v.lag_bytes = lag;
  v.sync_state = sync;
  return v;
}

NodeView dead_primary(const std::string& name) {
  NodeView v;
  v.name = name;
  v.role = "primary";
  v.priority = 1;
  v.healthy = false;
  return v;
}

std::string reason_of(const PolicyDecision& d, const std::string& node) {
  for (const Rejection& r : d.rejected) {
    if (r.node == node) return r.reason;
  }
  return "<not rejected>";
}

}  // namespace

class FailoverPolicyTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(FailoverPolicyTest);
  CPPUNIT_TEST(lowest_priority_wins);
  CPPUNIT_TEST(equal_priority_highest_lsn_wins);
  CPPUNIT_TEST(async_lag_bound_excludes_lagging_standby);
  CPPUNIT_TEST(unknown_lag_is_not_eligible);
  CPPUNIT_TEST(sync_mode_only_synchronous_standbys);
  CPPUNIT_TEST(semi_sync_accepts_quorum);
  CPPUNIT_TEST(semi_sync_only_most_advanced_quorum_standby);
  CPPUNIT_TEST(unhealthy_and_old_primary_rejected_with_reasons);
  CPPUNIT_TEST(no_candidate_reasons_joined);
  CPPUNIT_TEST(returning_old_primary_is_fenced);
  CPPUNIT_TEST(a_primary_that_may_be_cut_off_is_waited_for);
  CPPUNIT_TEST_SUITE_END();

 public:
  void lowest_priority_wins() {
    PolicyOptions o;
    auto d = choose_failover_candidate({dead_primary("a"), standby("b", 20, 900, 10), standby("c", 10, 100, 800)},
                                       "a", o);
    CPPUNIT_ASSERT_EQUAL(std::string("c"), d.candidate);
    CPPUNIT_ASSERT_EQUAL(std::string("the old primary"), reason_of(d, "a"));
  }

  void equal_priority_highest_lsn_wins() {
    PolicyOptions o;
    auto d = choose_failover_candidate({standby("b", 10, 100, 50), standby("c", 10, 150, 0)}, "a", o);
    CPPUNIT_ASSERT_EQUAL(std::string("c"), d.candidate);
    CPPUNIT_ASSERT(d.rejected.empty());  // b is not rejected, only ranked lower
  }

  void async_lag_bound_excludes_lagging_standby() {
    PolicyOptions o;
    o.maximum_lag_on_failover = 1 << 20;
    auto d = choose_failover_candidate({standby("b", 10, 100, 3 << 20), standby("c", 20, 90, 1 << 20)}, "a", o);
    CPPUNIT_ASSERT_EQUAL(std::string("c"), d.candidate);  // exactly at the bound is eligible
    CPPUNIT_ASSERT_EQUAL(std::string("lag 3 MiB > maximum_lag_on_failover 1 MiB"), reason_of(d, "b"));
  }

  void unknown_lag_is_not_eligible() {
    PolicyOptions o;
    auto d = choose_failover_candidate({standby("b", 10, 100, -1)}, "a", o);
    CPPUNIT_ASSERT_EQUAL(std::string(""), d.candidate);
    CPPUNIT_ASSERT_EQUAL(std::string("lag unknown"), reason_of(d, "b"));
  }

  void sync_mode_only_synchronous_standbys() {
    PolicyOptions o;
    o.mode = ReplicationMode::kSync;
    // In sync mode lag does not matter (a sync standby has everything acknowledged).
    auto d = choose_failover_candidate(
        {standby("b", 10, 100, 0, "async"), standby("c", 20, 90, 5 << 20, "sync"), standby("d", 5, 90, 0, "potential")},
        "a", o);
    CPPUNIT_ASSERT_EQUAL(std::string("c"), d.candidate);
    CPPUNIT_ASSERT_EQUAL(std::string("not synchronous (sync_state async) in sync mode"), reason_of(d, "b"));
    CPPUNIT_ASSERT_EQUAL(std::string("not synchronous (sync_state potential) in sync mode"), reason_of(d, "d"));
  }

  void semi_sync_accepts_quorum() {
    PolicyOptions o;
    o.mode = ReplicationMode::kSemiSync;
    auto d = choose_failover_candidate({standby("b", 10, 100, 0, "quorum"), standby("c", 5, 100, 0, "")}, "a", o);
    CPPUNIT_ASSERT_EQUAL(std::string("b"), d.candidate);
    CPPUNIT_ASSERT_EQUAL(std::string("not synchronous (sync_state unknown) in semi-sync mode"), reason_of(d, "c"));
  }

  // ANY 1 acknowledged a commit once one standby flushed it: the standby with
  // the highest received position wins over a better priority.
  void semi_sync_only_most_advanced_quorum_standby() {
    PolicyOptions o;
    o.mode = ReplicationMode::kSemiSync;
    NodeView b = standby("b", 1, 100, 0, "quorum");
    NodeView c = standby("c", 2, 100, 0, "quorum");
    c.receive_lsn = 1124;  // received (flushed) more than b, not yet replayed
    NodeView d = standby("d", 0, 5000, 0, "async");  // ahead, but never counted for the quorum
    auto dec = choose_failover_candidate({b, c, d}, "a", o);
    CPPUNIT_ASSERT_EQUAL(std::string("c"), dec.candidate);
    CPPUNIT_ASSERT_EQUAL(std::string("behind c by 1 KiB (semi-sync: only the most advanced standby holds every "
                                     "acknowledged commit)"),
                         reason_of(dec, "b"));
  }

  void unhealthy_and_old_primary_rejected_with_reasons() {
    PolicyOptions o;
    NodeView sick = standby("b", 1, 100, 0);
    sick.healthy = false;
    NodeView fenced = standby("c", 1, 100, 0);
    fenced.role = "fenced";
    auto d = choose_failover_candidate({dead_primary("a"), sick, fenced, standby("d", 50, 10, 0)}, "a", o);
    CPPUNIT_ASSERT_EQUAL(std::string("d"), d.candidate);
    CPPUNIT_ASSERT_EQUAL(std::string("unhealthy"), reason_of(d, "b"));
    CPPUNIT_ASSERT_EQUAL(std::string("role fenced, not a standby"), reason_of(d, "c"));
  }

  void no_candidate_reasons_joined() {
    PolicyOptions o;
    NodeView sick = standby("b", 1, 100, 0);
    sick.healthy = false;
    auto d = choose_failover_candidate({dead_primary("a"), sick, standby("c", 1, 1, -1)}, "a", o);
    CPPUNIT_ASSERT_EQUAL(std::string(""), d.candidate);
    CPPUNIT_ASSERT_EQUAL(std::string("a: the old primary; b: unhealthy; c: lag unknown"), d.reasons());
  }

  void returning_old_primary_is_fenced() {
    NodeView back = dead_primary("a");
    back.healthy = true;  // restarted after the failover to b, still thinks it is primary
    NodeView b = standby("b", 10, 100, 0);
    b.role = "primary";
    NodeView still_dead = dead_primary("c");
    auto fence = former_primaries_to_fence({back, b, still_dead}, "b");
    CPPUNIT_ASSERT_EQUAL(size_t(1), fence.size());
    CPPUNIT_ASSERT_EQUAL(std::string("a"), fence[0]);
    CPPUNIT_ASSERT(former_primaries_to_fence({back}, "a").empty());
  }

  // Timeouts may be a partition: the failover waits a lease TTL and a check
  // from the first failure, so that the primary's own daemon fenced it; a
  // refused connection means the server is down: no wait.
  void a_primary_that_may_be_cut_off_is_waited_for() {
    NodeView a = dead_primary("a");
    a.failing_since_us = 10'000'000;  // 10 s
    CPPUNIT_ASSERT_EQUAL(int64_t{22000}, partition_wait_ms(a, 10'000'000, 17000, 5000));
    CPPUNIT_ASSERT_EQUAL(int64_t{1}, partition_wait_ms(a, 31'999'500, 17000, 5000));  // rounded up
    CPPUNIT_ASSERT_EQUAL(int64_t{0}, partition_wait_ms(a, 32'000'000, 17000, 5000));
    a.refused = true;
    CPPUNIT_ASSERT_EQUAL(int64_t{0}, partition_wait_ms(a, 10'000'000, 17000, 5000));
    CPPUNIT_ASSERT(is_refusal("could not connect: CONNECTION REFUSED"));
    CPPUNIT_ASSERT(!is_refusal("epoch 3 refused: a newer primary exists"));
    CPPUNIT_ASSERT(!is_refusal("timeout expired"));
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(FailoverPolicyTest);
