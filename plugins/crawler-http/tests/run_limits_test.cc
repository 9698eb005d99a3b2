// Per-crawl scope and limits (kestrel_crawl_request, ABI 1.1): how a request
// overrides the configuration, and what each scope lets in.
#include "crawl_engine.h"

#include <kestrel/plugin.hpp>

#include <cppunit/extensions/HelperMacros.h>

namespace kestrel::crawler {

class RunLimitsTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(RunLimitsTest);
  CPPUNIT_TEST(testZeroMeansConfigured);
  CPPUNIT_TEST(testRequestOverrides);
  CPPUNIT_TEST(testBadScopeOrRobotsIsInvalid);
  CPPUNIT_TEST(testScopes);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testZeroMeansConfigured() {
    CrawlerConfig c;
    c.max_depth = 7;
    c.max_pages = 99;
    c.robots = false;
    const RunLimits l = limits_for(c, CrawlRequest{});
    CPPUNIT_ASSERT(l.scope == RunLimits::Scope::Site);
    CPPUNIT_ASSERT_EQUAL(uint32_t{7}, l.max_depth);
    CPPUNIT_ASSERT_EQUAL(uint64_t{99}, l.max_pages);
    CPPUNIT_ASSERT_EQUAL(uint64_t{0}, l.max_bytes);
    CPPUNIT_ASSERT_EQUAL(uint32_t{0}, l.max_seconds);
    CPPUNIT_ASSERT(!l.robots);
  }

  void testRequestOverrides() {
    CrawlerConfig c;
    CrawlRequest r;
    r.scope = "domain";
    r.max_depth = 2;
    r.max_pages = 5;
    r.max_bytes = 1000;
    r.max_seconds = 3;
    r.robots = 2;
    const RunLimits l = limits_for(c, r);
    CPPUNIT_ASSERT(l.scope == RunLimits::Scope::Domain);
    CPPUNIT_ASSERT_EQUAL(uint32_t{2}, l.max_depth);
    CPPUNIT_ASSERT_EQUAL(uint64_t{5}, l.max_pages);
    CPPUNIT_ASSERT_EQUAL(uint64_t{1000}, l.max_bytes);
    CPPUNIT_ASSERT_EQUAL(uint32_t{3}, l.max_seconds);
    CPPUNIT_ASSERT(!l.robots);
    r.robots = 1;
    c.robots = false;
    CPPUNIT_ASSERT(limits_for(c, r).robots);
  }

  void testBadScopeOrRobotsIsInvalid() {
    CrawlRequest r;
    r.scope = "planet";
    try {
      limits_for(CrawlerConfig{}, r);
      CPPUNIT_FAIL("scope planet accepted");
    } catch (const Error& e) {
      CPPUNIT_ASSERT_EQUAL(KESTREL_ERR_INVALID, e.code());
      CPPUNIT_ASSERT(std::string(e.what()).find("planet") != std::string::npos);
    }
    r.scope = "";
    r.robots = 3;
    CPPUNIT_ASSERT_THROW(limits_for(CrawlerConfig{}, r), Error);
  }

  void testScopes() {
    const std::set<std::string> seeds = {"http://example.org", "https://[::1]:8443"};
    using S = RunLimits::Scope;
    CPPUNIT_ASSERT(scope_allows(S::Site, seeds, "http://example.org"));
    CPPUNIT_ASSERT(!scope_allows(S::Site, seeds, "https://example.org"));
    CPPUNIT_ASSERT(!scope_allows(S::Site, seeds, "http://www.example.org"));
    CPPUNIT_ASSERT(scope_allows(S::Host, seeds, "https://example.org:8443"));
    CPPUNIT_ASSERT(scope_allows(S::Host, seeds, "http://[::1]"));
    CPPUNIT_ASSERT(!scope_allows(S::Host, seeds, "http://www.example.org"));
    CPPUNIT_ASSERT(scope_allows(S::Domain, seeds, "http://www.example.org"));
    CPPUNIT_ASSERT(scope_allows(S::Domain, seeds, "https://a.b.example.org:81"));
    CPPUNIT_ASSERT(!scope_allows(S::Domain, seeds, "http://badexample.org"));
    CPPUNIT_ASSERT(!scope_allows(S::Domain, seeds, "http://example.org.evil"));
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(RunLimitsTest);

}  // namespace kestrel::crawler
