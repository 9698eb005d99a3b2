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
};

CPPUNIT_TEST_SUITE_REGISTRATION(SchedulerTest);

}  // namespace kestrel::crawler
