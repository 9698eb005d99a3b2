// parse_crawl_request (the body of POST /api/crawl/start) and
// check_listen_address (api.listen), case by case. Fast, no daemon.
#include <cppunit/extensions/HelperMacros.h>

#include "api/api_error.h"
#include "api/crawl_request_json.h"
#include "config/config_document.h"

namespace kestrel::host {
namespace {

// The 400 message for `body`, or "" when it parses.
std::string error_of(const std::string& body) {
  try {
    parse_crawl_request(body);
    return "";
  } catch (const ApiError& e) {
    CPPUNIT_ASSERT_EQUAL(400, e.status());
    return e.what();
  }
}

bool mentions(const std::string& message, const std::string& word) { return message.find(word) != std::string::npos; }

}  // namespace

class CrawlRequestJsonTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(CrawlRequestJsonTest);
  CPPUNIT_TEST(testFullRequest);
  CPPUNIT_TEST(testBadRequests);
  CPPUNIT_TEST(testListenAddresses);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testFullRequest() {
    const CrawlRequest r = parse_crawl_request(
        R"({"seeds":["http://a.example/","https://b.example:8443/x?y=1"],"scope":"domain","max_depth":3,)"
        R"("max_pages":100,"max_bytes":1048576,"max_seconds":60,"robots":false})");
    CPPUNIT_ASSERT_EQUAL(size_t{2}, r.seeds.size());
    CPPUNIT_ASSERT_EQUAL(std::string("https://b.example:8443/x?y=1"), r.seeds[1]);
    CPPUNIT_ASSERT_EQUAL(std::string("domain"), r.scope);
    CPPUNIT_ASSERT_EQUAL(3u, r.max_depth);
    CPPUNIT_ASSERT_EQUAL(uint64_t{100}, r.max_pages);
    CPPUNIT_ASSERT_EQUAL(uint64_t{1048576}, r.max_bytes);
    CPPUNIT_ASSERT_EQUAL(60u, r.max_seconds);
    CPPUNIT_ASSERT_EQUAL(2, r.robots);  // ignore
    CPPUNIT_ASSERT_EQUAL(1, parse_crawl_request(R"({"seeds":["http://a/"],"robots":true})").robots);
    const CrawlRequest d = parse_crawl_request(R"({"seeds":["http://a/"]})");
    CPPUNIT_ASSERT(d.scope.empty() && d.max_pages == 0 && d.robots == 0);  // configured values
  }

  void testBadRequests() {
    CPPUNIT_ASSERT(mentions(error_of(""), "not valid JSON"));
    CPPUNIT_ASSERT(mentions(error_of("{\"seeds\": ["), "not valid JSON"));
    CPPUNIT_ASSERT(mentions(error_of("[\"http://a/\"]"), "JSON object"));
    CPPUNIT_ASSERT(mentions(error_of("{}"), "'seeds' is missing"));
    CPPUNIT_ASSERT(mentions(error_of(R"({"seeds":"http://a/"})"), "'seeds' must be a list"));
    CPPUNIT_ASSERT(mentions(error_of(R"({"seeds":[]})"), "'seeds' is empty"));
    CPPUNIT_ASSERT(mentions(error_of(R"({"seeds":[7]})"), "'seeds[0]' must be a string"));
    CPPUNIT_ASSERT(mentions(error_of(R"({"seeds":["http://a/","example.org"]})"), "seeds[1]"));
    CPPUNIT_ASSERT(mentions(error_of(R"({"seeds":["ftp://a/"]})"), "scheme 'ftp'"));
    CPPUNIT_ASSERT(mentions(error_of(R"({"seeds":["http://"]})"), "seeds[0]"));
    CPPUNIT_ASSERT(mentions(error_of(R"({"seeds":["http://a/"],"scope":"world"})"), "'scope'"));
    CPPUNIT_ASSERT(mentions(error_of(R"({"seeds":["http://a/"],"max_pages":-1})"), "'max_pages' must not be negative"));
    CPPUNIT_ASSERT(mentions(error_of(R"({"seeds":["http://a/"],"max_depth":1.5})"), "'max_depth'"));
    CPPUNIT_ASSERT(mentions(error_of(R"({"seeds":["http://a/"],"max_seconds":4294967296})"), "too large"));
    CPPUNIT_ASSERT(mentions(error_of(R"({"seeds":["http://a/"],"max_bytes":"10"})"), "'max_bytes'"));
    CPPUNIT_ASSERT(mentions(error_of(R"({"seeds":["http://a/"],"robots":"no"})"), "'robots' must be true or false"));
    CPPUNIT_ASSERT(mentions(error_of(R"({"seeds":["http://a/"],"max_page":1})"), "unknown field 'max_page'"));
  }

  void testListenAddresses() {
    std::string why;
    for (const char* ok : {"", "127.0.0.1:8000", "0.0.0.0:0", "localhost:65535", "[::1]:8000"})
      CPPUNIT_ASSERT_MESSAGE(ok, check_listen_address(ok, &why));
    for (const char* bad : {"8000", ":8000", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:80a", "::1:8000", "[::1]8000"})
      CPPUNIT_ASSERT_MESSAGE(bad, !check_listen_address(bad, &why));
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(CrawlRequestJsonTest);

}  // namespace kestrel::host
