// A crawl of tests/fixtures/site, which references a 404 image, a corrupt PNG,
// an HTML file named .png and a 404 page, plus server faults this test serves
// as routes (a redirect loop, a 500, a body cut short, a body over
// max_body_size): each failure is counted and named in the summary and the
// crawl_sessions row, and every good image is stored.
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <cppunit/extensions/HelperMacros.h>

#include <map>
#include <string>

#include "catalog_checks.h"
#include "crawl_summary.h"
#include "integration_helpers.h"
#include "kestrel/test/expected_catalog.h"
#include "kestrel/test/files.h"
#include "kestrel/test/fixture_http_server.h"
#include "kestrel/test/sqlite_query.h"
#include "kestrel/test/temp_dir.h"
#include "kestreld_node.h"

using namespace kestrel::test;

class FailuresTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(FailuresTest);
  CPPUNIT_TEST(testFailuresAreCountedAndTheRestIsStored);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testFailuresAreCountedAndTheRestIsStored() {
    FixtureHttpServer server(FixtureHttpServer::Options{fixture_site_root(), 0, 16});
    add_fault_routes(server);
    server.start();
    TempDir scratch("failures-expected");
    ExpectedCatalog expected = expected_catalog(fixture_site_root(), server.url(), scratch.path());
    // The fixture's failures, as expected_images.py classifies them (it sees
    // the fault routes as missing files).
    // broken: missing.png (404), truncated.png, huge.png; invalid: corrupt.png,
    // not-really.png; broken links: missing-page.html (404), loop.html, server-error.html.
    CPPUNIT_ASSERT_EQUAL(size_t{3}, expected.broken.size());
    CPPUNIT_ASSERT_EQUAL(size_t{2}, expected.invalid.size());
    CPPUNIT_ASSERT_EQUAL(size_t{3}, expected.broken_links.size());

    KestrelNode node(CrawlerOptions{{"max_depth", "1000"}, {"max_body_size", "64KiB"}});
    KestrelNode::Run run = node.run_once({server.url()});
    CPPUNIT_ASSERT_EQUAL_MESSAGE(run_output(run), 0, run.exit_code);

    std::vector<CatalogRow> rows = read_image_rows(node.catalog_db());
    auto problems = compare_catalog(expected, rows, node.images_dir());
    CPPUNIT_ASSERT_MESSAGE(describe_problems(problems), problems.empty());
    CPPUNIT_ASSERT_EQUAL(std::string("ok"), integrity_check(node.catalog_db()));
    // red.png and red-copy.png have the same bytes: two rows, one blob.
    auto orphans = unreferenced_blobs(rows, node.images_dir());
    CPPUNIT_ASSERT_MESSAGE(describe_problems(orphans), orphans.empty());
    CPPUNIT_ASSERT_EQUAL(rows.size() - 1, list_files(node.images_dir()).size());

    CrawlSummary summary = parse_crawl_summary(run.out);
    CPPUNIT_ASSERT_MESSAGE(run_output(run), summary.found);
    CPPUNIT_ASSERT_EQUAL(std::string("finished"), summary.state);
    CPPUNIT_ASSERT_EQUAL_MESSAGE(run_output(run), uint64_t{expected.images.size()}, summary.images_stored);
    for (const auto* list : {&expected.broken, &expected.invalid, &expected.broken_links})
      for (const auto& f : *list)
        CPPUNIT_ASSERT_MESSAGE(f.url + " is not in the summary's failed lines\n" + run_output(run),
                               summary.failed.count(f.url) == 1);
    // The reason each failure is filed under (crawler-http's error kinds).
    const std::map<std::string, std::string> kinds = {{"images/missing.png", "http_404"},
                                                      {"missing-page.html", "http_404"},
                                                      {"images/corrupt.png", "bad_image"},
                                                      {"images/not-really.png", "not_an_image"},
                                                      {"images/truncated.png", "truncated"},
                                                      {"images/huge.png", "too_large"},
                                                      {"loop.html", "redirects"},
                                                      {"server-error.html", "http_5xx"}};
    for (const auto& [path, kind] : kinds)
      CPPUNIT_ASSERT_EQUAL_MESSAGE(path + "\n" + run_output(run), kind, summary.failed[server.url() + path]);
    const size_t failures = expected.broken.size() + expected.invalid.size() + expected.broken_links.size();
    CPPUNIT_ASSERT_EQUAL(kinds.size(), failures);
    CPPUNIT_ASSERT_MESSAGE(run_output(run), summary.errors >= failures);
    // Each page was fetched once, though index.html links page2.html twice
    // (once with a fragment) and two pages link sub/page3.html, spelled
    // differently (via <base href> and as ./page3.html).
    CPPUNIT_ASSERT_EQUAL(uint64_t{1}, server.requests("/page2.html"));
    CPPUNIT_ASSERT_EQUAL(uint64_t{1}, server.requests("/sub/page3.html"));

    auto sessions = sqlite_query(node.catalog_db(), "SELECT state, errors FROM crawl_sessions ORDER BY id");
    CPPUNIT_ASSERT_EQUAL(size_t{1}, sessions.size());
    CPPUNIT_ASSERT_EQUAL(std::string("finished"), sessions[0][0]);
    CPPUNIT_ASSERT(std::stoull(sessions[0][1]) >= failures);
  }

 private:
  // The faults faults.html links to. Each handler runs on a server thread.
  static void add_fault_routes(FixtureHttpServer& server) {
    using Poco::Net::HTTPResponse;
    using Poco::Net::HTTPServerRequest;
    using Poco::Net::HTTPServerResponse;
    server.route("/loop.html", [](HTTPServerRequest&, HTTPServerResponse& res) {
      res.redirect("/loop.html", HTTPResponse::HTTP_FOUND);  // to itself, forever
    });
    server.route("/server-error.html", [](HTTPServerRequest&, HTTPServerResponse& res) {
      const std::string body = "<p>broken</p>";
      res.setStatus(HTTPResponse::HTTP_INTERNAL_SERVER_ERROR);
      res.setContentType("text/html");
      res.setContentLength(static_cast<std::streamsize>(body.size()));
      res.send() << body;
    });
    server.route("/images/truncated.png", [](HTTPServerRequest&, HTTPServerResponse& res) {
      // Announces 1000 bytes, sends 40, then the server closes the connection.
      res.setContentType("image/png");
      res.setContentLength(1000);
      res.setKeepAlive(false);
      res.send() << std::string("\x89PNG\r\n\x1a\n", 8) << std::string(32, '\0');
    });
    server.route("/images/huge.png", [](HTTPServerRequest&, HTTPServerResponse& res) {
      // 256 KiB, four times the test's max_body_size.
      const std::string body = std::string("\x89PNG\r\n\x1a\n", 8) + std::string(256 * 1024 - 8, 'x');
      res.setContentType("image/png");
      res.setContentLength(static_cast<std::streamsize>(body.size()));
      res.send() << body;
    });
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(FailuresTest);
