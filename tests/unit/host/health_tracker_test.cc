// The health monitor's retry/threshold logic, fed sequences of check results:
// two failures then a pass never mark a node down; failure_threshold failures
// in a row do; suspect nodes are re-checked at retry_interval; a failing node
// keeps its last healthy role, position and sync_state.
#include <cppunit/extensions/HelperMacros.h>

#include "ha/health_tracker.h"

using namespace kestrel::host::ha;

namespace {

CheckResult ok(uint64_t lsn = 100, const std::string& sync = "sync") {
  CheckResult r;
  r.name = "b";
  r.answered = true;
  r.role = "standby";
  r.lsn = lsn;
  r.sync_state = sync;
  r.response_ms = 3;
  return r;
}

CheckResult failed() {
  CheckResult r;
  r.name = "b";
  r.answered = false;
  r.role = "unknown";
  r.response_ms = 2000;
  r.detail = "timeout";
  return r;
}

}  // namespace

class HealthTrackerTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(HealthTrackerTest);
  CPPUNIT_TEST(two_failures_then_pass_stays_up);
  CPPUNIT_TEST(threshold_failures_mark_down);
  CPPUNIT_TEST(retry_interval_while_suspect);
  CPPUNIT_TEST(failing_node_keeps_last_healthy_state);
  CPPUNIT_TEST(down_node_comes_back);
  CPPUNIT_TEST(failing_since_and_refusal);
  CPPUNIT_TEST_SUITE_END();

 public:
  void two_failures_then_pass_stays_up() {
    MonitorOptions o;  // threshold 3
    HealthTracker t("b");
    CPPUNIT_ASSERT(t.record(ok(), o));  // unknown -> healthy
    CPPUNIT_ASSERT(!t.record(failed(), o));
    CPPUNIT_ASSERT(!t.record(failed(), o));
    CPPUNIT_ASSERT(t.view().healthy);
    CPPUNIT_ASSERT_EQUAL(2, t.view().consecutive_failures);
    CPPUNIT_ASSERT(!t.record(ok(), o));
    CPPUNIT_ASSERT(t.view().healthy);
    CPPUNIT_ASSERT_EQUAL(0, t.view().consecutive_failures);
  }

  void threshold_failures_mark_down() {
    MonitorOptions o;
    HealthTracker t("b");
    t.record(ok(), o);
    t.record(failed(), o);
    t.record(failed(), o);
    CPPUNIT_ASSERT(t.record(failed(), o));  // third in a row: down
    CPPUNIT_ASSERT(!t.view().healthy);
    CPPUNIT_ASSERT_EQUAL(3, t.view().consecutive_failures);
    CPPUNIT_ASSERT(!t.suspect(o));  // confirmed, no more fast retries
  }

  void retry_interval_while_suspect() {
    MonitorOptions o;
    o.health_check_interval_ms = 5000;
    o.retry_interval_ms = 500;
    HealthTracker a("a"), b("b");
    a.record(ok(), o);
    b.record(ok(), o);
    std::vector<const HealthTracker*> all = {&a, &b};
    CPPUNIT_ASSERT_EQUAL(int64_t(5000), next_delay_ms(all, o));
    b.record(failed(), o);
    CPPUNIT_ASSERT_EQUAL(int64_t(500), next_delay_ms(all, o));
    b.record(failed(), o);
    CPPUNIT_ASSERT_EQUAL(int64_t(500), next_delay_ms(all, o));
    b.record(failed(), o);  // down: back to the normal interval
    CPPUNIT_ASSERT_EQUAL(int64_t(5000), next_delay_ms(all, o));
  }

  void failing_node_keeps_last_healthy_state() {
    MonitorOptions o;
    o.failure_threshold = 2;
    HealthTracker t("b");
    t.record(ok(4242, "sync"), o);
    t.record(failed(), o);
    t.record(failed(), o);
    CPPUNIT_ASSERT(!t.view().healthy);
    CPPUNIT_ASSERT_EQUAL(std::string("standby"), t.view().role);
    CPPUNIT_ASSERT_EQUAL(std::string("sync"), t.view().sync_state);
    CPPUNIT_ASSERT_EQUAL(uint64_t(4242), t.view().lsn);
    CPPUNIT_ASSERT_EQUAL(std::string("timeout"), t.view().detail);
    CPPUNIT_ASSERT_EQUAL(2000.0, t.view().response_ms);
  }

  void down_node_comes_back() {
    MonitorOptions o;
    o.failure_threshold = 1;
    HealthTracker t("b");
    t.record(ok(), o);
    CPPUNIT_ASSERT(t.record(failed(), o));
    CPPUNIT_ASSERT(t.record(ok(7), o));
    CPPUNIT_ASSERT(t.view().healthy);
    CPPUNIT_ASSERT_EQUAL(uint64_t(7), t.view().lsn);
  }

  // The first failure of a streak is kept (a failover that waits out a
  // possible partition counts from it); the last one says refused or not.
  void failing_since_and_refusal() {
    MonitorOptions o;
    HealthTracker t("b");
    t.record(ok(), o);
    CheckResult f = failed();
    f.at_us = 1000;
    t.record(f, o);
    f.at_us = 2000;
    f.detail = "connection to server at \"127.0.0.1\", port 5432 failed: Connection refused";
    t.record(f, o);
    CPPUNIT_ASSERT_EQUAL(int64_t{1000}, t.view().failing_since_us);
    CPPUNIT_ASSERT(t.view().refused);
    f.detail = "timeout expired";
    t.record(f, o);
    CPPUNIT_ASSERT(!t.view().refused);
    t.record(ok(), o);
    CPPUNIT_ASSERT_EQUAL(int64_t{0}, t.view().failing_since_us);
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(HealthTrackerTest);
