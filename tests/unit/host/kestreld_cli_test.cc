// kestreld as an operator runs it: --validate reports every configuration
// error with file:line:column and exits 78; bad plugins are reported with
// their file and reason while the host goes on; --version and bad options.
#include <cppunit/extensions/HelperMacros.h>

#include <Poco/File.h>

#include <chrono>
#include <map>

#include "host_test_util.h"
#include "kestrel/test/child_process.h"

namespace {

struct Run {
  int code = -1;
  std::string out, err;
};

// Runs build/bin/kestreld with `args` (and `env` added to the environment)
// and collects its exit code and output.
Run kestreld(const std::vector<std::string>& args, const std::map<std::string, std::string>& env = {}) {
  kestrel::test::TempDir dir("kestreld-cli");
  kestrel::test::ChildProcess::Options options;
  options.env = env;
  kestrel::test::ChildProcess p(kestrel::test::kestreld_path(), args, dir.file("out"), dir.file("err"), options);
  Run r;
  r.code = p.wait_or_kill(std::chrono::seconds(120));  // a guard against hangs only
  r.out = p.stdout_text();
  r.err = p.stderr_text();
  return r;
}

size_t count(const std::string& hay, const std::string& needle) {
  size_t n = 0;
  for (size_t p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + 1)) ++n;
  return n;
}

}  // namespace

class KestreldCliTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(KestreldCliTest);
  CPPUNIT_TEST(validate_reports_every_error_with_its_line);
  CPPUNIT_TEST(validate_accepts_a_good_file_and_reports_bad_plugins);
  CPPUNIT_TEST(validate_runs_create_and_names_the_plugin);
  CPPUNIT_TEST(unreadable_config_and_bad_options);
  CPPUNIT_TEST(version_and_help);
  CPPUNIT_TEST(every_config_example_validates);
  CPPUNIT_TEST(crawler_concurrency_alone_validates);
  CPPUNIT_TEST(nodes_written_once_for_catalog_stores_and_replicator);
  CPPUNIT_TEST_SUITE_END();

 public:
  void validate_reports_every_error_with_its_line() {
    kestrel::test::TempDir dir("host");
    const std::string file = kestrel::test::write_in(dir, "bad.yaml",
                                       "plugins:\n"                                              // 1
                                       "  paths: [" + kestrel::test::test_plugin_dir() + "]\n"  // 2
                                       "components:\n"                                           // 3
                                       "  a:\n"                                                  // 4
                                       "    type: test-node\n"                                   // 5
                                       "    peer: b\n"                                           // 6
                                       "    interval: often\n"                                   // 7
                                       "  b:\n"                                                  // 8
                                       "    type: test-node\n"                                   // 9
                                       "    peer: a\n"                                           // 10
                                       "    peer: a\n"                                           // 11
                                       "  c:\n"                                                  // 12
                                       "    type: test-node\n"                                   // 13
                                       "    peer: ghost\n"                                       // 14
                                       "nodes: {}\n");                                           // 15
    Run r = kestreld({"--validate", file});
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.err, 78, r.code);
    CPPUNIT_ASSERT_MESSAGE(r.err, r.err.find(file + ":11:5: error: duplicate key 'peer'") != std::string::npos);
    CPPUNIT_ASSERT_MESSAGE(r.err, r.err.find(file + ":15:1: error: unknown top-level key 'nodes' (did you mean 'node'?)") !=
                                      std::string::npos);
    CPPUNIT_ASSERT_MESSAGE(r.err, r.err.find(file + ":7:15: error: component 'a' option 'interval' must be a duration") !=
                                      std::string::npos);
    CPPUNIT_ASSERT_MESSAGE(r.err, r.err.find(file + ":14:11: error: component 'c' option 'peer' refers to 'ghost'") !=
                                      std::string::npos);
    CPPUNIT_ASSERT_MESSAGE(r.err, r.err.find(file + ":4:3: error: reference cycle: a -> b -> a") != std::string::npos);
    CPPUNIT_ASSERT_MESSAGE(r.err, r.err.find("5 errors in the configuration") != std::string::npos);
  }

  void validate_accepts_a_good_file_and_reports_bad_plugins() {
    kestrel::test::TempDir dir("host");
    const std::string file = kestrel::test::write_in(dir, "good.yaml", "plugins:\n  paths: [" + kestrel::test::test_plugin_dir() +
                                                        "]\ncomponents:\n  a:\n    type: test-node\n");
    Run r = kestreld({"--validate", file});
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.err, 0, r.code);
    CPPUNIT_ASSERT_MESSAGE(r.out, r.out.find("configuration is valid (1 components: a=test-node)") != std::string::npos);
    // Each bad plugin is reported once, with its file and the reason.
    for (const char* bad : {"kestrel-test-abi-major.so", "kestrel-test-abi-minor.so", "kestrel-test-no-negotiate.so",
                            "kestrel-test-unresolved.so", "kestrel-test-zz-duplicate.so"})
      CPPUNIT_ASSERT_EQUAL_MESSAGE(r.err + "\nplugin: " + bad, size_t{1},
                                   count(r.err, std::string("plugin ") + bad + " ("));
    CPPUNIT_ASSERT_MESSAGE(r.err, r.err.find("built for SDK ABI 2.0; this host supports 1.0") != std::string::npos);
  }

  void validate_runs_create_and_names_the_plugin() {
    kestrel::test::TempDir dir("host");
    const std::string file =
        kestrel::test::write_in(dir, "f.yaml", "plugins:\n  paths: [" + kestrel::test::test_plugin_dir() +
                                "]\ncomponents:\n  f:\n    type: test-failing\n    needed: x\n    reason: no disk\n");
    Run r = kestreld({"--validate", file});
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.err, 78, r.code);
    CPPUNIT_ASSERT_MESSAGE(r.err, r.err.find("component 'f' (type test-failing, plugin kestrel-test-good.so): option "
                                             "reason: no disk") != std::string::npos);
    // A type whose plugin failed to load: the error names that plugin and why.
    const std::string file2 = kestrel::test::write_in(dir, 
        "u.yaml", "plugins:\n  paths: [" + kestrel::test::test_plugin_dir() + "]\ncomponents:\n  u:\n    type: test-unresolved\n");
    Run r2 = kestreld({"--validate", file2});
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r2.err, 78, r2.code);
    CPPUNIT_ASSERT_MESSAGE(r2.err, r2.err.find("unknown type 'test-unresolved': plugin kestrel-test-unresolved.so that "
                                               "would provide it failed to load: cannot open:") != std::string::npos);
  }

  void unreadable_config_and_bad_options() {
    Run missing = kestreld({"--validate", "/nonexistent/kestrel.yaml"});
    CPPUNIT_ASSERT_EQUAL(78, missing.code);
    CPPUNIT_ASSERT_MESSAGE(missing.err, missing.err.find("/nonexistent/kestrel.yaml: error: cannot read the configuration "
                                                         "file") != std::string::npos);
    Run bad_option = kestreld({"--no-such-option"});
    CPPUNIT_ASSERT_EQUAL(78, bad_option.code);
    Run stray = kestreld({"--validate", "/nonexistent.yaml", "stray"});
    CPPUNIT_ASSERT_EQUAL(64, stray.code);
  }

  void version_and_help() {
    Run v = kestreld({"--version"});
    CPPUNIT_ASSERT_EQUAL(0, v.code);
    CPPUNIT_ASSERT(v.out.find("kestreld ") == 0);
    Run h = kestreld({"--help"});
    CPPUNIT_ASSERT_EQUAL(0, h.code);
    CPPUNIT_ASSERT(h.out.find("Exit codes:") != std::string::npos);
    CPPUNIT_ASSERT(h.out.find("--validate") != std::string::npos);
  }

  // The shipped examples stay true to the plugins' option tables: each one
  // passes --validate (which also runs every component's create).
  void every_config_example_validates() {
    const std::map<std::string, std::string> env = {{"KESTREL_PG_PASSWORD", "pw"},
                                                    {"KESTREL_REPLICATION_PASSWORD", "rpw"},
                                                    {"KESTREL_API_TOKEN", "token"},
                                                    {"KESTREL_DEMO_DIR", "/tmp/kestrel-demo"},
                                                    {"KESTREL_DEMO_PORT_A", "5441"},
                                                    {"KESTREL_DEMO_PORT_B", "5442"},
                                                    {"KESTREL_DEMO_PORT_C", "5443"},
                                                    {"KESTREL_NODE", "pg2"}};  // config/cluster-etcd.yaml
    std::vector<std::string> files;
    Poco::File(kestrel::test::source_dir() + "/config").list(files);
    size_t checked = 0;
    for (const auto& name : files) {
      if (name.size() < 5 || name.compare(name.size() - 5, 5, ".yaml") != 0) continue;
      const std::string path = kestrel::test::source_dir() + "/config/" + name;
      Run r = kestreld({"--validate", path}, env);
      CPPUNIT_ASSERT_EQUAL_MESSAGE(path + "\n" + r.err, 0, r.code);
      ++checked;
    }
    CPPUNIT_ASSERT(checked >= 2);  // default.yaml and cluster-postgres.yaml at least
  }

  // Issue 9 item 1: one `nodes:` list in the ha-catalog, read by the stores
  // and the replicator (nodes: catalog), through the real plugins' create()
  // (--validate runs it). Bad items and clashing nodes are named; the
  // replicator's older primary/standbys form is refused.
  void nodes_written_once_for_catalog_stores_and_replicator() {
    kestrel::test::TempDir dir("host");
    auto config = [&](const std::string& nodes, const std::string& store_a_conninfo) {
      return "plugins:\n  paths: [\"" + kestrel::test::plugin_dir() +
             "\"]\ncomponents:\n"
             "  a:\n    type: store-postgres\n    nodes: catalog\n    conninfo: \"" + store_a_conninfo + "\"\n"
             "  b:\n    type: store-postgres\n    nodes: catalog\n    conninfo: \"user=kestrel\"\n"
             "  repl:\n    type: replicator-pg\n    nodes: catalog\n    conninfo: \"user=postgres\"\n"
             "    replication_password: pw\n"
             "  catalog:\n    type: ha-catalog\n    stores: [a, b]\n    replicator: repl\n    nodes:\n" + nodes;
    };
    Run good = kestreld({"--validate", kestrel::test::write_in(dir, "good.yaml",
                                                                config("      - {name: a, host: h1}\n"
                                                                       "      - {name: b, host: h2, priority: 1}\n",
                                                                       "user=kestrel"))});
    CPPUNIT_ASSERT_EQUAL_MESSAGE(good.err, 0, good.code);

    Run items = kestreld({"--validate", kestrel::test::write_in(dir, "items.yaml",
                                                                 config("      - {name: a, host: h1, prio: 1}\n"
                                                                        "      - {host: h2}\n"
                                                                        "      - {name: a, host: h3}\n",
                                                                        "user=kestrel"))});
    CPPUNIT_ASSERT_EQUAL_MESSAGE(items.err, 78, items.code);
    CPPUNIT_ASSERT_MESSAGE(items.err, items.err.find("3 errors in the configuration") != std::string::npos);
    for (const char* needle : {"items.yaml:22:29: error: item 0 of 'nodes' of component 'catalog': unknown key 'prio'",
                               "items.yaml:23:9: error: item 1 of 'nodes' of component 'catalog': required key 'name' "
                               "is missing",
                               "items.yaml:24:16: error: item 2 of 'nodes' of component 'catalog': key 'name' is 'a', "
                               "already the value of an item at line 22"})
      CPPUNIT_ASSERT_MESSAGE(items.err, items.err.find(needle) != std::string::npos);

    Run clash = kestreld({"--validate", kestrel::test::write_in(dir, "clash.yaml",
                                                                 config("      - {name: a, host: h1}\n"
                                                                        "      - {name: b, host: h1}\n",
                                                                        "host=h9 user=kestrel"))});
    CPPUNIT_ASSERT_EQUAL_MESSAGE(clash.err, 78, clash.code);
    for (const char* needle : {"option conninfo: host= is the node's, in the nodes list",
                               "node b is at h1:5432, the address of node a",
                               "nodes 'a' (", "and 'b' (", "have one address, h1:5432"})
      CPPUNIT_ASSERT_MESSAGE(clash.err, clash.err.find(needle) != std::string::npos);

    // The replicator's older form (primary and standbys, libpq strings with
    // name= and priority=) is gone: refused, and nodes is required.
    const std::string repl_head = "plugins:\n  paths: [\"" + kestrel::test::plugin_dir() +
                                  "\"]\ncomponents:\n  repl:\n    type: replicator-pg\n"
                                  "    replication_password: pw\n";
    Run old = kestreld({"--validate", kestrel::test::write_in(dir, "old.yaml",
                                                               repl_head +
                                                                   "    primary: \"name=a host=h1 user=postgres\"\n"
                                                                   "    standbys: [\"name=b host=h2 user=postgres\"]\n")});
    CPPUNIT_ASSERT_EQUAL_MESSAGE(old.err, 78, old.code);
    for (const char* needle : {"old.yaml:7:5: error: component 'repl' (type replicator-pg): unknown option 'primary'",
                               "old.yaml:8:5: error: component 'repl' (type replicator-pg): unknown option 'standbys'",
                               "required option 'nodes' is missing"})
      CPPUNIT_ASSERT_MESSAGE(old.err, old.err.find(needle) != std::string::npos);
    Run empty = kestreld({"--validate", kestrel::test::write_in(dir, "empty.yaml", repl_head + "    nodes: []\n")});
    CPPUNIT_ASSERT_EQUAL_MESSAGE(empty.err, 78, empty.code);
    CPPUNIT_ASSERT_MESSAGE(empty.err, empty.err.find("option nodes: missing or empty") != std::string::npos);
  }

  // Issue 16 item 5: setting only `concurrency` below per_host_connections'
  // default must not make the file invalid; the real crawler-http plugin,
  // through the host's option handling (a schema default would read as set).
  // The lowered cap is said once; an explicit out-of-range value still fails.
  void crawler_concurrency_alone_validates() {
    kestrel::test::TempDir dir("host");
    const std::string head = "plugins:\n  paths: [\"" + kestrel::test::plugin_dir() +
                             "\"]\ncomponents:\n  catalog:\n    type: store-sqlite\n  images:\n    type: blob-local\n"
                             "  crawler:\n    type: crawler-http\n    concurrency: 4\n";
    Run r = kestreld({"--validate", kestrel::test::write_in(dir, "c.yaml", head)});
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.err, 0, r.code);
    CPPUNIT_ASSERT_EQUAL_MESSAGE(r.err, size_t{1}, count(r.err, "per_host_connections is not set"));
    CPPUNIT_ASSERT_MESSAGE(r.err, r.err.find("lowered to concurrency (4)") != std::string::npos);
    Run bad = kestreld({"--validate", kestrel::test::write_in(dir, "b.yaml", head + "    per_host_connections: 6\n")});
    CPPUNIT_ASSERT_EQUAL_MESSAGE(bad.err, 78, bad.code);
    CPPUNIT_ASSERT_MESSAGE(bad.err, bad.err.find("option per_host_connections: 6 is out of range [1, 4]") !=
                                        std::string::npos);
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(KestreldCliTest);
