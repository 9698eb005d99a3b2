// The component runtime: create in graph order, start after dependencies,
// lookup of wired interfaces, stop in reverse, destroy; a failing create is
// reported with the component, its type and its plugin.
#include <cppunit/extensions/HelperMacros.h>

#include <kestrel/plugin.hpp>

#include "config/component_graph.h"
#include "host_test_util.h"
#include "loader/plugin_registry.h"
#include "runtime/component_runtime.h"
#include "runtime/metrics_registry.h"

using namespace kestrel::host;

class ComponentRuntimeTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(ComponentRuntimeTest);
  CPPUNIT_TEST(lifecycle_order_and_lookup);
  CPPUNIT_TEST(failing_create_names_component_and_plugin);
  CPPUNIT_TEST(interface_of_requires_started_provider);
  CPPUNIT_TEST_SUITE_END();

 public:
  void setUp() override {
    registry_ = std::make_unique<PluginRegistry>(ComponentRuntime::host_api(), "test");
    CPPUNIT_ASSERT(registry_->load_file(kestrel::test::test_plugin_dir() + "/kestrel-test-good.so"));
  }

  ComponentGraph graph(const std::string& yaml, const std::string& data_dir) {
    ConfigErrors errors;
    doc_ = ConfigDocument::load_text(yaml, "test.yaml", data_dir, &errors);
    CPPUNIT_ASSERT_MESSAGE(kestrel::test::dump(errors), doc_ && errors.empty());
    ComponentGraph g = build_component_graph(*doc_, *registry_, data_dir, &errors);
    CPPUNIT_ASSERT_MESSAGE(kestrel::test::dump(errors), errors.empty());
    return g;
  }

  void lifecycle_order_and_lookup() {
    kestrel::test::TempDir dir("host");
    const std::string yaml =
        "components:\n"
        "  top:\n    type: test-node\n    peer: middle\n    peers: [bottom, middle]\n    journal: j.txt\n"
        "  middle:\n    type: test-node\n    peer: bottom\n    journal: j.txt\n    nodes: bottom\n"
        "  bottom:\n    type: test-node\n    journal: j.txt\n    nodes:\n"
        "      - {name: a, priority: 1, address: \"h:1\", dir: pg-a}\n      - name: b\n";
    {
      NodeSettings node{"n1", dir.path()};
      ComponentRuntime rt(graph(yaml, dir.path()), node, dir.path());
      std::vector<std::string> errors;
      CPPUNIT_ASSERT(rt.create_all(&errors));
      std::string err;
      CPPUNIT_ASSERT_MESSAGE(err, rt.start_all(&err));
      CPPUNIT_ASSERT_EQUAL(size_t{3}, rt.providers_of("kestrel.test.v1").size());
      rt.stop_all(1000);
      rt.destroy_all();
    }
    // The list of maps reaches both readers (middle through "nodes: bottom").
    const std::string node_a = "node a priority 1 address h:1 dir " + dir.path() + "/pg-a at test.yaml:16:9";
    const std::string node_b = "node b priority 100 address (unset) dir  at test.yaml:17:9";
    const std::vector<std::string> expected = {
        "create bottom", node_a, node_b, "create middle", node_a, node_b, "create top",  "start bottom",  "start middle",   "lookup middle peer ok",
        "start top",     "lookup top peer ok", "lookup top peers[0] ok", "lookup top peers[1] ok", "stop top", "stop middle", "stop bottom", "destroy top",
        "destroy middle", "destroy bottom"};
    std::vector<std::string> got = kestrel::test::read_lines(dir.path() + "/j.txt");
    std::string text;
    for (const auto& l : got) text += l + "\n";
    CPPUNIT_ASSERT_EQUAL_MESSAGE(text, expected.size(), got.size());
    for (size_t i = 0; i < expected.size(); ++i) CPPUNIT_ASSERT_EQUAL_MESSAGE(text, expected[i], got[i]);
    // Each component registered its metric through the ABI 1.1 host API.
    const std::string metrics = MetricsRegistry::global().render_prometheus();
    for (const char* id : {"top", "middle", "bottom"})
      CPPUNIT_ASSERT_MESSAGE(metrics, metrics.find(std::string("kestrel_test_starts_total{component=\"") + id +
                                                   "\"} ") != std::string::npos);
  }

  void failing_create_names_component_and_plugin() {
    kestrel::test::TempDir dir("host");
    ComponentRuntime rt(graph("components:\n  ok:\n    type: test-node\n"
                              "  f:\n    type: test-failing\n    needed: yes\n    reason: disk on fire\n",
                              dir.path()),
                        NodeSettings{"n1", dir.path()}, dir.path());
    std::vector<std::string> errors;
    CPPUNIT_ASSERT(!rt.create_all(&errors));
    CPPUNIT_ASSERT_EQUAL(size_t{1}, errors.size());
    CPPUNIT_ASSERT_EQUAL(
        std::string("component 'f' (type test-failing, plugin kestrel-test-good.so): option reason: disk on fire"),
        errors[0]);
  }

  void interface_of_requires_started_provider() {
    kestrel::test::TempDir dir("host");
    ComponentRuntime rt(graph("components:\n  a:\n    type: test-node\n", dir.path()), NodeSettings{"n1", dir.path()},
                        dir.path());
    std::vector<std::string> errors;
    CPPUNIT_ASSERT(rt.create_all(&errors));
    CPPUNIT_ASSERT_THROW(rt.interface_of("a", "kestrel.test.v1"), kestrel::Error);
    std::string err;
    CPPUNIT_ASSERT(rt.start_all(&err));
    CPPUNIT_ASSERT(rt.interface_of("a", "kestrel.test.v1").vtable != nullptr);
    CPPUNIT_ASSERT_THROW(rt.interface_of("a", "kestrel.nothing.v1"), kestrel::Error);
    CPPUNIT_ASSERT_THROW(rt.interface_of("zz", "kestrel.test.v1"), kestrel::Error);
  }

 private:
  std::unique_ptr<PluginRegistry> registry_;
  std::unique_ptr<ConfigDocument> doc_;
};

CPPUNIT_TEST_SUITE_REGISTRATION(ComponentRuntimeTest);
