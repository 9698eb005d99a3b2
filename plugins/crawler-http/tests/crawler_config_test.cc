// The option table and its validation: defaults parse, bad values are refused
// with a message naming the option and the reason.
#include "crawler_config.h"

#include <cppunit/extensions/HelperMacros.h>

#include <cstring>
#include <map>
#include <set>

namespace kestrel::crawler {
namespace {

// Builds create() arguments as the host would hand them: every schema option
// present, defaults applied (as typed values), overrides on top.
class Args {
 public:
  Args() {
    ints_ = {{"concurrency", 16},        {"per_host_connections", 6}, {"connect_timeout", 10000},
             {"timeout", 60000},         {"low_speed_limit", 1024},  {"low_speed_time", 20000},
             {"max_body_size", 64 << 20}, {"max_depth", 32},         {"max_pages", 100000},
             {"max_redirects", 10},      {"max_pixels", 200000000},  {"robots", 1},
             {"offsite_images", 1},      {"batch_size", 64},         {"per_host_delay", 0},
             {"honor_crawl_delay", 1},   {"max_crawl_delay", 30000}, {"sitemaps", 0},
             {"max_sitemap_size", 50 << 20}, {"max_retries", 3},     {"retry_backoff", 1000},
             {"max_retry_backoff", 60000}, {"max_retry_after", 120000}, {"max_url_length", 2048},
             {"max_pages_per_host", 0},  {"css_images", 1}};
    texts_ = {{"catalog", "catalog"}, {"files", "images"},  {"user_agent", "Kestrel/0.1"},
              {"robots_token", "Kestrel"}, {"state_path", "/tmp/node.db"}};
  }
  Args& set(const std::string& name, int64_t v) {
    ints_[name] = v;
    return *this;
  }
  Args& set(const std::string& name, const std::string& v) {
    texts_[name] = v;
    return *this;
  }
  // As the host hands an option the config does not name and whose schema
  // has no default: is_set 0, no text, integer 0.
  Args& unset(const std::string& name) {
    unset_.insert(name);
    return *this;
  }
  Args& seeds(std::vector<std::string> s) {
    seeds_ = std::move(s);
    return *this;
  }

  CrawlerConfig parse() {
    seed_ptrs_.clear();
    for (const auto& s : seeds_) seed_ptrs_.push_back(s.c_str());
    values_.clear();
    for (const auto& d : kCrawlerOptions) {
      kestrel_option_value v{};
      v.struct_size = sizeof v;
      v.name = d.name;
      v.type = d.type;
      v.is_set = unset_.count(d.name) ? 0 : 1;
      auto t = texts_.find(d.name);
      v.text = !v.is_set ? nullptr : t != texts_.end() ? t->second.c_str() : "";
      auto i = ints_.find(d.name);
      v.integer = v.is_set && i != ints_.end() ? i->second : 0;
      if (d.type == KESTREL_OPT_STRING_LIST) {
        v.list = seed_ptrs_.data();
        v.list_count = seed_ptrs_.size();
      }
      values_.push_back(v);
    }
    kestrel_create_args raw{};
    raw.struct_size = sizeof raw;
    raw.component_id = "crawler";
    raw.node_name = "node-a";
    raw.data_dir = "/var/lib/kestrel";
    raw.options = values_.data();
    raw.option_count = values_.size();
    return parse_crawler_config(CreateArgs(&raw));
  }

  // The message of the kestrel::Error that parse() throws, "" if none.
  std::string error() {
    try {
      parse();
    } catch (const Error& e) {
      CPPUNIT_ASSERT_EQUAL(KESTREL_ERR_INVALID, e.code());
      return e.what();
    }
    return "";
  }

 private:
  std::map<std::string, int64_t> ints_;
  std::map<std::string, std::string> texts_;
  std::set<std::string> unset_;
  std::vector<std::string> seeds_;
  std::vector<const char*> seed_ptrs_;
  std::vector<kestrel_option_value> values_;
};

bool contains(const std::string& haystack, const char* needle) { return haystack.find(needle) != std::string::npos; }

}  // namespace

class CrawlerConfigTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(CrawlerConfigTest);
  CPPUNIT_TEST(testSchemaIsDocumented);
  CPPUNIT_TEST(testDefaultsParse);
  CPPUNIT_TEST(testSeedsAreNormalizedSortedAndDeduplicated);
  CPPUNIT_TEST(testBadValuesNameTheOption);
  CPPUNIT_TEST(testPerHostDefaultFollowsConcurrency);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testSchemaIsDocumented() {
    for (const auto& d : kCrawlerOptions) {
      CPPUNIT_ASSERT_MESSAGE(d.name, d.description && std::strlen(d.description) > 10);
      // Every option works on one machine: a schema default, or a description
      // saying what an unset option becomes (a default derived from another).
      CPPUNIT_ASSERT_MESSAGE(d.name, d.default_value != nullptr || std::strstr(d.description, "when unset"));
      if (d.type == KESTREL_OPT_REF) CPPUNIT_ASSERT_MESSAGE(d.name, d.interface_name != nullptr);
    }
  }

  void testDefaultsParse() {
    Args a;
    const CrawlerConfig c = a.parse();
    CPPUNIT_ASSERT_EQUAL(uint32_t{16}, c.concurrency);
    CPPUNIT_ASSERT_EQUAL(uint32_t{6}, c.per_host_connections);
    CPPUNIT_ASSERT_EQUAL(uint64_t{64} << 20, c.max_body_size);
    CPPUNIT_ASSERT_EQUAL(std::string("Kestrel/0.1"), c.user_agent);
    CPPUNIT_ASSERT_EQUAL(std::string("node-a"), c.node_name);
    CPPUNIT_ASSERT(c.seeds.empty());
    CPPUNIT_ASSERT_EQUAL(uint32_t{3}, c.max_retries);
    CPPUNIT_ASSERT_EQUAL(int64_t{1000}, c.retry_backoff_ms);
    CPPUNIT_ASSERT_EQUAL(uint32_t{2048}, c.max_url_length);
    CPPUNIT_ASSERT(c.honor_crawl_delay && !c.sitemaps && c.css_images);
    // A relative state_path lands in the data dir.
    CPPUNIT_ASSERT_EQUAL(std::string("/var/lib/kestrel/node.db"), a.set("state_path", "node.db").parse().state_path);
  }

  void testSeedsAreNormalizedSortedAndDeduplicated() {
    Args a;
    const CrawlerConfig c = a.seeds({"HTTP://Example.ORG:80/b", "http://example.org/a#frag", "http://example.org/b"}).parse();
    CPPUNIT_ASSERT_EQUAL(size_t{2}, c.seeds.size());
    CPPUNIT_ASSERT_EQUAL(std::string("http://example.org/a"), c.seeds[0]);
    CPPUNIT_ASSERT_EQUAL(std::string("http://example.org/b"), c.seeds[1]);
  }

  // A default never makes a valid change invalid: concurrency alone below
  // per_host_connections' default lowers the per-origin cap to it (and says
  // so), while an explicit out-of-range value stays an error.
  void testPerHostDefaultFollowsConcurrency() {
    CrawlerConfig c = Args().set("concurrency", 4).unset("per_host_connections").parse();
    CPPUNIT_ASSERT_EQUAL(uint32_t{4}, c.concurrency);
    CPPUNIT_ASSERT_EQUAL(uint32_t{4}, c.per_host_connections);
    CPPUNIT_ASSERT_MESSAGE(c.note, contains(c.note, "per_host_connections") && contains(c.note, "concurrency (4)"));
    c = Args().unset("per_host_connections").parse();
    CPPUNIT_ASSERT_EQUAL(uint32_t{6}, c.per_host_connections);  // the documented default
    CPPUNIT_ASSERT(c.note.empty());
    c = Args().set("concurrency", 6).unset("per_host_connections").parse();
    CPPUNIT_ASSERT_EQUAL(uint32_t{6}, c.per_host_connections);
    CPPUNIT_ASSERT(c.note.empty());
    const std::string err = Args().set("concurrency", 4).set("per_host_connections", 6).error();
    CPPUNIT_ASSERT_MESSAGE(err, contains(err, "option per_host_connections: 6 is out of range [1, 4]"));
  }

  void testBadValuesNameTheOption() {
    CPPUNIT_ASSERT(contains(Args().set("concurrency", 0).error(), "option concurrency"));
    CPPUNIT_ASSERT(contains(Args().set("per_host_connections", 17).error(), "option per_host_connections"));
    CPPUNIT_ASSERT(contains(Args().set("timeout", 0).error(), "option timeout"));
    CPPUNIT_ASSERT(contains(Args().set("max_body_size", 0).error(), "option max_body_size"));
    CPPUNIT_ASSERT(contains(Args().set("batch_size", 0).error(), "option batch_size"));
    CPPUNIT_ASSERT(contains(Args().set("max_retry_backoff", 10).error(), "option max_retry_backoff"));
    CPPUNIT_ASSERT(contains(Args().set("max_url_length", 3).error(), "option max_url_length"));
    CPPUNIT_ASSERT(contains(Args().set("max_retries", -1).error(), "option max_retries"));
    CPPUNIT_ASSERT(contains(Args().set("max_sitemap_size", 0).error(), "option max_sitemap_size"));
    CPPUNIT_ASSERT(contains(Args().set("user_agent", "Kestrel\r\nX-Evil: 1").error(), "option user_agent"));
    CPPUNIT_ASSERT(contains(Args().set("robots_token", "Kes trel").error(), "option robots_token"));
    const std::string seed = Args().seeds({"ftp://example.org/"}).error();
    CPPUNIT_ASSERT(contains(seed, "option seeds"));
    CPPUNIT_ASSERT(contains(seed, "ftp://example.org/"));
    CPPUNIT_ASSERT(contains(Args().seeds({"/relative/path"}).error(), "/relative/path"));
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(CrawlerConfigTest);

}  // namespace kestrel::crawler
