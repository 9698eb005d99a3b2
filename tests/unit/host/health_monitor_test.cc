// The monitor thread with a fed probe: a node failing twice then passing is
// never reported down; three failures in a row are, after about two
// retry_intervals (not two health_check_intervals); wake() brings a check
// forward while every node is healthy, never while one is suspect.
#include <cppunit/extensions/HelperMacros.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "ha/health_monitor.h"

using namespace kestrel::host::ha;
using namespace std::chrono_literals;

namespace {

// Answers from a script, then the last entry forever.
struct ScriptedProbe {
  std::mutex mu;
  std::vector<bool> script;
  size_t next = 0;
  size_t calls() {
    std::lock_guard<std::mutex> lock(mu);
    return next;
  }
  std::vector<CheckResult> operator()() {
    std::lock_guard<std::mutex> lock(mu);
    bool up = script[next < script.size() ? next : script.size() - 1];
    ++next;
    CheckResult r;
    r.name = "a";
    r.answered = up;
    r.role = up ? "primary" : "unknown";
    return {r};
  }
};

}  // namespace

class HealthMonitorTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(HealthMonitorTest);
  CPPUNIT_TEST(fail_twice_then_pass_is_not_down);
  CPPUNIT_TEST(dead_node_confirmed_at_retry_interval);
  CPPUNIT_TEST(wake_checks_early_only_while_healthy);
  CPPUNIT_TEST_SUITE_END();

  MonitorOptions options() {
    MonitorOptions o;
    o.health_check_interval_ms = 60000;  // only retries can make progress in the test
    o.retry_interval_ms = 10;
    o.failure_threshold = 3;
    return o;
  }

 public:
  void fail_twice_then_pass_is_not_down() {
    ScriptedProbe probe;
    probe.script = {true, false, false, true};
    std::atomic<int> downs{0};
    HealthMonitor m(options(), [&] { return probe(); },
                    [&](const std::vector<NodeView>& v, bool changed) { downs += changed && !v[0].healthy ? 1 : 0; });
    m.check_once();  // healthy
    m.check_once();  // suspect
    m.start();       // retries at 10 ms: fail, pass; then waits the long interval
    std::this_thread::sleep_for(200ms);
    m.stop();
    CPPUNIT_ASSERT_EQUAL(0, downs.load());
    CPPUNIT_ASSERT(m.snapshot()[0].healthy);
    CPPUNIT_ASSERT_EQUAL(0, m.snapshot()[0].consecutive_failures);
  }

  void dead_node_confirmed_at_retry_interval() {
    ScriptedProbe probe;
    probe.script = {true, false};
    std::atomic<int> downs{0};
    HealthMonitor m(options(), [&] { return probe(); },
                    [&](const std::vector<NodeView>& v, bool changed) { downs += changed && !v[0].healthy ? 1 : 0; });
    m.check_once();
    m.check_once();
    m.start();
    for (int i = 0; i < 500 && downs.load() == 0; ++i) std::this_thread::sleep_for(10ms);
    m.stop();
    CPPUNIT_ASSERT_EQUAL(1, downs.load());
    CPPUNIT_ASSERT(!m.snapshot()[0].healthy);
  }

  // A failing writer wakes the monitor on every retry; were each wake a check,
  // failure_threshold failures would come within milliseconds and a short
  // outage (a restart, a switchover) would be taken for a crash.
  void wake_checks_early_only_while_healthy() {
    auto wait_for_calls = [](ScriptedProbe& p, size_t n) {
      for (int i = 0; i < 500 && p.calls() < n; ++i) std::this_thread::sleep_for(10ms);
      return p.calls();
    };
    MonitorOptions o = options();
    o.retry_interval_ms = 60000;  // neither interval elapses during the test
    {
      ScriptedProbe healthy;
      healthy.script = {true};
      HealthMonitor m(o, [&] { return healthy(); }, nullptr);
      m.start();  // first check at once
      CPPUNIT_ASSERT_EQUAL(size_t{1}, wait_for_calls(healthy, 1));
      m.wake();
      CPPUNIT_ASSERT_EQUAL(size_t{2}, wait_for_calls(healthy, 2));
      m.stop();
    }
    {
      ScriptedProbe failing;
      failing.script = {false};
      HealthMonitor m(o, [&] { return failing(); }, nullptr);
      m.start();  // first check fails: suspect, next check in retry_interval
      for (int i = 0; i < 500 && m.snapshot().empty(); ++i) std::this_thread::sleep_for(10ms);
      CPPUNIT_ASSERT_EQUAL(size_t{1}, failing.calls());
      for (int i = 0; i < 5; ++i) m.wake();
      std::this_thread::sleep_for(200ms);
      CPPUNIT_ASSERT_EQUAL(size_t{1}, failing.calls());
      CPPUNIT_ASSERT_EQUAL(1, m.snapshot()[0].consecutive_failures);
      m.stop();
    }
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(HealthMonitorTest);
