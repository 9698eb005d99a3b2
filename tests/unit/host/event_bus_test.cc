// The event service (ABI 1.3): delivery by topic and "*", per-publisher
// order from many threads, a slow subscriber that never blocks a publisher
// (its drops counted, other subscribers unaffected), unsubscribe waiting for
// a running callback, and handles that outlive their subscription.
#include <cppunit/extensions/HelperMacros.h>

#include <atomic>
#include <chrono>
#include <future>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "runtime/event_bus.h"
#include "runtime/metrics_registry.h"

using kestrel::host::Event;
using kestrel::host::EventBus;
using namespace std::chrono_literals;

namespace {

// Collects what a subscription receives.
struct Inbox {
  std::mutex mu;
  std::vector<Event> events;
  void add(const Event& e) {
    std::lock_guard<std::mutex> lock(mu);
    events.push_back(e);
  }
  size_t size() {
    std::lock_guard<std::mutex> lock(mu);
    return events.size();
  }
  // Waits (generous deadline: catches hangs only) until `n` arrived.
  bool wait_for(size_t n) {
    for (int i = 0; i < 3000 && size() < n; ++i) std::this_thread::sleep_for(10ms);
    return size() >= n;
  }
};

}  // namespace

class EventBusTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(EventBusTest);
  CPPUNIT_TEST(delivers_by_topic_and_wildcard);
  CPPUNIT_TEST(many_publishers_lose_nothing_and_keep_order);
  CPPUNIT_TEST(slow_subscriber_never_blocks_publisher);
  CPPUNIT_TEST(unsubscribe_waits_for_running_callback);
  CPPUNIT_TEST(owner_end_makes_handles_unknown);
  CPPUNIT_TEST(bad_topics_refused);
  CPPUNIT_TEST_SUITE_END();

 public:
  void delivers_by_topic_and_wildcard() {
    Inbox failovers, all;
    EventBus bus;
    std::string err;
    CPPUNIT_ASSERT(bus.subscribe("a", "failover", 0, [&](const Event& e) { failovers.add(e); }, &err));
    CPPUNIT_ASSERT(bus.subscribe("b", "*", 0, [&](const Event& e) { all.add(e); }, &err));
    CPPUNIT_ASSERT(bus.publish("node_down", "ha", R"({"node":"pg-a"})", &err));
    CPPUNIT_ASSERT(bus.publish("failover", "ha", R"({"from":"pg-a","to":"pg-b"})", &err));
    CPPUNIT_ASSERT(all.wait_for(2));
    CPPUNIT_ASSERT(failovers.wait_for(1));
    std::this_thread::sleep_for(50ms);
    CPPUNIT_ASSERT_EQUAL(size_t{1}, failovers.size());
    CPPUNIT_ASSERT_EQUAL(std::string("failover"), failovers.events[0].topic);
    CPPUNIT_ASSERT_EQUAL(std::string("ha"), failovers.events[0].source);
    CPPUNIT_ASSERT_EQUAL(std::string(R"({"from":"pg-a","to":"pg-b"})"), failovers.events[0].json);
    CPPUNIT_ASSERT_EQUAL(std::string("node_down"), all.events[0].topic);
    CPPUNIT_ASSERT_EQUAL(std::string("failover"), all.events[1].topic);
  }

  void many_publishers_lose_nothing_and_keep_order() {
    Inbox inbox;
    EventBus bus;
    std::string err;
    constexpr int kThreads = 4, kEach = 2000;
    CPPUNIT_ASSERT(bus.subscribe("s", "tick", kThreads * kEach, [&](const Event& e) { inbox.add(e); }, &err));
    std::vector<std::thread> publishers;
    for (int t = 0; t < kThreads; ++t)
      publishers.emplace_back([&, t] {
        std::string e;
        for (int i = 0; i < kEach; ++i) bus.publish("tick", "p" + std::to_string(t), std::to_string(i), &e);
      });
    for (auto& p : publishers) p.join();
    CPPUNIT_ASSERT(inbox.wait_for(kThreads * kEach));
    std::map<std::string, int> next;
    for (const auto& e : inbox.events) {
      CPPUNIT_ASSERT_EQUAL_MESSAGE("order of publisher " + e.source, next[e.source], std::stoi(e.json));
      ++next[e.source];
    }
    CPPUNIT_ASSERT_EQUAL(size_t{kThreads}, next.size());
  }

  void slow_subscriber_never_blocks_publisher() {
    std::promise<void> release, entered;
    std::shared_future<void> released = release.get_future().share();
    std::atomic<bool> first{true};
    Inbox fast;
    EventBus bus;  // declared last: destroyed (threads joined) before what its callbacks touch
    std::string err;
    const EventBus::Id slow = bus.subscribe("slow", "tick", 10,
                                            [&](const Event&) {
                                              if (first.exchange(false)) {
                                                entered.set_value();
                                                released.wait();  // blocked until the publisher is done
                                              }
                                            },
                                            &err);
    CPPUNIT_ASSERT(slow != 0);
    CPPUNIT_ASSERT(bus.subscribe("fast", "tick", 2000, [&](const Event& e) { fast.add(e); }, &err));
    CPPUNIT_ASSERT(bus.publish("tick", "p", "0", &err));
    CPPUNIT_ASSERT(entered.get_future().wait_for(30s) == std::future_status::ready);
    // 999 more while the slow callback is blocked: 10 fit its queue, 989 drop.
    auto publisher = std::async(std::launch::async, [&] {
      std::string e;
      for (int i = 1; i < 1000; ++i) bus.publish("tick", "p", std::to_string(i), &e);
    });
    const bool finished = publisher.wait_for(30s) == std::future_status::ready;
    release.set_value();
    CPPUNIT_ASSERT_MESSAGE("publish blocked behind a slow subscriber", finished);
    CPPUNIT_ASSERT_EQUAL(uint64_t{989}, EventBus::dropped(slow));
    CPPUNIT_ASSERT(fast.wait_for(1000));
    const std::string text = kestrel::host::MetricsRegistry::global().render_prometheus();
    CPPUNIT_ASSERT_MESSAGE(text, text.find("kestrel_events_dropped_total{component=\"slow\",topic=\"tick\"} 989") !=
                                     std::string::npos);
  }

  void unsubscribe_waits_for_running_callback() {
    std::atomic<int> calls{0};
    std::atomic<bool> inside{false}, finished{false};
    EventBus bus;
    std::string err;
    const EventBus::Id id = bus.subscribe("s", "t", 0,
                                          [&](const Event&) {
                                            ++calls;
                                            inside = true;
                                            std::this_thread::sleep_for(200ms);
                                            finished = true;
                                          },
                                          &err);
    bus.publish("t", "p", "{}", &err);
    for (int i = 0; i < 3000 && !inside; ++i) std::this_thread::sleep_for(1ms);
    CPPUNIT_ASSERT(inside);
    bus.publish("t", "p", "{}", &err);  // queued behind the running callback, dropped by unsubscribe
    EventBus::unsubscribe(id);
    CPPUNIT_ASSERT_MESSAGE("unsubscribe returned while its callback ran", finished.load());
    bus.publish("t", "p", "{}", &err);
    std::this_thread::sleep_for(100ms);
    CPPUNIT_ASSERT_EQUAL(1, calls.load());
  }

  void owner_end_makes_handles_unknown() {
    std::atomic<int> calls{0};
    EventBus bus;
    std::string err;
    const EventBus::Id a = bus.subscribe("c", "t", 0, [&](const Event&) { ++calls; }, &err);
    const EventBus::Id b = bus.subscribe("c", "*", 0, [&](const Event&) { ++calls; }, &err);
    CPPUNIT_ASSERT(bus.subscribe("other", "t", 0, [](const Event&) {}, &err));
    CPPUNIT_ASSERT_EQUAL(size_t{2}, bus.unsubscribe_owner("c"));
    bus.publish("t", "p", "{}", &err);
    std::this_thread::sleep_for(50ms);
    CPPUNIT_ASSERT_EQUAL(0, calls.load());
    // The component's own RAII handle ends later: a no-op, never a crash.
    EventBus::unsubscribe(a);
    EventBus::unsubscribe(b);
    CPPUNIT_ASSERT_EQUAL(uint64_t{0}, EventBus::dropped(a));
    CPPUNIT_ASSERT_EQUAL(size_t{0}, bus.unsubscribe_owner("c"));
  }

  void bad_topics_refused() {
    EventBus bus;
    std::string err;
    CPPUNIT_ASSERT(!bus.publish("Fail Over", "p", "{}", &err));
    CPPUNIT_ASSERT_MESSAGE(err, err.find("[a-z0-9_.]") != std::string::npos);
    CPPUNIT_ASSERT(!bus.publish("*", "p", "{}", &err));
    CPPUNIT_ASSERT(!bus.publish("", "p", "{}", &err));
    CPPUNIT_ASSERT_EQUAL(EventBus::Id{0}, bus.subscribe("s", "a..b.", 0, [](const Event&) {}, &err));
    CPPUNIT_ASSERT(bus.subscribe("s", "backup_finished", 0, [](const Event&) {}, &err) != 0);
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(EventBusTest);
