// Scheduler: the total and per-origin caps hold under any completion order,
// origins are served round-robin, and robots.txt gates an origin's first URLs.
#include "scheduler.h"

#include <cppunit/extensions/HelperMacros.h>

#include <map>
#include <random>
#include <set>
#include <vector>

namespace kestrel::crawler {
namespace {

WorkItem item(int64_t id, const std::string& origin) {
  WorkItem w;
  w.id = id;
  w.origin = origin;
  w.url = origin + "/p" + std::to_string(id);
  return w;
}

}  // namespace

class SchedulerTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(SchedulerTest);
  CPPUNIT_TEST(testCapsHoldUnderRandomCompletion);
  CPPUNIT_TEST(testRoundRobinAcrossOrigins);
  CPPUNIT_TEST(testRobotsGateHoldsOriginUntilKnown);
  CPPUNIT_TEST(testClearQueuedKeepsInFlight);
  CPPUNIT_TEST(testDelaySpacesStartsPerOrigin);
  CPPUNIT_TEST(testRetryDefersOnlyItsOrigin);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testCapsHoldUnderRandomCompletion() {
    const size_t total_cap = 5, per_origin = 2;
    Scheduler s(total_cap, per_origin, false);
    const std::vector<std::string> origins = {"http://a", "http://b", "http://c:8080"};
    int64_t id = 0;
    for (int i = 0; i < 30; ++i)
      for (const auto& o : origins) s.push(item(++id, o));
    CPPUNIT_ASSERT_EQUAL(size_t{90}, s.queued());

    std::mt19937 rng(42);
    std::vector<WorkItem> running;
    std::set<int64_t> started;
    std::map<std::string, size_t> per;
    while (s.queued() > 0 || !running.empty()) {
      while (auto w = s.next()) {
        CPPUNIT_ASSERT(started.insert(w->id).second);  // each item handed out once
        ++per[w->origin];
        CPPUNIT_ASSERT(per[w->origin] <= per_origin);
        CPPUNIT_ASSERT_EQUAL(per[w->origin], s.in_flight(w->origin));
        running.push_back(*w);
      }
      CPPUNIT_ASSERT(running.size() <= total_cap);
      CPPUNIT_ASSERT_EQUAL(running.size(), s.in_flight());
      CPPUNIT_ASSERT(!running.empty());  // progress: something must be running while work waits
      // Finish a random running item.
      const size_t k = std::uniform_int_distribution<size_t>(0, running.size() - 1)(rng);
      --per[running[k].origin];
      s.release(running[k].origin);
      running.erase(running.begin() + static_cast<long>(k));
    }
    CPPUNIT_ASSERT_EQUAL(size_t{90}, started.size());
    CPPUNIT_ASSERT_EQUAL(size_t{0}, s.in_flight());
  }

  void testRoundRobinAcrossOrigins() {
    Scheduler s(100, 100, false);
    for (int64_t i = 1; i <= 3; ++i) s.push(item(i, "http://a"));
    for (int64_t i = 4; i <= 6; ++i) s.push(item(i, "http://b"));
    std::vector<std::string> order;
    while (auto w = s.next()) order.push_back(w->origin);
    const std::vector<std::string> expected = {"http://a", "http://b", "http://a", "http://b", "http://a", "http://b"};
    CPPUNIT_ASSERT(order == expected);
  }

  void testRobotsGateHoldsOriginUntilKnown() {
    Scheduler s(10, 4, true);
    s.push(item(1, "http://a"));
    s.push(item(2, "http://a"));
    auto robots = s.next();
    CPPUNIT_ASSERT(robots.has_value());
    CPPUNIT_ASSERT(robots->kind == UrlKind::Robots);
    CPPUNIT_ASSERT_EQUAL(std::string("http://a/robots.txt"), robots->url);
    CPPUNIT_ASSERT(!s.next().has_value());  // held while robots.txt is in flight
    s.release("http://a");
    CPPUNIT_ASSERT(!s.next().has_value());  // still held: not known yet
    s.robots_known("http://a");
    auto first = s.next();
    auto second = s.next();
    CPPUNIT_ASSERT(first && second);
    CPPUNIT_ASSERT_EQUAL(int64_t{1}, first->id);  // FIFO within an origin
    CPPUNIT_ASSERT_EQUAL(int64_t{2}, second->id);
    // A later item of a known origin needs no second robots.txt.
    s.push(item(3, "http://a"));
    auto third = s.next();
    CPPUNIT_ASSERT(third && third->kind == UrlKind::Page && third->id == 3);
  }

  void testClearQueuedKeepsInFlight() {
    Scheduler s(10, 10, false);
    for (int64_t i = 1; i <= 4; ++i) s.push(item(i, "http://a"));
    CPPUNIT_ASSERT(s.next().has_value());
    s.clear_queued();
    CPPUNIT_ASSERT_EQUAL(size_t{0}, s.queued());
    CPPUNIT_ASSERT_EQUAL(size_t{1}, s.in_flight());
    CPPUNIT_ASSERT(!s.next().has_value());
    s.release("http://a");
    CPPUNIT_ASSERT_EQUAL(size_t{0}, s.in_flight());
  }

  void testDelaySpacesStartsPerOrigin() {
    Scheduler s(10, 4, false);
    for (int i = 1; i <= 3; ++i) s.push(item(i, "http://a"));
    s.push(item(4, "http://b"));
    s.set_delay("http://a", 300);
    auto first = s.next(1000);
    CPPUNIT_ASSERT(first && first->origin == "http://a");
    auto second = s.next(1000);  // a waits until 1300; b has no delay
    CPPUNIT_ASSERT(second && second->origin == "http://b");
    CPPUNIT_ASSERT(!s.next(1000));
    CPPUNIT_ASSERT(!s.next(1299));
    CPPUNIT_ASSERT_EQUAL(int64_t{300}, s.wait_ms(1000));
    auto third = s.next(1300);  // free slots alone do not let it start early
    CPPUNIT_ASSERT(third && third->id == 2);
    CPPUNIT_ASSERT_EQUAL(int64_t{300}, s.wait_ms(1300));
    CPPUNIT_ASSERT(!s.next(1500));
    CPPUNIT_ASSERT(s.next(1600));
    CPPUNIT_ASSERT_EQUAL(int64_t{-1}, s.wait_ms(1600));  // nothing waits
  }

  void testRetryDefersOnlyItsOrigin() {
    Scheduler s(10, 4, false);
    s.push(item(1, "http://a"));
    s.push(item(2, "http://a"));
    s.push(item(3, "http://b"));
    auto a1 = s.next(0);
    CPPUNIT_ASSERT(a1 && a1->id == 1);
    s.release(a1->origin);
    s.retry(*a1, 5000);  // e.g. Retry-After: 5
    CPPUNIT_ASSERT_EQUAL(size_t{3}, s.queued());
    auto b = s.next(10);
    CPPUNIT_ASSERT(b && b->id == 3);  // b is not held back
    CPPUNIT_ASSERT(!s.next(10));      // a is, with the retried item first in line
    CPPUNIT_ASSERT_EQUAL(int64_t{4990}, s.wait_ms(10));
    auto again = s.next(5000);
    CPPUNIT_ASSERT(again && again->id == 1);
    s.defer("http://a", 6000);
    s.defer("http://a", 5500);  // an earlier deferral does not shorten a later one
    CPPUNIT_ASSERT(!s.next(5999));
    auto last = s.next(6000);
    CPPUNIT_ASSERT(last && last->id == 2);
    // A retry of the item alone (a timeout) holds back neither its origin nor others.
    s.push(item(7, "http://a"));
    s.retry(*last, 9000, false);
    auto next = s.next(6000);
    CPPUNIT_ASSERT(next && next->id == 7);
    CPPUNIT_ASSERT(!s.next(6000));
    CPPUNIT_ASSERT_EQUAL(int64_t{3000}, s.wait_ms(6000));
    auto retried = s.next(9000);
    CPPUNIT_ASSERT(retried && retried->id == 2);
    CPPUNIT_ASSERT_EQUAL(size_t{0}, s.queued());
    CPPUNIT_ASSERT_EQUAL(int64_t{-1}, s.wait_ms(9000));
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(SchedulerTest);

}  // namespace kestrel::crawler
