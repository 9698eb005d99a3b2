// The crawl's scope rules end to end, through the real kestreld with the real
// store-sqlite and blob-local plugins, against a loopback FixtureHttpServer
// serving tests/fixtures/scope-site: robots.txt groups, max_depth, max_pages, other
// origins (pages never, images only with offsite_images), page links whose
// body is an image or plain text. Outcomes are read from the crawler's own
// frontier (node.db) and the catalog (catalog.db).
#include <cppunit/extensions/HelperMacros.h>

#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>

#include <map>
#include <string>

#include "crawl_summary.h"
#include "integration_helpers.h"
#include "kestrel/test/fixture_http_server.h"
#include "kestrel/test/paths.h"
#include "kestrel/test/sqlite_query.h"
#include "kestreld_node.h"

using namespace kestrel::test;

namespace {

std::string site_root() { return source_dir() + "/tests/fixtures/scope-site"; }

// A server for the scope site whose start page links to the same server
// under another origin (localhost instead of 127.0.0.1).
class ScopeSite {
 public:
  ScopeSite() : server_(FixtureHttpServer::Options{site_root(), 0, 16}) {
    server_.route("/", [this](Poco::Net::HTTPServerRequest&, Poco::Net::HTTPServerResponse& res) {
      const std::string other = "http://localhost:" + std::to_string(server_.port());
      const std::string html =
          "<!DOCTYPE html><html><head><title>start</title></head><body>\n"
          "<a href=\"a1.html\">in scope</a>\n"
          "<a href=\"/private/p.html\">disallowed</a>\n"
          "<a href=\"" + other + "/a1.html\">other origin: never followed</a>\n"
          "<a href=\"/img/linked.png\">a link to an image</a>\n"
          "<a href=\"/doc.txt\">plain text</a>\n"
          "<img src=\"/img/red.png\" alt=\"\">\n"
          "<img src=\"" + other + "/img/offsite.png\" alt=\"\">\n"
          "</body></html>\n";
      res.setContentType("text/html; charset=utf-8");
      res.sendBuffer(html.data(), html.size());
    });
    server_.start();
  }
  FixtureHttpServer& server() { return server_; }
  std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(server_.port()) + path; }
  std::string other(const std::string& path) const {
    return "http://localhost:" + std::to_string(server_.port()) + path;
  }

 private:
  FixtureHttpServer server_;
};

// url -> "state/reason" of the only run in node.db.
std::map<std::string, std::string> frontier(const KestrelNode& node) {
  std::map<std::string, std::string> out;
  for (const auto& r : sqlite_query(node.node_db(), "SELECT url, state, reason FROM frontier"))
    out[r[0]] = r[1] + "/" + r[2];
  return out;
}

// url -> "WxH filename source" of the images rows.
std::map<std::string, std::string> images(const KestrelNode& node) {
  std::map<std::string, std::string> out;
  for (const auto& r : sqlite_query(node.catalog_db(), "SELECT url, width, height, filename, source_url FROM images"))
    out[r[0]] = r[1] + "x" + r[2] + " " + r[3] + " " + r[4];
  return out;
}

}  // namespace

class CrawlerScopeTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(CrawlerScopeTest);
  CPPUNIT_TEST(testRobotsDepthOriginsAndLinkedImages);
  CPPUNIT_TEST(testMaxPagesAndNoOffsiteImages);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testRobotsDepthOriginsAndLinkedImages() {
    ScopeSite site;
    KestrelNode node(CrawlerOptions{{"max_depth", "2"}});
    KestrelNode::Run run = node.run_once({site.url("/")});
    CPPUNIT_ASSERT_EQUAL_MESSAGE(run_output(run), 0, run.exit_code);

    auto f = frontier(node);
    const std::string why = run_output(run);
    CPPUNIT_ASSERT_EQUAL_MESSAGE(why, std::string("skipped/robots_denied"), f[site.url("/private/p.html")]);
    CPPUNIT_ASSERT_EQUAL_MESSAGE(why, std::string("skipped/not_html"), f[site.url("/doc.txt")]);
    CPPUNIT_ASSERT_EQUAL_MESSAGE(why, std::string("done/"), f[site.url("/a2.html")]);
    CPPUNIT_ASSERT_MESSAGE("a3.html is beyond max_depth 2", f.count(site.url("/a3.html")) == 0);
    CPPUNIT_ASSERT_MESSAGE("pages of other origins are out of scope", f.count(site.other("/a1.html")) == 0);
    CPPUNIT_ASSERT_EQUAL(uint64_t{0}, site.server().requests("/a3.html"));
    CPPUNIT_ASSERT_EQUAL(uint64_t{0}, site.server().requests("/private/p.html"));

    auto rows = images(node);
    CPPUNIT_ASSERT_EQUAL_MESSAGE(why, size_t{4}, rows.size());
    CPPUNIT_ASSERT_EQUAL(std::string("7x5 red.png ") + site.url("/"), rows[site.url("/img/red.png")]);
    CPPUNIT_ASSERT_EQUAL(std::string("9x4 linked.png ") + site.url("/"), rows[site.url("/img/linked.png")]);
    CPPUNIT_ASSERT_EQUAL(std::string("3x3 deep.png ") + site.url("/a2.html"), rows[site.url("/img/deep.png")]);
    CPPUNIT_ASSERT_EQUAL(std::string("6x2 offsite.png ") + site.url("/"), rows[site.other("/img/offsite.png")]);

    CrawlSummary summary = parse_crawl_summary(run.out);
    CPPUNIT_ASSERT_EQUAL(std::string("finished"), summary.state);
    CPPUNIT_ASSERT_EQUAL(uint64_t{3}, summary.pages);  // "/", a1, a2
    CPPUNIT_ASSERT_EQUAL(uint64_t{0}, summary.errors);  // skips are not errors
  }

  void testMaxPagesAndNoOffsiteImages() {
    ScopeSite site;
    KestrelNode node(CrawlerOptions{{"max_pages", "2"}, {"offsite_images", "false"}});
    KestrelNode::Run run = node.run_once({site.url("/")});
    CPPUNIT_ASSERT_EQUAL_MESSAGE(run_output(run), 0, run.exit_code);

    CrawlSummary summary = parse_crawl_summary(run.out);
    CPPUNIT_ASSERT_EQUAL_MESSAGE(run_output(run), uint64_t{2}, summary.pages);
    CPPUNIT_ASSERT_EQUAL(uint64_t{0}, site.server().requests("/a2.html"));
    CPPUNIT_ASSERT_EQUAL(uint64_t{0}, site.server().requests("/img/offsite.png"));
    auto f = frontier(node);
    CPPUNIT_ASSERT(f.count(site.other("/img/offsite.png")) == 0);
    size_t over_limit = 0;
    for (const auto& [url, state] : f) over_limit += state == "skipped/max_pages";
    CPPUNIT_ASSERT_MESSAGE(run_output(run), over_limit >= 1);
    auto rows = images(node);
    CPPUNIT_ASSERT_MESSAGE(run_output(run), rows.count(site.url("/img/red.png")) == 1);
    CPPUNIT_ASSERT(rows.count(site.other("/img/offsite.png")) == 0);
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(CrawlerScopeTest);
