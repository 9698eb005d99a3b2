// The plugin loader: purpose-built bad plugins beside a good one; each bad
// one is refused with its file and reason, the good one loads.
#include <cppunit/extensions/HelperMacros.h>

#include <kestrel/plugin.hpp>

#include <Poco/Path.h>

#include <cstring>

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
  CPPUNIT_TEST(older_minor_plugin_loads);
  CPPUNIT_TEST(newer_plugin_refuses_an_older_host);
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

  // ABI 1.1 host, plugin built for 1.0: it loads and its component runs.
  void older_minor_plugin_loads() {
    PluginRegistry r(ComponentRuntime::host_api(), "test");
    CPPUNIT_ASSERT(r.load_file(kestrel::test::test_plugin_dir() + "/kestrel-test-abi-1-0.so"));
    const PluginRecord& rec = r.plugins().back();
    CPPUNIT_ASSERT_EQUAL(uint32_t{1}, rec.abi_major);
    CPPUNIT_ASSERT_EQUAL(uint32_t{0}, rec.abi_minor);
    CPPUNIT_ASSERT(r.find_type("test-abi-1-0") != nullptr);
    CPPUNIT_ASSERT(KESTREL_ABI_MINOR >= 1);  // this host really is newer than the plugin
  }

  // A plugin built with this SDK (1.1) offered only ABI 1.0 by an older host
  // refuses in its negotiate, saying both versions.
  void newer_plugin_refuses_an_older_host() {
    SharedLibrary lib;
    std::string err;
    CPPUNIT_ASSERT_MESSAGE(err, lib.open(kestrel::test::test_plugin_dir() + "/kestrel-test-good.so", &err));
    auto negotiate = reinterpret_cast<kestrel_plugin_negotiate_fn>(lib.symbol(KESTREL_NEGOTIATE_SYMBOL, &err));
    CPPUNIT_ASSERT(negotiate != nullptr);
    kestrel_loader_info old_host;
    std::memset(&old_host, 0, sizeof old_host);
    old_host.struct_size = sizeof old_host;
    old_host.abi_major = 1;
    old_host.abi_minor_min = 0;
    old_host.abi_minor_max = 0;
    old_host.host = ComponentRuntime::host_api();
    kestrel_plugin_info info;
    std::memset(&info, 0, sizeof info);
    info.struct_size = sizeof info;
    kestrel_status st = kestrel::make_status();
    CPPUNIT_ASSERT_EQUAL(KESTREL_ERR_ABI, negotiate(&old_host, &info, &st));
    CPPUNIT_ASSERT_EQUAL(std::string("plugin test-good needs ABI 1.") + std::to_string(KESTREL_ABI_MINOR) +
                             "; host offers 1.0-1.0",
                         std::string(st.message));
    // The same plugin accepts this host.
    kestrel_loader_info this_host = old_host;
    this_host.abi_minor_max = KESTREL_ABI_MINOR;
    kestrel_status ok = kestrel::make_status();
    CPPUNIT_ASSERT_EQUAL(KESTREL_OK, negotiate(&this_host, &info, &ok));
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(PluginRegistryTest);
