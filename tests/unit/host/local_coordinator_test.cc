// The local coordinator (kestrel.coordinator.v1) over the host's real
// key-value store, through the C table (CoordinatorClient): two runtimes
// opened on one data dir play two kestreld processes started by mistake on
// one host-state.db. One lease holder at a time, taken over only after its TTL,
// freed by release; the state changed only by compare-and-set (a stale
// version loses and changes nothing); watch wakes on a change and times out
// without one; a state that is not a JSON object is refused.
#include <cppunit/extensions/HelperMacros.h>

#include <kestrel/plugin.hpp>

#include <chrono>
#include <thread>

#include "config/component_graph.h"
#include "ha/local_coordinator.h"
#include "host_test_util.h"
#include "loader/plugin_registry.h"
#include "runtime/component_runtime.h"

using namespace kestrel;
using namespace kestrel::host;
using namespace std::chrono_literals;

namespace {

const char* const kYaml = "components:\n  coord:\n    type: coordinator-local\n";

template <typename F>
kestrel_result code_of(F f) {
  try {
    f();
  } catch (const Error& e) {
    return e.code();
  }
  return KESTREL_OK;
}

}  // namespace

class LocalCoordinatorTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(LocalCoordinatorTest);
  CPPUNIT_TEST(one_leader_until_ttl_or_release);
  CPPUNIT_TEST(state_changes_only_by_compare_and_set);
  CPPUNIT_TEST(watch_wakes_on_change_and_times_out);
  CPPUNIT_TEST_SUITE_END();

 public:
  void setUp() override {
    registry_ = std::make_unique<PluginRegistry>(ComponentRuntime::host_api(), "test");
    CPPUNIT_ASSERT(registry_->load_builtin("coordinator-local", &ha::coordinator_local_negotiate));
  }

  // A runtime with one coordinator-local component over `data_dir`.
  std::unique_ptr<ComponentRuntime> runtime(const std::string& data_dir) {
    ConfigErrors errors;
    docs_.push_back(ConfigDocument::load_text(kYaml, "test.yaml", data_dir, &errors));
    CPPUNIT_ASSERT_MESSAGE(test::dump(errors), docs_.back() && errors.empty());
    ComponentGraph g = build_component_graph(*docs_.back(), *registry_, data_dir, &errors);
    CPPUNIT_ASSERT_MESSAGE(test::dump(errors), errors.empty());
    auto rt = std::make_unique<ComponentRuntime>(std::move(g), NodeSettings{"n1", data_dir}, data_dir);
    std::vector<std::string> errs;
    CPPUNIT_ASSERT(rt->create_all(&errs));
    std::string err;
    CPPUNIT_ASSERT_MESSAGE(err, rt->start_all(&err));
    return rt;
  }
  CoordinatorClient client(ComponentRuntime& rt) {
    return CoordinatorClient(rt.interface_of("coord", KESTREL_IFACE_COORDINATOR_V1));
  }

  void one_leader_until_ttl_or_release() {
    test::TempDir dir("coord");
    auto rt1 = runtime(dir.path());
    auto rt2 = runtime(dir.path());  // a second process on the same host-state.db
    CoordinatorClient one = client(*rt1), two = client(*rt2);
    const Lease a = one.acquire("a", 60000);
    CPPUNIT_ASSERT(a.is_leader);
    CPPUNIT_ASSERT(a.until_us > 0);
    CPPUNIT_ASSERT(!two.acquire("b", 60000).is_leader);  // a holds it
    CPPUNIT_ASSERT(one.acquire("a", 60000).is_leader);    // renewal
    two.release("b");                                     // not b's: no effect
    CPPUNIT_ASSERT(!two.acquire("b", 60000).is_leader);
    one.release("a");
    CPPUNIT_ASSERT(two.acquire("b", 200).is_leader);  // freed: b takes it, for 200 ms
    CPPUNIT_ASSERT(!one.acquire("a", 60000).is_leader);
    std::this_thread::sleep_for(300ms);  // b did not renew: expired
    CPPUNIT_ASSERT(one.acquire("a", 60000).is_leader);
    CPPUNIT_ASSERT(!two.acquire("b", 60000).is_leader);
    CPPUNIT_ASSERT_EQUAL(KESTREL_ERR_INVALID, code_of([&] { one.acquire("", 1000); }));
  }

  void state_changes_only_by_compare_and_set() {
    test::TempDir dir("coord");
    auto rt1 = runtime(dir.path());
    auto rt2 = runtime(dir.path());
    CoordinatorClient one = client(*rt1), two = client(*rt2);
    uint64_t v = 99;
    CPPUNIT_ASSERT_EQUAL(std::string("{}"), one.get_state(&v));
    CPPUNIT_ASSERT_EQUAL(uint64_t{0}, v);
    const uint64_t v1 = one.compare_and_set(0, R"({"epoch":1,"primary":"a"})");
    CPPUNIT_ASSERT(v1 > 0);
    // The second process still believes the state was never set: it loses.
    CPPUNIT_ASSERT_EQUAL(KESTREL_ERR_CONFLICT, code_of([&] { two.compare_and_set(0, R"({"epoch":1,"primary":"b"})"); }));
    CPPUNIT_ASSERT_EQUAL(std::string(R"({"epoch":1,"primary":"a"})"), two.get_state(&v));
    CPPUNIT_ASSERT_EQUAL(v1, v);
    const uint64_t v2 = two.compare_and_set(v1, R"({"epoch":2,"primary":"b"})");
    CPPUNIT_ASSERT(v2 > v1);
    CPPUNIT_ASSERT_EQUAL(KESTREL_ERR_CONFLICT, code_of([&] { one.compare_and_set(v1, R"({"epoch":2,"primary":"c"})"); }));
    CPPUNIT_ASSERT_EQUAL(KESTREL_ERR_INVALID, code_of([&] { one.compare_and_set(v2, "epoch 3"); }));
    CPPUNIT_ASSERT_EQUAL(std::string(R"({"epoch":2,"primary":"b"})"), one.get_state(&v));
    CPPUNIT_ASSERT_EQUAL(v2, v);
  }

  void watch_wakes_on_change_and_times_out() {
    test::TempDir dir("coord");
    auto rt1 = runtime(dir.path());
    auto rt2 = runtime(dir.path());
    CoordinatorClient one = client(*rt1), two = client(*rt2);
    const uint64_t v1 = one.compare_and_set(0, R"({"epoch":1})");
    CPPUNIT_ASSERT_EQUAL(KESTREL_ERR_TIMEOUT, code_of([&] { one.watch(v1, 100); }));
    CPPUNIT_ASSERT_EQUAL(v1, one.watch(0, 100));  // already past 0
    uint64_t v2 = 0;
    std::thread writer([&] {
      std::this_thread::sleep_for(100ms);
      v2 = two.compare_and_set(v1, R"({"epoch":2})");  // the other process
    });
    const uint64_t seen = one.watch(v1, 10000);
    writer.join();
    CPPUNIT_ASSERT_EQUAL(v2, seen);
  }

 private:
  std::unique_ptr<PluginRegistry> registry_;
  std::vector<std::unique_ptr<ConfigDocument>> docs_;
};

CPPUNIT_TEST_SUITE_REGISTRATION(LocalCoordinatorTest);
