// The router's write gate: one failover at a time; a write waits while one
// runs and then carries the new epoch; it times out as retryable; a
// retryable error caused by a failover is repeated after it, one without a
// failover is returned to the caller.
#include <cppunit/extensions/HelperMacros.h>

#include <atomic>
#include <thread>

#include "ha/write_gate.h"

using namespace kestrel::host::ha;
using namespace std::chrono_literals;

class WriteGateTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(WriteGateTest);
  CPPUNIT_TEST(one_failover_at_a_time);
  CPPUNIT_TEST(write_waits_then_carries_new_epoch);
  CPPUNIT_TEST(write_times_out_retryable);
  CPPUNIT_TEST(retryable_during_failover_is_repeated);
  CPPUNIT_TEST(retryable_without_failover_is_returned);
  CPPUNIT_TEST_SUITE_END();

 public:
  void one_failover_at_a_time() {
    WriteGate g(1);
    CPPUNIT_ASSERT(g.begin());
    CPPUNIT_ASSERT(!g.begin());
    CPPUNIT_ASSERT(g.end(2) >= 0);
    CPPUNIT_ASSERT_EQUAL(uint64_t(2), g.epoch());
    CPPUNIT_ASSERT(g.begin());
    g.end(1);  // a failed failover: the epoch never goes back
    CPPUNIT_ASSERT_EQUAL(uint64_t(2), g.epoch());
  }

  void write_waits_then_carries_new_epoch() {
    WriteGate g(1);
    g.begin();
    std::thread t([&] {
      std::this_thread::sleep_for(50ms);
      g.end(2);
    });
    bool timed_out = false;
    uint64_t seen = 0;
    auto r = g.run([&](uint64_t e) { seen = e; return CallOutcome::kOk; }, 5000, &timed_out);
    t.join();
    CPPUNIT_ASSERT(r == CallOutcome::kOk);
    CPPUNIT_ASSERT(!timed_out);
    CPPUNIT_ASSERT_EQUAL(uint64_t(2), seen);
  }

  void write_times_out_retryable() {
    WriteGate g(1);
    g.begin();
    bool timed_out = false;
    int calls = 0;
    auto r = g.run([&](uint64_t) { ++calls; return CallOutcome::kOk; }, 30, &timed_out);
    CPPUNIT_ASSERT(r == CallOutcome::kRetryable);
    CPPUNIT_ASSERT(timed_out);
    CPPUNIT_ASSERT_EQUAL(0, calls);
    CPPUNIT_ASSERT_EQUAL(uint64_t(0), g.wait_open(10));
  }

  void retryable_during_failover_is_repeated() {
    WriteGate g(1);
    std::thread failover;
    std::vector<uint64_t> epochs;
    bool timed_out = false;
    auto r = g.run(
        [&](uint64_t e) {
          epochs.push_back(e);
          if (epochs.size() == 1) {
            // The primary dies mid-commit: the failover starts, the store
            // answers UNKNOWN_OUTCOME.
            g.begin();
            failover = std::thread([&] {
              std::this_thread::sleep_for(30ms);
              g.end(2);
            });
            return CallOutcome::kRetryable;
          }
          return CallOutcome::kOk;
        },
        5000, &timed_out);
    failover.join();
    CPPUNIT_ASSERT(r == CallOutcome::kOk);
    CPPUNIT_ASSERT_EQUAL(size_t(2), epochs.size());
    CPPUNIT_ASSERT_EQUAL(uint64_t(1), epochs[0]);
    CPPUNIT_ASSERT_EQUAL(uint64_t(2), epochs[1]);
  }

  void retryable_without_failover_is_returned() {
    WriteGate g(3);
    bool timed_out = false;
    int calls = 0;
    auto r = g.run([&](uint64_t) { ++calls; return CallOutcome::kRetryable; }, 1000, &timed_out);
    CPPUNIT_ASSERT(r == CallOutcome::kRetryable);
    CPPUNIT_ASSERT(!timed_out);
    CPPUNIT_ASSERT_EQUAL(1, calls);
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(WriteGateTest);
