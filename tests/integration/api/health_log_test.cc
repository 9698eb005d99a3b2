// HealthLog on its own (issue 16 item 6): a line per state change, a repeat
// count at most once per interval, reasons on one line. The daemon-level
// check (no body per poll) is AppApiTest::testHealthLogsStateChangesNotEveryPoll.
#include <cppunit/extensions/HelperMacros.h>

#include "api/health_log.h"

using kestrel::host::HealthLog;

namespace {

bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

}  // namespace

class HealthLogTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(HealthLogTest);
  CPPUNIT_TEST(one_line_per_change_and_a_repeat_per_interval);
  CPPUNIT_TEST_SUITE_END();

 public:
  void one_line_per_change_and_a_repeat_per_interval() {
    HealthLog log(std::chrono::seconds(60));
    const auto t0 = HealthLog::Clock::from_time_t(1700000000);  // 2023-11-14T22:13:20Z
    auto at = [&](int seconds) { return t0 + std::chrono::seconds(seconds); };
    const std::string down = "unhealthy: node a: cannot connect: refused\n\tIs the server running?";
    CPPUNIT_ASSERT(log.record({{"db", "started"}, {"repl", "started"}}, at(0)).empty());

    auto lines = log.record({{"db", "started"}, {"repl", down}}, at(1));
    CPPUNIT_ASSERT_EQUAL(size_t{1}, lines.size());
    CPPUNIT_ASSERT(lines[0].warning);
    CPPUNIT_ASSERT_EQUAL(std::string("health: component 'repl' unhealthy: node a: cannot connect: refused "
                                     "Is the server running?"),
                         lines[0].text);
    // Polled every 5 s for just under a minute: silence.
    for (int s = 6; s <= 60; s += 5) CPPUNIT_ASSERT(log.record({{"repl", down}}, at(s)).empty());
    // A minute after the last line: one repeat with the count and the start.
    lines = log.record({{"repl", down}}, at(61));
    CPPUNIT_ASSERT_EQUAL(size_t{1}, lines.size());
    CPPUNIT_ASSERT_MESSAGE(lines[0].text, contains(lines[0].text, "still unhealthy: 13 checks since 2023-11-14T22:13:21Z"));
    CPPUNIT_ASSERT(log.record({{"repl", down}}, at(66)).empty());
    // A different reason is a change: logged at once.
    lines = log.record({{"repl", "unhealthy: split brain"}}, at(70));
    CPPUNIT_ASSERT_EQUAL(size_t{1}, lines.size());
    CPPUNIT_ASSERT_MESSAGE(lines[0].text, contains(lines[0].text, "reason changed: unhealthy: split brain"));
    // Back: one INFO line with the count.
    lines = log.record({{"repl", "started"}}, at(75));
    CPPUNIT_ASSERT_EQUAL(size_t{1}, lines.size());
    CPPUNIT_ASSERT(!lines[0].warning);
    CPPUNIT_ASSERT_MESSAGE(lines[0].text,
                           contains(lines[0].text, "'repl' healthy again after 15 unhealthy checks since 2023-11-14T22:13:21Z"));
    CPPUNIT_ASSERT(log.record({{"repl", "started"}}, at(80)).empty());
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(HealthLogTest);
