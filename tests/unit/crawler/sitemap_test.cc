// parse_sitemap: urlset, sitemap index, gzip, size cap, bad XML.
#include <Poco/DeflatingStream.h>
#include <cppunit/extensions/HelperMacros.h>

#include <sstream>
#include <string>
#include <vector>

#include "sitemap.h"

namespace kestrel::crawler {
namespace {

std::string gzip(const std::string& data) {
  std::ostringstream out;
  Poco::DeflatingOutputStream z(out, Poco::DeflatingStreamBuf::STREAM_GZIP);
  z << data;
  z.close();
  return out.str();
}

const char* const kUrlset =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n"
    "  <url><loc>http://example.org/a.html</loc><lastmod>2024-01-01</lastmod></url>\n"
    "  <url><loc>\n  http://example.org/b.html?x=1&amp;y=2\n  </loc></url>\n"
    "  <url><loc>/relative.html</loc></url>\n"
    "  <url><image:loc xmlns:image=\"http://www.google.com/schemas/sitemap-image/1.1\">http://example.org/"
    "i.png</image:loc></url>\n"
    "</urlset>\n";

}  // namespace

class SitemapTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(SitemapTest);
  CPPUNIT_TEST(testUrlset);
  CPPUNIT_TEST(testIndexAndGzip);
  CPPUNIT_TEST(testSizeCapHoldsAfterDecompression);
  CPPUNIT_TEST(testBadXmlKeepsWhatCameBefore);
  CPPUNIT_TEST_SUITE_END();

  using Urls = std::vector<std::string>;

 public:
  void testUrlset() {
    const SitemapLinks s = parse_sitemap(kUrlset, 1 << 20);
    CPPUNIT_ASSERT_EQUAL(std::string(), s.error);
    CPPUNIT_ASSERT(s.pages == Urls({"http://example.org/a.html", "http://example.org/b.html?x=1&y=2"}));
    CPPUNIT_ASSERT(s.sitemaps.empty());
    CPPUNIT_ASSERT(s.invalid == Urls({"/relative.html"}));
  }

  void testIndexAndGzip() {
    const std::string index =
        "<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">"
        "<sitemap><loc>http://example.org/s1.xml.gz</loc></sitemap>"
        "<sitemap><loc>http://example.org/s2.xml</loc></sitemap></sitemapindex>";
    const SitemapLinks s = parse_sitemap(gzip(index), 1 << 20);
    CPPUNIT_ASSERT_EQUAL(std::string(), s.error);
    CPPUNIT_ASSERT(s.sitemaps == Urls({"http://example.org/s1.xml.gz", "http://example.org/s2.xml"}));
    CPPUNIT_ASSERT(s.pages.empty());
    CPPUNIT_ASSERT_EQUAL(size_t{2}, parse_sitemap(gzip(kUrlset), 1 << 20).pages.size());
    CPPUNIT_ASSERT_EQUAL(size_t{1}, parse_sitemap(kUrlset, 1 << 20, 1).pages.size());  // max_urls
  }

  void testSizeCapHoldsAfterDecompression() {
    std::string big = "<urlset>";
    while (big.size() < (4u << 20)) big += "<url><loc>http://example.org/x.html</loc></url>";
    big += "</urlset>";
    const std::string packed = gzip(big);
    CPPUNIT_ASSERT(packed.size() < (1u << 20));
    const SitemapLinks s = parse_sitemap(packed, 1 << 20);
    CPPUNIT_ASSERT_MESSAGE(s.error, s.error.find("larger than 1048576 bytes") != std::string::npos);
    CPPUNIT_ASSERT(s.pages.empty());
    CPPUNIT_ASSERT(parse_sitemap(big, 1 << 20).error.find("larger than") != std::string::npos);
    CPPUNIT_ASSERT(parse_sitemap(big, 8u << 20).error.empty());
  }

  void testBadXmlKeepsWhatCameBefore() {
    const SitemapLinks s = parse_sitemap("<urlset><url><loc>http://example.org/a</loc></url><url><loc>", 1 << 20);
    CPPUNIT_ASSERT(s.error.find("XML") == 0);
    CPPUNIT_ASSERT(s.pages == Urls({"http://example.org/a"}));
    CPPUNIT_ASSERT(!parse_sitemap("not xml at all", 1 << 20).error.empty());
    CPPUNIT_ASSERT(parse_sitemap(std::string("\x1f\x8bgarbage", 9), 1 << 20).error.find("gzip") == 0);
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(SitemapTest);

}  // namespace kestrel::crawler
