// A well-behaved test plugin built with the C++ wrapper.
//  - test-node: one option of every type; appends its lifecycle ("create X",
//    "start X", "lookup X peer ok", "stop X", "destroy X") to the file named
//    by `journal`, so tests can check the order the host drives it in, and
//    counts its starts in the metric kestrel_test_starts_total (ABI 1.1),
//    and journals the items of its list of maps `nodes` (ABI 1.3).
//  - test-failing: its create always fails with a clear message.
#include <kestrel/plugin.hpp>

#include <fstream>

namespace {

const char* const kTestInterface = "kestrel.test.v1";

// The whole function table of kestrel.test.v1: just its size.
struct TestTable {
  uint32_t struct_size;
};
const TestTable kTable = {sizeof(TestTable)};

class TestNode : public kestrel::Component {
 public:
  explicit TestNode(const kestrel::CreateArgs& a)
      : host_(a),
        id_(a.component_id()),
        journal_(a.get_string("journal")),
        has_peer_(a.is_set("peer")),
        peers_(a.get_list("peers").size()) {
    // A STRING, not a PATH option: several components share one journal on
    // purpose, and the host refuses a PATH claimed twice.
    if (!journal_.empty() && journal_[0] != '/') journal_ = a.data_dir() + "/" + journal_;
    if (a.get_int("count") < 0) throw kestrel::Error(KESTREL_ERR_INVALID, "option count: must be >= 0");
    note("create " + id_);
    for (const kestrel::OptionMap& n : a.get_maps("nodes"))  // ABI 1.3 list of maps
      note("node " + n.get_string("name") + " priority " + std::to_string(n.get_int("priority")) + " address " +
           (n.is_set("address") ? n.get_string("address") : "(unset)") + " dir " + n.get_string("dir") + " at " +
           n.where());
  }
  ~TestNode() override { note("destroy " + id_); }
  void start() override {
    note("start " + id_);
    // ABI 1.1 metrics: one counter per component, bumped once per start.
    host_.metric(KESTREL_METRIC_COUNTER, "kestrel_test_starts_total", "test-node starts").add(1);
    if (has_peer_) {
      kestrel_interface ref = host_.lookup("peer", kTestInterface);
      note("lookup " + id_ + " peer " + (ref.vtable == &kTable ? "ok" : "wrong table"));
    }
    for (size_t i = 0; i < peers_; ++i) {  // ABI 1.3 reference list: "peers[i]"
      kestrel_interface ref = host_.lookup(("peers[" + std::to_string(i) + "]").c_str(), kTestInterface);
      note("lookup " + id_ + " peers[" + std::to_string(i) + "] " + (ref.vtable == &kTable ? "ok" : "wrong table"));
    }
  }
  void stop(uint32_t) override { note("stop " + id_); }
  const void* interface_table(const char* name) override {
    return std::string(name) == kTestInterface ? &kTable : nullptr;
  }

 private:
  void note(const std::string& line) {
    if (journal_.empty()) return;
    std::ofstream(journal_, std::ios::app) << line << "\n";
  }
  kestrel::Host host_;
  std::string id_;
  std::string journal_;
  bool has_peer_;
  size_t peers_;
};

class TestFailing : public kestrel::Component {
 public:
  explicit TestFailing(const kestrel::CreateArgs& a) {
    throw kestrel::Error(KESTREL_ERR_INVALID, "option reason: " + a.get_string("reason"));
  }
};

const kestrel_option_desc kNodeFields[] = {
    kestrel::option("name", KESTREL_OPT_STRING, nullptr, "node name", KESTREL_OPTION_REQUIRED | KESTREL_OPTION_UNIQUE),
    kestrel::option("priority", KESTREL_OPT_INT, "100", "lower wins"),
    kestrel::option("address", KESTREL_OPT_STRING, nullptr, "host:port", KESTREL_OPTION_UNIQUE),
    kestrel::option("dir", KESTREL_OPT_PATH, nullptr, "a folder"),
};
const kestrel_option_desc kZoneFields[] = {
    kestrel::option("name", KESTREL_OPT_STRING, nullptr, "node name", KESTREL_OPTION_REQUIRED),
    kestrel::option("zone", KESTREL_OPT_STRING, nullptr, "where it runs", KESTREL_OPTION_REQUIRED),
};
const kestrel_option_desc kNodeOptions[] = {
    kestrel::option("journal", KESTREL_OPT_STRING, "", "file the lifecycle is appended to (relative: in the data dir)"),
    kestrel::option("label", KESTREL_OPT_STRING, "x", "a string"),
    kestrel::option("count", KESTREL_OPT_INT, "1", "an integer"),
    kestrel::option("ratio", KESTREL_OPT_DOUBLE, "0.5", "a number"),
    kestrel::option("enabled", KESTREL_OPT_BOOL, "true", "a boolean"),
    kestrel::option("interval", KESTREL_OPT_DURATION, "5s", "a duration, milliseconds"),
    kestrel::option("limit", KESTREL_OPT_SIZE, "1MiB", "a size, bytes"),
    kestrel::option("tags", KESTREL_OPT_STRING_LIST, "", "a list"),
    kestrel::option("secret", KESTREL_OPT_STRING, nullptr, "a secret", KESTREL_OPTION_SECRET),
    kestrel::option("peer", KESTREL_OPT_REF, nullptr, "another test-node", 0, kTestInterface),
    kestrel::option("file", KESTREL_OPT_PATH, nullptr, "a file of its own"),
    kestrel::option("peers", KESTREL_OPT_REF_LIST, "", "other test-nodes (ABI 1.3)", 0, kTestInterface),
    kestrel::map_list("nodes", kNodeFields, "a list of maps (ABI 1.3), or the id of a component holding it"),
};
const kestrel_option_desc kFailingOptions[] = {
    kestrel::option("reason", KESTREL_OPT_STRING, "always fails", "what create reports"),
    kestrel::option("needed", KESTREL_OPT_STRING, nullptr, "a required option", KESTREL_OPTION_REQUIRED),
    kestrel::map_list("nodes", kZoneFields, "another reader's view of a shared list"),
};
const char* const kNodeProvides[] = {kTestInterface};
const char* const kFailingProvides[] = {"kestrel.test.failing.v1"};

}  // namespace

#ifndef KESTREL_TEST_DUPLICATE
KESTREL_PLUGIN("test-good", "1.0.0", "test plugin",
               kestrel::describe<TestNode>("test-node", "a test component", kNodeProvides, kNodeOptions),
               kestrel::describe<TestFailing>("test-failing", "create always fails", kFailingProvides,
                                              kFailingOptions))
#else
KESTREL_PLUGIN("test-duplicate", "1.0.0", "declares test-node again",
               kestrel::describe<TestNode>("test-node", "a duplicate", kNodeProvides, kNodeOptions))
#endif
