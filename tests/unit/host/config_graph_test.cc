// The configuration graph: every error collected with its 1-based line and
// column, references resolved, cycles printed, start order computed.
#include <cppunit/extensions/HelperMacros.h>

#include <cstdlib>

#include "config/component_graph.h"
#include "config/config_document.h"
#include "host_test_util.h"
#include "loader/plugin_registry.h"
#include "runtime/component_runtime.h"

using namespace kestrel::host;
using kestrel::test::dump;
using kestrel::test::has_error;

namespace {

struct Parsed {
  std::unique_ptr<ConfigDocument> doc;
  ConfigErrors errors;
  ComponentGraph graph;
};

// Parses `yaml` as "test.yaml" and builds its graph against the test plugin.
Parsed parse(const PluginRegistry& registry, const std::string& yaml) {
  Parsed p;
  p.doc = ConfigDocument::load_text(yaml, "test.yaml", "/etc/kestrel", &p.errors);
  if (p.doc) p.graph = build_component_graph(*p.doc, registry, "/var/lib/k", &p.errors);
  return p;
}

}  // namespace

class ConfigGraphTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(ConfigGraphTest);
  CPPUNIT_TEST(five_different_errors_five_reports);
  CPPUNIT_TEST(yaml_syntax_error_reports_its_line);
  CPPUNIT_TEST(unknown_type_suggests_and_lists);
  CPPUNIT_TEST(unknown_option_lists_valid_ones);
  CPPUNIT_TEST(missing_required_and_wrong_values);
  CPPUNIT_TEST(env_substitution);
  CPPUNIT_TEST(path_claimed_twice);
  CPPUNIT_TEST(reference_to_component_without_interface);
  CPPUNIT_TEST(values_defaults_and_start_order);
  CPPUNIT_TEST(reference_list_items_checked_and_ordered);
  CPPUNIT_TEST(map_list_items_checked_key_by_key);
  CPPUNIT_TEST(map_list_shared_by_reference);
  CPPUNIT_TEST(long_cycle_printed_once);
  CPPUNIT_TEST(empty_and_non_map_documents);
  CPPUNIT_TEST_SUITE_END();

 public:
  void setUp() override {
    registry_ = std::make_unique<PluginRegistry>(ComponentRuntime::host_api(), "test");
    CPPUNIT_ASSERT(registry_->load_file(kestrel::test::test_plugin_dir() + "/kestrel-test-good.so"));
  }

  void five_different_errors_five_reports() {
    // One file, five different errors: dangling reference (line 7), cycle
    // (a -> b -> a, reported at a: line 8), wrong type (line 16), duplicate
    // key (line 18), unknown top-level key (line 19).
    const std::string yaml =
        "node:\n"                  // 1
        "  name: n1\n"             // 2
        "components:\n"            // 3
        "  lonely:\n"              // 4
        "    type: test-node\n"    // 5
        "    label: hello\n"       // 6
        "    peer: nobody\n"       // 7
        "  a:\n"                   // 8
        "    type: test-node\n"    // 9
        "    peer: b\n"            // 10
        "  b:\n"                   // 11
        "    type: test-node\n"    // 12
        "    peer: a\n"            // 13
        "  c:\n"                   // 14
        "    type: test-node\n"    // 15
        "    count: many\n"        // 16
        "    label: one\n"         // 17
        "    label: two\n"         // 18
        "colour: blue\n";          // 19
    Parsed p = parse(*registry_, yaml);
    CPPUNIT_ASSERT_MESSAGE(dump(p.errors), p.doc != nullptr);
    CPPUNIT_ASSERT_EQUAL_MESSAGE(dump(p.errors), size_t{5}, p.errors.size());
    CPPUNIT_ASSERT_MESSAGE(dump(p.errors), has_error(p.errors, 7, "refers to 'nobody', which is not defined"));
    CPPUNIT_ASSERT_MESSAGE(dump(p.errors), has_error(p.errors, 8, "reference cycle: a -> b -> a"));
    CPPUNIT_ASSERT_MESSAGE(dump(p.errors), has_error(p.errors, 16, "option 'count' must be an integer"));
    CPPUNIT_ASSERT_MESSAGE(dump(p.errors), has_error(p.errors, 18, "duplicate key 'label' (first defined at line 17)"));
    CPPUNIT_ASSERT_MESSAGE(dump(p.errors), has_error(p.errors, 19, "unknown top-level key 'colour'"));
    // Columns are 1-based too: in "    count: many" the value starts at column 12.
    std::string line16;
    for (const auto& e : p.errors)
      if (e.where.line == 16) line16 = e.to_string();
    CPPUNIT_ASSERT_EQUAL(std::string("test.yaml:16:12: error: component 'c' option 'count' must be an integer: "
                                     "'many' is not an integer"),
                         line16);
  }

  void yaml_syntax_error_reports_its_line() {
    Parsed p = parse(*registry_, "components:\n  a:\n    type: test-node\n    label: [unclosed\n  b: 1\n");
    CPPUNIT_ASSERT(p.doc == nullptr);
    CPPUNIT_ASSERT_EQUAL(size_t{1}, p.errors.size());
    CPPUNIT_ASSERT_MESSAGE(dump(p.errors), p.errors[0].message.find("YAML syntax error") != std::string::npos);
    CPPUNIT_ASSERT_MESSAGE(dump(p.errors), p.errors[0].where.line >= 4 && p.errors[0].where.line <= 5);
  }

  void unknown_type_suggests_and_lists() {
    Parsed p = parse(*registry_, "components:\n  a:\n    type: test-nod\n  b:\n    label: x\n");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(dump(p.errors), size_t{2}, p.errors.size());
    CPPUNIT_ASSERT(has_error(p.errors, 3, "unknown type 'test-nod' (did you mean 'test-node'?)"));
    CPPUNIT_ASSERT(has_error(p.errors, 4, "component 'b' has no 'type'; available types: test-failing, test-node"));
  }

  void unknown_option_lists_valid_ones() {
    Parsed p = parse(*registry_, "components:\n  a:\n    type: test-node\n    lable: x\n");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(dump(p.errors), size_t{1}, p.errors.size());
    CPPUNIT_ASSERT(has_error(p.errors, 4, "unknown option 'lable' (did you mean 'label'?)"));
    CPPUNIT_ASSERT(has_error(p.errors, 4, "valid options: journal, label, count, ratio"));
  }

  void missing_required_and_wrong_values() {
    Parsed p = parse(*registry_,
                     "components:\n"
                     "  f:\n"
                     "    type: test-failing\n"
                     "  n:\n"
                     "    type: test-node\n"
                     "    interval: 3 fortnights\n"
                     "    limit: huge\n"
                     "    enabled: perhaps\n"
                     "    tags: {a: 1}\n"
                     "    label: [1, 2]\n");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(dump(p.errors), size_t{6}, p.errors.size());
    CPPUNIT_ASSERT(has_error(p.errors, 2, "required option 'needed' is missing"));
    CPPUNIT_ASSERT(has_error(p.errors, 6, "must be a duration"));
    CPPUNIT_ASSERT(has_error(p.errors, 7, "must be a size"));
    CPPUNIT_ASSERT(has_error(p.errors, 8, "must be a boolean"));
    CPPUNIT_ASSERT(has_error(p.errors, 9, "not a map"));
    CPPUNIT_ASSERT(has_error(p.errors, 10, "not a list"));
  }

  void env_substitution() {
    ::setenv("KESTREL_TEST_LABEL", "from-env", 1);
    ::unsetenv("KESTREL_TEST_UNSET");
    Parsed ok = parse(*registry_, "components:\n  a:\n    type: test-node\n    label: x-${env:KESTREL_TEST_LABEL}\n");
    CPPUNIT_ASSERT_MESSAGE(dump(ok.errors), ok.errors.empty());
    CPPUNIT_ASSERT_EQUAL(std::string("x-from-env"), ok.graph.find("a")->value("label")->text);
    Parsed bad = parse(*registry_, "components:\n  a:\n    type: test-node\n    label: ${env:KESTREL_TEST_UNSET}\n");
    CPPUNIT_ASSERT_EQUAL(size_t{1}, bad.errors.size());
    CPPUNIT_ASSERT(has_error(bad.errors, 4, "environment variable KESTREL_TEST_UNSET is not set"));
  }

  void path_claimed_twice() {
    Parsed p = parse(*registry_,
                     "components:\n  a:\n    type: test-node\n    file: x.db\n"
                     "  b:\n    type: test-node\n    file: /var/lib/k/x.db\n");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(dump(p.errors), size_t{1}, p.errors.size());
    CPPUNIT_ASSERT(has_error(p.errors, 7, "claims /var/lib/k/x.db, already claimed by component 'a' option 'file'"));
  }

  void reference_to_component_without_interface() {
    Parsed p = parse(*registry_,
                     "components:\n  f:\n    type: test-failing\n    needed: y\n"
                     "  n:\n    type: test-node\n    peer: f\n");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(dump(p.errors), size_t{1}, p.errors.size());
    CPPUNIT_ASSERT(has_error(p.errors, 7, "refers to 'f' (type test-failing), which does not provide kestrel.test.v1; "
                                          "it provides: kestrel.test.failing.v1"));
  }

  // ABI 1.3 reference lists: each item is checked like a REF and orders the start.
  void reference_list_items_checked_and_ordered() {
    Parsed p = parse(*registry_,
                     "components:\n  f:\n    type: test-failing\n    needed: y\n"
                     "  n:\n    type: test-node\n    peers: [a, f, ghost]\n"
                     "  a:\n    type: test-node\n");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(dump(p.errors), size_t{2}, p.errors.size());
    CPPUNIT_ASSERT(has_error(p.errors, 7, "option 'peers[1]' refers to 'f' (type test-failing), which does not provide"));
    CPPUNIT_ASSERT(has_error(p.errors, 7, "option 'peers[2]' refers to 'ghost', which is not defined"));
    Parsed ok = parse(*registry_,
                      "components:\n  n:\n    type: test-node\n    peers: [b, a]\n"
                      "  a:\n    type: test-node\n  b:\n    type: test-node\n    peers: a\n");
    CPPUNIT_ASSERT_MESSAGE(dump(ok.errors), ok.errors.empty());
    CPPUNIT_ASSERT_EQUAL(std::string("a"), ok.graph.components[0].id);
    CPPUNIT_ASSERT_EQUAL(std::string("b"), ok.graph.components[1].id);
    CPPUNIT_ASSERT_EQUAL(std::string("n"), ok.graph.components[2].id);
    CPPUNIT_ASSERT_EQUAL(size_t{2}, ok.graph.find("n")->value("peers")->list.size());
  }

  // ABI 1.3 lists of maps: every item checked against the nested schema,
  // each problem at its own line and column.
  void map_list_items_checked_key_by_key() {
    Parsed p = parse(*registry_,
                     "components:\n  n:\n    type: test-node\n    nodes:\n"
                     "      - name: a\n        address: h:1\n"             // 5, 6: fine
                     "      - priority: 2\n"                                  // 7: no name
                     "      - name: a\n        address: h:1\n"             // 8, 9: both taken
                     "      - name: c\n        priorty: 3\n"                // 10, 11: unknown key
                     "      - name: d\n        priority: high\n"           // 12, 13: not an integer
                     "      - just-a-string\n"                              // 14
                     "  m:\n    type: test-node\n    nodes: {name: x}\n"); // 17: a map, not a list
    CPPUNIT_ASSERT_EQUAL_MESSAGE(dump(p.errors), size_t{7}, p.errors.size());
    CPPUNIT_ASSERT(has_error(p.errors, 7, "item 1 of 'nodes' of component 'n': required key 'name' is missing"));
    CPPUNIT_ASSERT(has_error(p.errors, 8, "item 2 of 'nodes' of component 'n': key 'name' is 'a', already the value "
                                          "of an item at line 5"));
    CPPUNIT_ASSERT(has_error(p.errors, 9, "key 'address' is 'h:1', already the value of an item at line 6"));
    CPPUNIT_ASSERT(has_error(p.errors, 11, "unknown key 'priorty' (did you mean 'priority'?); valid keys: address, "
                                           "dir, name, priority"));
    CPPUNIT_ASSERT(has_error(p.errors, 13, "key 'priority' must be an integer"));
    CPPUNIT_ASSERT(has_error(p.errors, 14, "item 5 of 'nodes' of component 'n' must be a map"));
    CPPUNIT_ASSERT(has_error(p.errors, 17, "option 'nodes' must be a list of maps"));
    for (const auto& e : p.errors)
      if (e.where.line == 11) CPPUNIT_ASSERT_EQUAL(9, e.where.column);

    Parsed ok = parse(*registry_,
                      "components:\n  n:\n    type: test-node\n    nodes:\n"
                      "      - {name: a, address: \"h:1\", dir: pg-a}\n      - name: b\n        priority: 0\n");
    CPPUNIT_ASSERT_MESSAGE(dump(ok.errors), ok.errors.empty());
    const OptionValue* nodes = ok.graph.find("n")->value("nodes");
    CPPUNIT_ASSERT_EQUAL(size_t{2}, nodes->items.size());
    CPPUNIT_ASSERT_EQUAL(std::string("/var/lib/k/pg-a"), nodes->items[0].fields[3].text);  // PATH resolved
    CPPUNIT_ASSERT_EQUAL(int64_t{100}, nodes->items[0].fields[1].integer);               // default
    CPPUNIT_ASSERT_EQUAL(int64_t{0}, nodes->items[1].fields[1].integer);
    CPPUNIT_ASSERT(!nodes->items[1].fields[2].is_set);
    CPPUNIT_ASSERT_EQUAL(std::string("test.yaml:6:9"), nodes->items[1].where);
  }

  // "nodes: n" reads component n's list against the reader's own fields: a
  // key is unknown only when no reader knows it; a reader's required key is
  // missing where the item is written.
  void map_list_shared_by_reference() {
    Parsed p = parse(*registry_,
                     "components:\n  n:\n    type: test-node\n    nodes:\n"
                     "      - {name: a, zone: z1, priority: 1}\n"   // 5
                     "      - {name: b, priority: 2}\n"             // 6: f needs a zone
                     "      - {name: c, zone: z3, colour: red}\n"   // 7: nobody knows colour
                     "  f:\n    type: test-failing\n    needed: y\n    nodes: n\n"
                     "  g:\n    type: test-failing\n    needed: y\n    nodes: f\n"     // 15: a reference to a reference
                     "  h:\n    type: test-failing\n    needed: y\n    nodes: ghost\n"); // 19
    CPPUNIT_ASSERT_EQUAL_MESSAGE(dump(p.errors), size_t{4}, p.errors.size());
    CPPUNIT_ASSERT(has_error(p.errors, 6, "item 1 of 'nodes' of component 'n': required key 'zone' is missing "
                                          "(where it runs); component 'f' (type test-failing) reads it"));
    CPPUNIT_ASSERT(has_error(p.errors, 7, "unknown key 'colour'; valid keys: address, dir, name, priority, zone"));
    CPPUNIT_ASSERT(has_error(p.errors, 15, "option 'nodes' refers to the list of 'f', whose 'nodes' is itself a "
                                           "reference"));
    CPPUNIT_ASSERT(has_error(p.errors, 19, "option 'nodes' refers to the list of 'ghost', which is not defined"));
    const OptionValue* f = p.graph.find("f")->value("nodes");
    CPPUNIT_ASSERT_EQUAL(size_t{2}, f->items.size());  // a and c
    CPPUNIT_ASSERT_EQUAL(std::string("z3"), f->items[1].fields[1].text);
    CPPUNIT_ASSERT_EQUAL(size_t{3}, p.graph.find("n")->value("nodes")->items.size());
  }

  void values_defaults_and_start_order() {
    Parsed p = parse(*registry_,
                     "components:\n"
                     "  top:\n    type: test-node\n    peer: middle\n    interval: 250ms\n    tags: [a, b]\n"
                     "  middle:\n    type: test-node\n    peer: bottom\n    limit: 2KiB\n    file: m.db\n"
                     "  bottom:\n    type: test-node\n    tags: single\n");
    CPPUNIT_ASSERT_MESSAGE(dump(p.errors), p.errors.empty());
    CPPUNIT_ASSERT_EQUAL(size_t{3}, p.graph.components.size());
    CPPUNIT_ASSERT_EQUAL(std::string("bottom"), p.graph.components[0].id);
    CPPUNIT_ASSERT_EQUAL(std::string("middle"), p.graph.components[1].id);
    CPPUNIT_ASSERT_EQUAL(std::string("top"), p.graph.components[2].id);
    const ComponentConfig* top = p.graph.find("top");
    CPPUNIT_ASSERT_EQUAL(int64_t{250}, top->value("interval")->integer);
    CPPUNIT_ASSERT_EQUAL(int64_t{1048576}, top->value("limit")->integer);  // default 1MiB
    CPPUNIT_ASSERT_EQUAL(int64_t{1}, top->value("enabled")->integer);      // default true
    CPPUNIT_ASSERT_EQUAL(size_t{2}, top->value("tags")->list.size());
    CPPUNIT_ASSERT(!top->value("secret")->is_set);
    CPPUNIT_ASSERT_EQUAL(std::string("/var/lib/k/m.db"), p.graph.find("middle")->value("file")->text);
    CPPUNIT_ASSERT_EQUAL(size_t{1}, p.graph.find("bottom")->value("tags")->list.size());
  }

  void long_cycle_printed_once() {
    Parsed p = parse(*registry_,
                     "components:\n"
                     "  a:\n    type: test-node\n    peer: b\n"
                     "  b:\n    type: test-node\n    peer: c\n"
                     "  c:\n    type: test-node\n    peer: a\n"
                     "  self:\n    type: test-node\n    peer: self\n");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(dump(p.errors), size_t{2}, p.errors.size());
    CPPUNIT_ASSERT(has_error(p.errors, 2, "reference cycle: a -> b -> c -> a"));
    CPPUNIT_ASSERT(has_error(p.errors, 11, "reference cycle: self -> self"));
  }

  void empty_and_non_map_documents() {
    Parsed empty = parse(*registry_, "");
    CPPUNIT_ASSERT_EQUAL(size_t{1}, empty.errors.size());
    CPPUNIT_ASSERT(empty.errors[0].message.find("empty") != std::string::npos);
    Parsed list = parse(*registry_, "- a\n- b\n");
    CPPUNIT_ASSERT_EQUAL(size_t{1}, list.errors.size());
    CPPUNIT_ASSERT_EQUAL(1, list.errors[0].where.line);
  }

 private:
  std::unique_ptr<PluginRegistry> registry_;
};

CPPUNIT_TEST_SUITE_REGISTRATION(ConfigGraphTest);
