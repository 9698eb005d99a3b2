// The plugin loader: purpose-built bad plugins beside a good one; each bad
// one is refused with its file and reason, the good one loads.
#include <cppunit/extensions/HelperMacros.h>

#include <Poco/Path.h>

#include "host_test_util.h"
#include "loader/plugin_registry.h"
#include "runtime/component_runtime.h"

using namespace kestrel::host;

namespace {

const PluginRecord* record(const PluginRegistry& r, const std::string& file_name) {
  for (const auto& p : r.plugins())
    if (p.file_name() == file_name) return &p;
  return nullptr;
}

std::string describe(const PluginRegistry& r) {
  std::string out;
  for (const auto& p : r.plugins()) out += p.file_name() + " [" + p.state_name() + "] " + p.error + "\n";
  return out;
}

}  // namespace

class PluginRegistryTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(PluginRegistryTest);
  CPPUNIT_TEST(each_bad_plugin_reported_good_one_loaded);
  CPPUNIT_TEST(garbage_file_and_missing_directory);
  CPPUNIT_TEST(deny_list_skips_a_plugin);
  CPPUNIT_TEST_SUITE_END();

 public:
  void each_bad_plugin_reported_good_one_loaded() {
    PluginRegistry r(ComponentRuntime::host_api(), "test");
    r.load_directory(kestrel::test::test_plugin_dir());
    const std::string all = describe(r);

    const PluginRecord* good = record(r, "kestrel-test-good.so");
    CPPUNIT_ASSERT_MESSAGE(all, good && good->state == PluginRecord::State::kLoaded);
    CPPUNIT_ASSERT_EQUAL(std::string("test-good"), good->name);
    CPPUNIT_ASSERT(r.find_type("test-node") != nullptr);
    CPPUNIT_ASSERT(r.find_type("test-failing") != nullptr);
    CPPUNIT_ASSERT_EQUAL(std::string("kestrel-test-good.so"),
                         Poco::Path(r.find_type("test-node")->plugin_file).getFileName());

    const PluginRecord* major = record(r, "kestrel-test-abi-major.so");
    CPPUNIT_ASSERT_MESSAGE(all, major && major->state == PluginRecord::State::kFailed);
    CPPUNIT_ASSERT_EQUAL_MESSAGE(all, std::string("built for SDK ABI 2.0; this host supports 1.0-1.") +
                                          std::to_string(KESTREL_ABI_MINOR) + ": rebuild it against SDK 1.x",
                                 major->error);

    const PluginRecord* minor = record(r, "kestrel-test-abi-minor.so");
    CPPUNIT_ASSERT_MESSAGE(all, minor && minor->state == PluginRecord::State::kFailed);
    CPPUNIT_ASSERT_MESSAGE(all, minor->error.find("built for SDK ABI 1." + std::to_string(KESTREL_ABI_MINOR + 7)) == 0);
    CPPUNIT_ASSERT_MESSAGE(all, minor->error.find("upgrade Kestrel") != std::string::npos);

    const PluginRecord* none = record(r, "kestrel-test-no-negotiate.so");
    CPPUNIT_ASSERT_MESSAGE(all, none && none->state == PluginRecord::State::kFailed);
    CPPUNIT_ASSERT_MESSAGE(all, none->error.find("does not export kestrel_plugin_negotiate") == 0);

    const PluginRecord* unresolved = record(r, "kestrel-test-unresolved.so");
    CPPUNIT_ASSERT_MESSAGE(all, unresolved && unresolved->state == PluginRecord::State::kFailed);
    CPPUNIT_ASSERT_MESSAGE(all, unresolved->error.find("cannot open:") == 0);
    CPPUNIT_ASSERT_MESSAGE(all, unresolved->error.find("kestrel_test_symbol_that_does_not_exist") != std::string::npos);

    const PluginRecord* dup = record(r, "kestrel-test-zz-duplicate.so");
    CPPUNIT_ASSERT_MESSAGE(all, dup && dup->state == PluginRecord::State::kFailed);
    CPPUNIT_ASSERT_MESSAGE(all, dup->error.find("component type 'test-node' is already provided by "
                                                "kestrel-test-good.so") == 0);
    // The duplicate did not replace the original.
    CPPUNIT_ASSERT_EQUAL(std::string("test-good"), r.find_type("test-node")->plugin_name);

    // A config that names a type of a failed plugin hears which plugin failed.
    CPPUNIT_ASSERT(r.failed_plugin_for_type("test-unresolved") == unresolved);
    CPPUNIT_ASSERT(r.failed_plugin_for_type("test-node") == nullptr);
  }

  void garbage_file_and_missing_directory() {
    kestrel::test::TempDir dir("host");
    kestrel::test::write_in(dir, "kestrel-garbage.so", "this is not an ELF file");
    kestrel::test::write_in(dir, "README.txt", "ignored: not named kestrel-*.so");
    PluginRegistry r(ComponentRuntime::host_api(), "test");
    r.load_directory(dir.path());
    CPPUNIT_ASSERT_EQUAL(size_t{1}, r.plugins().size());
    CPPUNIT_ASSERT(r.plugins()[0].state == PluginRecord::State::kFailed);
    CPPUNIT_ASSERT_MESSAGE(r.plugins()[0].error, r.plugins()[0].error.find("cannot open:") == 0);

    r.load_directory(dir.path() + "/missing");
    CPPUNIT_ASSERT_EQUAL(size_t{1}, r.search_errors().size());
    CPPUNIT_ASSERT(r.search_errors()[0].find("does not exist") != std::string::npos);
  }

  void deny_list_skips_a_plugin() {
    PluginRegistry r(ComponentRuntime::host_api(), "test");
    r.load_directory(kestrel::test::test_plugin_dir(), {"test-good", "kestrel-test-unresolved.so"});
    CPPUNIT_ASSERT(record(r, "kestrel-test-good.so")->state == PluginRecord::State::kDenied);
    CPPUNIT_ASSERT(record(r, "kestrel-test-unresolved.so")->state == PluginRecord::State::kDenied);
    // With the original denied, the duplicate's test-node is the only one and loads.
    CPPUNIT_ASSERT(record(r, "kestrel-test-zz-duplicate.so")->state == PluginRecord::State::kLoaded);
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(PluginRegistryTest);
