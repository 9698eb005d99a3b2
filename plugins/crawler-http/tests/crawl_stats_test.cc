// CrawlStats: counters by kind, the bounded failed list and the report JSON.
#include "crawl_stats.h"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <cppunit/extensions/HelperMacros.h>

namespace kestrel::crawler {
namespace {

Poco::JSON::Object::Ptr parse(const std::string& json) {
  Poco::JSON::Parser p;
  return p.parse(json).extract<Poco::JSON::Object::Ptr>();
}

}  // namespace

class CrawlStatsTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(CrawlStatsTest);
  CPPUNIT_TEST(testIdleReport);
  CPPUNIT_TEST(testCountersAndReport);
  CPPUNIT_TEST(testFailedListIsBounded);
  CPPUNIT_TEST(testResumeStartsFromRecordedCounts);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testIdleReport() {
    CrawlStats s;
    CPPUNIT_ASSERT_EQUAL(std::string("idle"), parse(s.report_json())->getValue<std::string>("state"));
    CPPUNIT_ASSERT_EQUAL(int32_t{KESTREL_CRAWL_IDLE}, s.progress().state);
  }

  void testCountersAndReport() {
    CrawlStats s;
    s.begin("key", {"http://a/"}, RunCounters{}, {}, {}, false);
    s.add_page();
    s.add_image();
    s.add_image();
    s.add_image_unchanged();
    s.add_bytes(100);
    s.add_failure("http://a/x.png", "http://a/", "http_404", "HTTP 404");
    s.add_failure("http://a/y.png", "http://a/", "not_an_image", "html");
    s.add_failure("http://a/z.png", "http://a/", "http_404", "HTTP 404");
    s.add_skip("robots_denied");
    s.set_session_id(7);
    s.set_state(KESTREL_CRAWL_FINISHED);

    const auto p = s.progress();
    CPPUNIT_ASSERT_EQUAL(uint64_t{1}, p.pages);
    CPPUNIT_ASSERT_EQUAL(uint64_t{2}, p.images);
    CPPUNIT_ASSERT_EQUAL(uint64_t{1}, p.images_unchanged);
    CPPUNIT_ASSERT_EQUAL(uint64_t{100}, p.bytes);
    CPPUNIT_ASSERT_EQUAL(uint64_t{3}, p.errors);
    CPPUNIT_ASSERT_EQUAL(int64_t{7}, p.crawl_session_id);

    auto r = parse(s.report_json());
    CPPUNIT_ASSERT_EQUAL(std::string("finished"), r->getValue<std::string>("state"));
    CPPUNIT_ASSERT_EQUAL(std::string("key"), r->getValue<std::string>("session_key"));
    CPPUNIT_ASSERT_EQUAL(3, r->getValue<int>("errors"));
    CPPUNIT_ASSERT_EQUAL(2, r->getObject("errors_by_kind")->getValue<int>("http_404"));
    CPPUNIT_ASSERT_EQUAL(1, r->getObject("errors_by_kind")->getValue<int>("not_an_image"));
    CPPUNIT_ASSERT_EQUAL(1, r->getObject("skipped")->getValue<int>("robots_denied"));
    auto failed = r->getArray("failed");
    CPPUNIT_ASSERT_EQUAL(size_t{3}, failed->size());
    CPPUNIT_ASSERT_EQUAL(std::string("http://a/y.png"), failed->getObject(1)->getValue<std::string>("url"));
    CPPUNIT_ASSERT_EQUAL(std::string("http://a/"), failed->getObject(1)->getValue<std::string>("source"));
    CPPUNIT_ASSERT_EQUAL(std::string("not_an_image"), failed->getObject(1)->getValue<std::string>("reason"));
    CPPUNIT_ASSERT_EQUAL(std::string("{\"http_404\":2,\"not_an_image\":1}"), s.errors_json());
  }

  void testFailedListIsBounded() {
    CrawlStats s;
    s.begin("key", {}, RunCounters{}, {}, {}, false);
    const size_t extra = 5;
    for (size_t i = 0; i < CrawlStats::kMaxFailedListed + extra; ++i)
      s.add_failure("http://a/" + std::to_string(i), "", "timeout", "");
    auto r = parse(s.report_json());
    CPPUNIT_ASSERT_EQUAL(CrawlStats::kMaxFailedListed, r->getArray("failed")->size());
    CPPUNIT_ASSERT_EQUAL(static_cast<int>(extra), r->getValue<int>("failed_not_listed"));
    CPPUNIT_ASSERT_EQUAL(static_cast<int>(CrawlStats::kMaxFailedListed + extra), r->getValue<int>("errors"));
  }

  void testResumeStartsFromRecordedCounts() {
    CrawlStats s;
    RunCounters c;
    c.pages = 10;
    c.images = 20;
    std::map<std::string, std::map<std::string, uint64_t>> reasons;
    reasons["failed"]["http_5xx"] = 2;
    reasons["skipped"]["max_pages"] = 4;
    std::vector<FailedRow> failed = {{"http://a/1", "http://a/", "http_5xx", "HTTP 503"}};
    s.begin("key", {"http://a/"}, c, reasons, failed, true);
    s.add_page();
    const auto p = s.progress();
    CPPUNIT_ASSERT_EQUAL(uint64_t{11}, p.pages);
    CPPUNIT_ASSERT_EQUAL(uint64_t{20}, p.images);
    CPPUNIT_ASSERT_EQUAL(uint64_t{2}, p.errors);
    auto r = parse(s.report_json());
    CPPUNIT_ASSERT(r->getValue<bool>("resumed"));
    CPPUNIT_ASSERT_EQUAL(4, r->getObject("skipped")->getValue<int>("max_pages"));
    CPPUNIT_ASSERT_EQUAL(size_t{1}, r->getArray("failed")->size());
    CPPUNIT_ASSERT_EQUAL(1, r->getValue<int>("failed_not_listed"));  // 2 counted, 1 listed
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(CrawlStatsTest);

}  // namespace kestrel::crawler
