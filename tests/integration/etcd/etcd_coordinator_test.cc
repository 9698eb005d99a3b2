// The coordinator-etcd plugin (kestrel.coordinator.v1) against a real
// single-member etcd: the .so loaded by the host's PluginRegistry, each
// "daemon" a ComponentRuntime of its own built from YAML, called through the
// C table (CoordinatorClient). One leader among contenders; a renewing
// leader stays; a leader that stops renewing is replaced only after its
// lease ran out; release frees the lease at once; the state changes only by
// compare-and-set and its version only grows; watch wakes on another
// client's change and times out without one; a stopped etcd gives
// UNAVAILABLE and the calls work again once it is back. Deadlines are
// generous: a slow machine may delay a takeover, never make one early.
// Each call's duration is printed ("etcd call <name>: N ms").
#include <cppunit/extensions/HelperMacros.h>

#include <kestrel/plugin.hpp>

#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Timestamp.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "config/component_graph.h"
#include "config/config_document.h"
#include "etcd_server.h"
#include "kestrel/test/paths.h"
#include "kestrel/test/ports.h"
#include "kestrel/test/temp_dir.h"
#include "loader/plugin_registry.h"
#include "runtime/component_runtime.h"

using namespace kestrel;
using namespace kestrel::host;
using namespace std::chrono_literals;

namespace {

int64_t now_us() { return Poco::Timestamp().epochMicroseconds(); }

template <typename F>
kestrel_result code_of(F f, std::string* message = nullptr) {
  try {
    f();
  } catch (const Error& e) {
    if (message) *message = e.what();
    return e.code();
  }
  return KESTREL_OK;
}

// Runs f, printing its duration; returns its result.
template <typename F>
auto timed(const char* name, F f) -> decltype(f()) {
  const auto t0 = std::chrono::steady_clock::now();
  struct Print {
    const char* name;
    std::chrono::steady_clock::time_point t0;
    ~Print() {
      const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      std::fprintf(stderr, "etcd call %s: %.2f ms\n", name, ms);
    }
  } print{name, t0};
  return f();
}

std::string dump(const ConfigErrors& errors) {
  std::string s;
  for (const auto& e : errors) s += e.message + "\n";
  return s;
}

}  // namespace

class EtcdCoordinatorTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(EtcdCoordinatorTest);
  CPPUNIT_TEST(contenders_get_exactly_one_leader);
  CPPUNIT_TEST(renewing_leader_stays);
  CPPUNIT_TEST(takeover_only_after_the_lease_ran_out);
  CPPUNIT_TEST(release_lets_the_other_in_at_once);
  CPPUNIT_TEST(state_changes_only_by_compare_and_set);
  CPPUNIT_TEST(watch_wakes_on_change_and_times_out);
  CPPUNIT_TEST(stopped_etcd_is_unavailable_until_it_returns);
  CPPUNIT_TEST(silent_endpoint_costs_one_request_timeout);
  CPPUNIT_TEST_SUITE_END();

 public:
  void setUp() override {
    registry_ = std::make_unique<PluginRegistry>(ComponentRuntime::host_api(), "test");
    CPPUNIT_ASSERT(registry_->load_file(test::plugin_dir() + "/kestrel-coordinator-etcd.so"));
    etcd_ = std::make_unique<test::EtcdServer>();
    etcd_->start();
  }
  void tearDown() override {
    runtimes_.clear();
    etcd_.reset();  // SIGKILL by PID, also after a failed assertion
    docs_.clear();
    registry_.reset();
  }

  // A "daemon": a runtime with one coordinator-etcd component `coord`.
  CoordinatorClient daemon(const std::string& endpoints = "") {
    const std::string yaml = "components:\n  coord:\n    type: coordinator-etcd\n    endpoints: [" +
                             (endpoints.empty() ? etcd_->client_url() : endpoints) +
                             "]\n    prefix: /kestrel-test/\n    request_timeout: 1s\n";
    ConfigErrors errors;
    docs_.push_back(ConfigDocument::load_text(yaml, "test.yaml", dir_.path(), &errors));
    CPPUNIT_ASSERT_MESSAGE(dump(errors), docs_.back() && errors.empty());
    ComponentGraph g = build_component_graph(*docs_.back(), *registry_, dir_.path(), &errors);
    CPPUNIT_ASSERT_MESSAGE(dump(errors), errors.empty());
    auto rt = std::make_unique<ComponentRuntime>(std::move(g), NodeSettings{"n1", dir_.path()}, dir_.path());
    std::vector<std::string> errs;
    CPPUNIT_ASSERT(rt->create_all(&errs));
    std::string err;
    CPPUNIT_ASSERT_MESSAGE(err, rt->start_all(&err));
    CoordinatorClient c(rt->interface_of("coord", KESTREL_IFACE_COORDINATOR_V1));
    CPPUNIT_ASSERT(c);
    runtimes_.push_back(std::move(rt));
    return c;
  }

  void contenders_get_exactly_one_leader() {
    CoordinatorClient one = daemon(), two = daemon(), three = daemon();
    for (int round = 0; round < 3; ++round) {
      Lease a, b, c;
      std::thread ta([&] { a = timed("acquire (contended)", [&] { return one.acquire("a", 10000); }); });
      std::thread tb([&] { b = two.acquire("b", 10000); });
      std::thread tc([&] { c = three.acquire("c", 10000); });
      ta.join();
      tb.join();
      tc.join();
      CPPUNIT_ASSERT_EQUAL(1, int(a.is_leader) + int(b.is_leader) + int(c.is_leader));
      for (const Lease* l : {&a, &b, &c}) CPPUNIT_ASSERT_EQUAL(l->is_leader, l->until_us > 0);
      // The winner frees it for the next round.
      if (a.is_leader) one.release("a");
      if (b.is_leader) two.release("b");
      if (c.is_leader) three.release("c");
    }
    CPPUNIT_ASSERT_EQUAL(KESTREL_ERR_INVALID, code_of([&] { one.acquire("", 1000); }));
  }

  void renewing_leader_stays() {
    CoordinatorClient one = daemon(), two = daemon();
    const int64_t sent = now_us();
    Lease a = timed("acquire (grant)", [&] { return one.acquire("a", 2000); });
    CPPUNIT_ASSERT(a.is_leader);
    // Whole seconds from the time the request was sent: never past etcd's expiry.
    CPPUNIT_ASSERT(a.until_us >= sent + 2000000 && a.until_us <= now_us() + 2000000);
    const auto end = std::chrono::steady_clock::now() + 5s;  // more than twice the TTL
    while (std::chrono::steady_clock::now() < end) {
      std::this_thread::sleep_for(500ms);
      const Lease r = timed("acquire (renew)", [&] { return one.acquire("a", 2000); });
      CPPUNIT_ASSERT(r.is_leader);
      CPPUNIT_ASSERT(r.until_us > a.until_us);
      a = r;
      CPPUNIT_ASSERT(!timed("acquire (refused)", [&] { return two.acquire("b", 2000); }).is_leader);
    }
  }

  void takeover_only_after_the_lease_ran_out() {
    CoordinatorClient one = daemon(), two = daemon();
    const Lease a = one.acquire("a", 2000);
    CPPUNIT_ASSERT(a.is_leader);
    // a stops renewing. b asks every 200 ms: refused while a's lease runs,
    // granted only once etcd expired it (after a's until_us), within 15 s.
    int refused = 0;
    int64_t granted_at = 0;
    Lease b;
    const int64_t give_up = a.until_us + 15000000;
    while (now_us() < give_up) {
      b = two.acquire("b", 2000);
      const int64_t answered = now_us();
      if (b.is_leader) {
        granted_at = answered;
        break;
      }
      ++refused;
      std::this_thread::sleep_for(200ms);
    }
    CPPUNIT_ASSERT_MESSAGE("b never got the lease after a's expired", granted_at != 0);
    CPPUNIT_ASSERT_MESSAGE("b got the lease before a's until_us", granted_at >= a.until_us);
    CPPUNIT_ASSERT(refused >= 3);  // it was refused while a held it (2 s at 200 ms steps)
    std::fprintf(stderr, "takeover: %.2f s after a's until_us, %d refusals before\n",
                 double(granted_at - a.until_us) / 1e6, refused);
    // The old leader, returning, is refused: its lease is gone.
    CPPUNIT_ASSERT(!one.acquire("a", 2000).is_leader);
    CPPUNIT_ASSERT(two.acquire("b", 2000).is_leader);
  }

  void release_lets_the_other_in_at_once() {
    CoordinatorClient one = daemon(), two = daemon();
    CPPUNIT_ASSERT(one.acquire("a", 60000).is_leader);
    CPPUNIT_ASSERT(!two.acquire("b", 60000).is_leader);
    timed("release (not held)", [&] { two.release("b"); });  // not b's: no effect
    CPPUNIT_ASSERT(!two.acquire("b", 60000).is_leader);
    CPPUNIT_ASSERT(one.acquire("a", 60000).is_leader);
    timed("release", [&] { one.release("a"); });
    one.release("a");  // idempotent
    const Lease b = two.acquire("b", 60000);  // at once, not after 60 s
    CPPUNIT_ASSERT(b.is_leader);
    CPPUNIT_ASSERT(!one.acquire("a", 60000).is_leader);
  }

  void state_changes_only_by_compare_and_set() {
    CoordinatorClient one = daemon(), two = daemon();
    uint64_t v = 99;
    CPPUNIT_ASSERT_EQUAL(std::string("{}"), timed("get_state (unset)", [&] { return one.get_state(&v); }));
    CPPUNIT_ASSERT_EQUAL(uint64_t{0}, v);
    const uint64_t v1 = timed("compare_and_set", [&] { return one.compare_and_set(0, R"({"epoch":1,"primary":"a"})"); });
    CPPUNIT_ASSERT(v1 > 0);
    // The second daemon still believes the state was never set: it loses.
    std::string msg;
    CPPUNIT_ASSERT_EQUAL(KESTREL_ERR_CONFLICT, timed("compare_and_set (conflict)", [&] {
                           return code_of([&] { two.compare_and_set(0, R"({"epoch":1,"primary":"b"})"); }, &msg);
                         }));
    CPPUNIT_ASSERT_MESSAGE(msg, msg.find(std::to_string(v1)) != std::string::npos);
    CPPUNIT_ASSERT_EQUAL(std::string(R"({"epoch":1,"primary":"a"})"), timed("get_state", [&] { return two.get_state(&v); }));
    CPPUNIT_ASSERT_EQUAL(v1, v);
    // Unrelated writes to etcd (the leader key) move its revision: versions still only grow.
    CPPUNIT_ASSERT(one.acquire("a", 10000).is_leader);
    const uint64_t v2 = two.compare_and_set(v1, R"({"epoch":2,"primary":"b"})");
    CPPUNIT_ASSERT(v2 > v1);
    CPPUNIT_ASSERT_EQUAL(KESTREL_ERR_CONFLICT, code_of([&] { one.compare_and_set(v1, R"({"epoch":2,"primary":"c"})"); }));
    CPPUNIT_ASSERT_EQUAL(KESTREL_ERR_CONFLICT, code_of([&] { one.compare_and_set(v2 + 100, R"({"epoch":9})"); }));
    CPPUNIT_ASSERT_EQUAL(KESTREL_ERR_INVALID, code_of([&] { one.compare_and_set(v2, "epoch 3"); }));
    CPPUNIT_ASSERT_EQUAL(std::string(R"({"epoch":2,"primary":"b"})"), one.get_state(&v));
    CPPUNIT_ASSERT_EQUAL(v2, v);
    const uint64_t v3 = one.compare_and_set(v2, R"({"epoch":3,"primary":"a"})");
    CPPUNIT_ASSERT(v3 > v2);
  }

  void watch_wakes_on_change_and_times_out() {
    CoordinatorClient one = daemon(), two = daemon();
    const uint64_t v1 = one.compare_and_set(0, R"({"epoch":1})");
    const auto t0 = std::chrono::steady_clock::now();
    CPPUNIT_ASSERT_EQUAL(KESTREL_ERR_TIMEOUT, timed("watch (300 ms timeout)", [&] {
                           return code_of([&] { one.watch(v1, 300); });
                         }));
    const auto waited = std::chrono::steady_clock::now() - t0;
    CPPUNIT_ASSERT(waited >= 250ms && waited < 3s);
    CPPUNIT_ASSERT_EQUAL(v1, timed("watch (already past)", [&] { return one.watch(0, 100); }));
    CPPUNIT_ASSERT_EQUAL(KESTREL_ERR_TIMEOUT, code_of([&] { one.watch(v1, 0); }));
    uint64_t v2 = 0;
    std::thread writer([&] {
      std::this_thread::sleep_for(300ms);
      v2 = two.compare_and_set(v1, R"({"epoch":2})");  // the other daemon
    });
    const auto t1 = std::chrono::steady_clock::now();
    const uint64_t seen = timed("watch (woken by another client, write after 300 ms)", [&] { return one.watch(v1, 20000); });
    const auto woke = std::chrono::steady_clock::now() - t1;
    writer.join();
    CPPUNIT_ASSERT_EQUAL(v2, seen);
    CPPUNIT_ASSERT(woke < 10s);  // woken by the change, not by the 20 s timeout
    // A change to another key (the leader's) does not wake it.
    CPPUNIT_ASSERT(one.acquire("a", 10000).is_leader);
    CPPUNIT_ASSERT_EQUAL(KESTREL_ERR_TIMEOUT, code_of([&] { two.watch(v2, 300); }));
  }

  void stopped_etcd_is_unavailable_until_it_returns() {
    // A dead endpoint first: the client fails over to the live one.
    const std::string dead = "http://127.0.0.1:" + std::to_string(test::free_loopback_port());
    CoordinatorClient one = daemon(dead + ", " + etcd_->client_url()), two = daemon();
    const uint64_t v1 = timed("compare_and_set (after a dead endpoint)", [&] { return one.compare_and_set(0, R"({"epoch":1})"); });
    CPPUNIT_ASSERT(one.acquire("a", 5000).is_leader);
    etcd_->stop();
    std::string msg;
    uint64_t v = 0;
    for (const auto& call : std::vector<std::pair<const char*, std::function<void()>>>{
             {"acquire", [&] { one.acquire("a", 5000); }},
             {"release", [&] { one.release("a"); }},
             {"get_state", [&] { one.get_state(&v); }},
             {"compare_and_set", [&] { one.compare_and_set(v1, R"({"epoch":2})"); }},
             {"watch", [&] { one.watch(v1, 500); }}}) {
      const auto t0 = std::chrono::steady_clock::now();
      bool retryable = false;
      kestrel_result r = KESTREL_OK;
      try {
        call.second();
      } catch (const Error& e) {
        r = e.code();
        retryable = e.retryable();
        msg = e.what();
      }
      const auto took = std::chrono::steady_clock::now() - t0;
      std::fprintf(stderr, "etcd call %s (etcd stopped): %.2f ms: %s\n", call.first,
                   std::chrono::duration<double, std::milli>(took).count(), msg.c_str());
      CPPUNIT_ASSERT_EQUAL_MESSAGE(call.first, KESTREL_ERR_UNAVAILABLE, r);
      CPPUNIT_ASSERT_MESSAGE(msg, retryable);
      CPPUNIT_ASSERT_MESSAGE(msg, msg.find(dead) != std::string::npos && msg.find(etcd_->client_url()) != std::string::npos);
      CPPUNIT_ASSERT(took < 5s);  // two endpoints × request_timeout 1 s, and refused at once here
    }
    etcd_->start();
    CPPUNIT_ASSERT_EQUAL(std::string(R"({"epoch":1})"), two.get_state(&v));  // kept across the restart
    CPPUNIT_ASSERT_EQUAL(v1, v);
    const uint64_t v2 = one.compare_and_set(v1, R"({"epoch":2})");
    CPPUNIT_ASSERT(v2 > v1);
    // The lease: a renews or re-takes it; b never holds it at the same time.
    const Lease a = one.acquire("a", 5000);
    const Lease b = two.acquire("b", 5000);
    CPPUNIT_ASSERT_EQUAL(1, int(a.is_leader) + int(b.is_leader));
    CPPUNIT_ASSERT_EQUAL(v2, two.watch(v1, 1000));
  }

  // An endpoint that accepts connections but never answers (a listening
  // socket nobody serves): each request gives up on it after
  // request_timeout (1 s here) and goes on to the next endpoint.
  void silent_endpoint_costs_one_request_timeout() {
    Poco::Net::ServerSocket silent(Poco::Net::SocketAddress("127.0.0.1", 0));
    const std::string url = "http://127.0.0.1:" + std::to_string(silent.address().port());
    CoordinatorClient only_silent = daemon(url), failover = daemon(url + ", " + etcd_->client_url());
    uint64_t v = 0;
    auto t0 = std::chrono::steady_clock::now();
    std::string msg;
    CPPUNIT_ASSERT_EQUAL(KESTREL_ERR_UNAVAILABLE, code_of([&] { only_silent.get_state(&v); }, &msg));
    auto took = std::chrono::steady_clock::now() - t0;
    std::fprintf(stderr, "etcd call get_state (silent endpoint): %.2f ms: %s\n",
                 std::chrono::duration<double, std::milli>(took).count(), msg.c_str());
    CPPUNIT_ASSERT_MESSAGE(msg, msg.find("timed out") != std::string::npos && msg.find(url) != std::string::npos);
    CPPUNIT_ASSERT(took >= 900ms && took < 5s);
    t0 = std::chrono::steady_clock::now();
    CPPUNIT_ASSERT_EQUAL(std::string("{}"), failover.get_state(&v));
    took = std::chrono::steady_clock::now() - t0;
    std::fprintf(stderr, "etcd call get_state (silent endpoint, then etcd): %.2f ms\n",
                 std::chrono::duration<double, std::milli>(took).count());
    CPPUNIT_ASSERT(took >= 900ms && took < 5s);
    // The next request starts with the endpoint that answered.
    t0 = std::chrono::steady_clock::now();
    failover.get_state(&v);
    CPPUNIT_ASSERT(std::chrono::steady_clock::now() - t0 < 900ms);
  }

 private:
  test::TempDir dir_{"coord-etcd"};
  std::unique_ptr<PluginRegistry> registry_;
  std::unique_ptr<test::EtcdServer> etcd_;
  std::vector<std::unique_ptr<ConfigDocument>> docs_;
  std::vector<std::unique_ptr<ComponentRuntime>> runtimes_;
};

CPPUNIT_TEST_SUITE_REGISTRATION(EtcdCoordinatorTest);
