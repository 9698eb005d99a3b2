// The ABI 1.3 services through the C table a plugin sees (kestrel_host_api),
// on a real ComponentRuntime: key-value namespaces per component and their
// survival across a restart of the runtime, events between components and
// subscriptions the host ends at stop, process_run refused outside
// start..stop.
#include <cppunit/extensions/HelperMacros.h>

#include <kestrel/plugin.hpp>

#include <atomic>
#include <chrono>
#include <thread>

#include "config/component_graph.h"
#include "host_test_util.h"
#include "loader/plugin_registry.h"
#include "runtime/component_runtime.h"

using namespace kestrel::host;
using namespace std::chrono_literals;

namespace {

const char* const kYaml =
    "components:\n"
    "  a:\n    type: test-node\n"
    "  b:\n    type: test-node\n";

int append(void* sink, const char* data, size_t n) {
  static_cast<std::string*>(sink)->append(data, n);
  return 0;
}

}  // namespace

class HostServicesTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(HostServicesTest);
  CPPUNIT_TEST(table_has_every_1_3_service);
  CPPUNIT_TEST(kv_per_component_and_across_restart);
  CPPUNIT_TEST(events_between_components_end_at_stop);
  CPPUNIT_TEST(process_run_only_while_started);
  CPPUNIT_TEST_SUITE_END();

 public:
  void setUp() override {
    registry_ = std::make_unique<PluginRegistry>(ComponentRuntime::host_api(), "test");
    CPPUNIT_ASSERT(registry_->load_file(kestrel::test::test_plugin_dir() + "/kestrel-test-good.so"));
  }

  std::unique_ptr<ComponentRuntime> runtime(const std::string& data_dir) {
    ConfigErrors errors;
    doc_ = ConfigDocument::load_text(kYaml, "test.yaml", data_dir, &errors);
    CPPUNIT_ASSERT_MESSAGE(kestrel::test::dump(errors), doc_ && errors.empty());
    ComponentGraph g = build_component_graph(*doc_, *registry_, data_dir, &errors);
    CPPUNIT_ASSERT_MESSAGE(kestrel::test::dump(errors), errors.empty());
    auto rt = std::make_unique<ComponentRuntime>(std::move(g), NodeSettings{"n1", data_dir}, data_dir);
    std::vector<std::string> errs;
    CPPUNIT_ASSERT(rt->create_all(&errs));
    std::string err;
    CPPUNIT_ASSERT_MESSAGE(err, rt->start_all(&err));
    return rt;
  }

  void table_has_every_1_3_service() {
    const kestrel_host_api* api = ComponentRuntime::host_api();
    CPPUNIT_ASSERT(api->abi_minor >= 3);  // 1.3 added these; later minors keep them
    CPPUNIT_ASSERT(KESTREL_HAS(api, kestrel_host_api, process_run));
    CPPUNIT_ASSERT(api->event_publish && api->event_subscribe && api->event_unsubscribe && api->event_dropped);
    CPPUNIT_ASSERT(api->kv_get && api->kv_put && api->kv_compare_and_set && api->kv_delete && api->kv_list);
    CPPUNIT_ASSERT(api->process_run);
  }

  void kv_per_component_and_across_restart() {
    kestrel::test::TempDir dir("svc");
    const kestrel_host_api* api = ComponentRuntime::host_api();
    uint64_t version = 0;
    {
      auto rt = runtime(dir.path());
      kestrel_host_ctx* a = rt->context_of("a");
      kestrel_host_ctx* b = rt->context_of("b");
      kestrel_status st = kestrel::make_status();
      CPPUNIT_ASSERT_EQUAL(KESTREL_OK, api->kv_put(a, "cursor", "42", 2, &version, &st));
      CPPUNIT_ASSERT_EQUAL(KESTREL_ERR_NOT_FOUND, api->kv_get(b, "cursor", &append, nullptr, nullptr, &st));
      uint64_t current = 0;
      CPPUNIT_ASSERT_EQUAL(KESTREL_ERR_CONFLICT, api->kv_compare_and_set(a, "cursor", 0, "43", 2, &current, &st));
      CPPUNIT_ASSERT_EQUAL(version, current);
      CPPUNIT_ASSERT(std::string(st.message).find("version") != std::string::npos);
      rt->stop_all(1000);
    }
    auto rt = runtime(dir.path());
    std::string value;
    uint64_t read_version = 0;
    kestrel_status st = kestrel::make_status();
    CPPUNIT_ASSERT_EQUAL(KESTREL_OK, api->kv_get(rt->context_of("a"), "cursor", &append, &value, &read_version, &st));
    CPPUNIT_ASSERT_EQUAL(std::string("42"), value);
    CPPUNIT_ASSERT_EQUAL(version, read_version);
    std::vector<std::string> keys;
    auto collect = [](void* ctx, const char* key, const void*, size_t, uint64_t) {
      static_cast<std::vector<std::string>*>(ctx)->push_back(key);
      return 0;
    };
    CPPUNIT_ASSERT_EQUAL(KESTREL_OK, api->kv_list(rt->context_of("a"), "", collect, &keys, &st));
    CPPUNIT_ASSERT_EQUAL(size_t{1}, keys.size());
    CPPUNIT_ASSERT_EQUAL(KESTREL_OK, api->kv_delete(rt->context_of("a"), "cursor", &st));
    CPPUNIT_ASSERT_EQUAL(KESTREL_ERR_NOT_FOUND, api->kv_delete(rt->context_of("a"), "cursor", &st));
  }

  void events_between_components_end_at_stop() {
    kestrel::test::TempDir dir("svc");
    const kestrel_host_api* api = ComponentRuntime::host_api();
    auto rt = runtime(dir.path());
    struct Seen {
      std::atomic<int> count{0};
      std::string source;
    } seen;
    auto fn = [](void* ctx, const char* topic, const char* source, const char* json, size_t length) {
      auto* s = static_cast<Seen*>(ctx);
      if (std::string(topic) == "failover" && std::string(json, length) == "{\"to\":\"pg-b\"}") s->source = source;
      ++s->count;
    };
    kestrel_status st = kestrel::make_status();
    kestrel_subscription* sub = api->event_subscribe(rt->context_of("b"), "failover", 0, fn, &seen, &st);
    CPPUNIT_ASSERT_MESSAGE(st.message, sub != nullptr);
    CPPUNIT_ASSERT_EQUAL(KESTREL_OK, api->event_publish(rt->context_of("a"), "failover", "{\"to\":\"pg-b\"}", &st));
    CPPUNIT_ASSERT_EQUAL(KESTREL_ERR_INVALID, api->event_publish(rt->context_of("a"), "Bad Topic", "{}", &st));
    for (int i = 0; i < 3000 && seen.count == 0; ++i) std::this_thread::sleep_for(1ms);
    CPPUNIT_ASSERT_EQUAL(1, seen.count.load());
    CPPUNIT_ASSERT_EQUAL(std::string("a"), seen.source);
    rt->stop_all(1000);  // b's subscription ends with b's stop
    CPPUNIT_ASSERT_EQUAL(KESTREL_OK,
                         api->event_publish(rt->context_of("a"), "failover", "{\"to\":\"pg-b\"}", &st));
    std::this_thread::sleep_for(50ms);
    CPPUNIT_ASSERT_EQUAL(1, seen.count.load());
    api->event_unsubscribe(sub);  // the plugin's own late unsubscribe: harmless
    CPPUNIT_ASSERT_EQUAL(uint64_t{0}, api->event_dropped(sub));
  }

  void process_run_only_while_started() {
    kestrel::test::TempDir dir("svc");
    const kestrel_host_api* api = ComponentRuntime::host_api();
    auto rt = runtime(dir.path());
    const char* argv[] = {"sh", "-c", "echo $KESTREL_X"};
    const char* env[] = {"KESTREL_X=yes"};
    kestrel_process_request req;
    std::memset(&req, 0, sizeof req);
    req.struct_size = sizeof req;
    req.argv = argv;
    req.argc = 3;
    req.env = env;
    req.env_count = 1;
    kestrel_process_result res;
    std::memset(&res, 0, sizeof res);
    res.struct_size = sizeof res;
    std::string out;
    kestrel_status st = kestrel::make_status();
    CPPUNIT_ASSERT_EQUAL(KESTREL_OK, api->process_run(rt->context_of("a"), &req, &append, &out, &res, &st));
    CPPUNIT_ASSERT_EQUAL(0, res.exit_code);
    CPPUNIT_ASSERT_EQUAL(std::string("yes\n"), out);
    rt->stop_all(1000);
    CPPUNIT_ASSERT_EQUAL(KESTREL_ERR_CANCELLED, api->process_run(rt->context_of("a"), &req, &append, &out, &res, &st));
  }

 private:
  std::unique_ptr<PluginRegistry> registry_;
  std::unique_ptr<ConfigDocument> doc_;
};

CPPUNIT_TEST_SUITE_REGISTRATION(HostServicesTest);
