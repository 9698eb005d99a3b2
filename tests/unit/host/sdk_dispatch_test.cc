// The C++ wrapper's interface dispatch (kestrel/plugin_core.hpp), through
// the C descriptor the host sees: a Provides<...> component's provides list
// and tables come from its provider bases, in their order; an older
// Component + provider class with an explicit list still gets its tables
// from the registered interfaces; and an interface declared only in this
// file (as a new kestrel/iface header would be) works both ways with no
// change to the core.
#include <cppunit/extensions/HelperMacros.h>

#include <kestrel/plugin_core.hpp>
#include <kestrel/iface/catalog.hpp>
#include <kestrel/iface/crawler.hpp>

#include <string>
#include <vector>

namespace {

// ----- a made-up interface, declared the way kestrel/iface/*.hpp are ----------

struct kestrel_notifier_test_v1 {
  uint32_t struct_size;
  kestrel_result (*notify)(void* instance, const char* text, kestrel_status* status);
};

class NotifierProvider {
 public:
  virtual ~NotifierProvider() = default;
  virtual void notify(const std::string& text) = 0;

  static constexpr const char* interface_name = "kestrel.notifier.test.v1";
  static const kestrel_notifier_test_v1* table() {
    static const kestrel_notifier_test_v1 vt = {
        sizeof(kestrel_notifier_test_v1),
        [](void* inst, const char* text, kestrel_status* st) {
          return kestrel::detail::guard(st, [&] { kestrel::detail::as<NotifierProvider>(inst).notify(text); });
        },
    };
    return &vt;
  }
};
const kestrel::detail::InterfaceRegistration<NotifierProvider> notifier_registration;

// ----- components -------------------------------------------------------------

class Crawler : public kestrel::CrawlerProvider {
 public:
  void crawl_start(const kestrel::CrawlRequest&) override {}
  void crawl_stop() override {}
  bool crawl_wait(uint32_t) override { return true; }
  kestrel_crawl_progress crawl_progress() override { return kestrel_crawl_progress{}; }
  std::string crawl_report() override { return report_; }
  std::string report_ = "crawler";
};

class NewStyle : public kestrel::Provides<NotifierProvider, kestrel::CrawlerProvider> {
 public:
  explicit NewStyle(const kestrel::CreateArgs&) {}
  void notify(const std::string& text) override { notes.push_back(text); }
  void crawl_start(const kestrel::CrawlRequest&) override {}
  void crawl_stop() override {}
  bool crawl_wait(uint32_t) override { return true; }
  kestrel_crawl_progress crawl_progress() override { return kestrel_crawl_progress{}; }
  std::string crawl_report() override { return "new"; }
  std::vector<std::string> notes;
};

class OldStyle : public kestrel::Component, public Crawler, public NotifierProvider {
 public:
  explicit OldStyle(const kestrel::CreateArgs&) { report_ = "old"; }
  void notify(const std::string& text) override { notes.push_back(text); }
  std::vector<std::string> notes;
};

const kestrel_option_desc kOptions[] = {kestrel::option("x", KESTREL_OPT_STRING, "", "unused")};
const char* const kOldProvides[] = {KESTREL_IFACE_CRAWLER_V1, NotifierProvider::interface_name};

std::vector<std::string> provides(const kestrel_component_desc& d) {
  return std::vector<std::string>(d.provides, d.provides + d.provides_count);
}

// Creates one instance of `d`, runs `f(instance)`, destroys it.
template <class F>
void with_instance(const kestrel_component_desc& d, F f) {
  kestrel_create_args args{};
  args.struct_size = sizeof args;
  void* inst = nullptr;
  kestrel_status st = kestrel::make_status();
  CPPUNIT_ASSERT_EQUAL(0, static_cast<int>(d.ops->create(&args, &inst, &st)));
  f(inst);
  d.ops->destroy(inst);
}

kestrel_interface ref(const kestrel_component_desc& d, void* inst, const char* name) {
  kestrel_interface r{};
  r.struct_size = sizeof r;
  r.vtable = d.ops->get_interface(inst, name);
  r.instance = inst;
  return r;
}

void notify(const kestrel_interface& r, const char* text) {
  kestrel_status st = kestrel::make_status();
  kestrel::check(static_cast<const kestrel_notifier_test_v1*>(r.vtable)->notify(r.instance, text, &st), st, "notify");
}

}  // namespace

class SdkDispatchTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(SdkDispatchTest);
  CPPUNIT_TEST(provides_lists_and_serves_its_bases);
  CPPUNIT_TEST(older_component_served_from_registered_interfaces);
  CPPUNIT_TEST(every_result_code_has_a_name);
  CPPUNIT_TEST_SUITE_END();

 public:
  // A message built from a status without text names the result (it said
  // "unknown result" for CONFLICT and BUSY).
  void every_result_code_has_a_name() {
    for (int code = KESTREL_OK; code <= KESTREL_ERR_BUSY; ++code)
      CPPUNIT_ASSERT_MESSAGE(std::to_string(code), std::string(kestrel::result_name(code)) != "unknown result");
    CPPUNIT_ASSERT_EQUAL(std::string("conflict"), std::string(kestrel::result_name(KESTREL_ERR_CONFLICT)));
  }

  void provides_lists_and_serves_its_bases() {
    const kestrel_component_desc with = kestrel::describe<NewStyle>("new", "with options", kOptions);
    const kestrel_component_desc without = kestrel::describe<NewStyle>("new", "without options");
    const std::vector<std::string> expected = {"kestrel.notifier.test.v1", KESTREL_IFACE_CRAWLER_V1};
    CPPUNIT_ASSERT(expected == provides(with));
    CPPUNIT_ASSERT(expected == provides(without));
    CPPUNIT_ASSERT_EQUAL(size_t{1}, with.option_count);
    CPPUNIT_ASSERT_EQUAL(size_t{0}, without.option_count);
    with_instance(with, [&](void* inst) {
      const kestrel::CrawlerClient crawler(ref(with, inst, KESTREL_IFACE_CRAWLER_V1));
      CPPUNIT_ASSERT_EQUAL(std::string("new"), crawler.report());
      notify(ref(with, inst, "kestrel.notifier.test.v1"), "hello");
      CPPUNIT_ASSERT(static_cast<NewStyle*>(static_cast<kestrel::Component*>(inst))->notes ==
                     std::vector<std::string>{"hello"});
      // Registered, but not one of its bases: no table.
      CPPUNIT_ASSERT(with.ops->get_interface(inst, KESTREL_IFACE_CATALOG_V1) == nullptr);
      CPPUNIT_ASSERT(with.ops->get_interface(inst, "kestrel.unknown.v1") == nullptr);
    });
  }

  void older_component_served_from_registered_interfaces() {
    const kestrel_component_desc d = kestrel::describe<OldStyle>("old", "explicit list", kOldProvides, kOptions);
    CPPUNIT_ASSERT_EQUAL(size_t{2}, d.provides_count);
    with_instance(d, [&](void* inst) {
      const kestrel::CrawlerClient crawler(ref(d, inst, KESTREL_IFACE_CRAWLER_V1));
      CPPUNIT_ASSERT_EQUAL(std::string("old"), crawler.report());
      CPPUNIT_ASSERT(ref(d, inst, KESTREL_IFACE_CRAWLER_V1).vtable == kestrel::CrawlerProvider::table());
      notify(ref(d, inst, "kestrel.notifier.test.v1"), "hi");
      CPPUNIT_ASSERT(static_cast<OldStyle*>(static_cast<kestrel::Component*>(inst))->notes ==
                     std::vector<std::string>{"hi"});
      CPPUNIT_ASSERT(d.ops->get_interface(inst, KESTREL_IFACE_CATALOG_V1) == nullptr);
    });
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(SdkDispatchTest);
