// The crawler's Scheduler (plugins/crawler-http/scheduler.h): politeness
// between request starts to one origin, with and without robots.txt.
#include <cppunit/extensions/HelperMacros.h>

#include "scheduler.h"

namespace kestrel::crawler {

namespace {

WorkItem page(const std::string& origin, const std::string& path) {
  WorkItem w;
  w.origin = origin;
  w.url = origin + path;
  w.kind = UrlKind::Page;
  return w;
}

}  // namespace

class SchedulerTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(SchedulerTest);
  CPPUNIT_TEST(perHostDelayHoldsWithoutRobots);
  CPPUNIT_TEST(setDelayReplacesTheDefault);
  CPPUNIT_TEST(robotsFirstHandsOutRobotsTxtOnce);
  CPPUNIT_TEST_SUITE_END();

 public:
  // per_host_delay is a floor for every origin, also when robots.txt is
  // off (no robots fetch ever sets the delay).
  void perHostDelayHoldsWithoutRobots() {
    Scheduler s(8, 8, /*robots_first=*/false, /*default_delay_ms=*/50);
    s.push(page("http://a", "/1"));
    s.push(page("http://a", "/2"));
    s.push(page("http://b", "/1"));
    auto first = s.next(1000);
    CPPUNIT_ASSERT(first && first->origin == "http://a");
    auto other = s.next(1000);  // another origin is not held back
    CPPUNIT_ASSERT(other && other->origin == "http://b");
    CPPUNIT_ASSERT(!s.next(1049));
    CPPUNIT_ASSERT_EQUAL(int64_t{1}, s.wait_ms(1049));
    auto second = s.next(1050);
    CPPUNIT_ASSERT(second && second->url == "http://a/2");
  }

  void setDelayReplacesTheDefault() {
    Scheduler s(8, 8, false, 50);
    s.set_delay("http://a", 0);
    s.push(page("http://a", "/1"));
    s.push(page("http://a", "/2"));
    CPPUNIT_ASSERT(s.next(0));
    CPPUNIT_ASSERT(s.next(0));
  }

  void robotsFirstHandsOutRobotsTxtOnce() {
    Scheduler s(8, 8, true, 0);
    s.push(page("http://a", "/1"));
    auto robots = s.next(0);
    CPPUNIT_ASSERT(robots && robots->kind == UrlKind::Robots && robots->url == "http://a/robots.txt");
    CPPUNIT_ASSERT(!s.next(0));  // held until robots.txt is known
    s.release("http://a");
    s.robots_known("http://a");
    auto item = s.next(0);
    CPPUNIT_ASSERT(item && item->url == "http://a/1");
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(SchedulerTest);

}  // namespace kestrel::crawler
