// The fault site, politeness side: three origins crawled at once.
//   A: robots.txt with a group for Kestrel (Disallow, a longer Allow, Crawl-delay 0.3)
//      under a "*" group that disallows everything, and a Sitemap: line naming a
//      sitemap index whose gzip sitemap lists a page no other page links to.
//   B: robots.txt answers 503: RFC 9309 §2.3.1.4, the whole origin is disallowed.
//   C: robots.txt redirects (followed, RFC 9309 §2.3.1.2) and an endless page
//      generator is cut by max_pages_per_host.
// Asserts what was fetched, stored and recorded as skipped, and that request
// starts to A were spaced by at least the Crawl-delay (a lower bound only).
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/URI.h>
#include <cppunit/extensions/HelperMacros.h>

#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include "catalog_checks.h"
#include "fault_helpers.h"
#include "integration_helpers.h"
#include "kestrel/test/files.h"
#include "kestrel/test/fixture_http_server.h"
#include "kestrel/test/sqlite_query.h"
#include "kestrel/test/temp_dir.h"
#include "kestreld_node.h"

using namespace kestrel::test;
using Poco::Net::HTTPResponse;
using Poco::Net::HTTPServerRequest;
using Poco::Net::HTTPServerResponse;

namespace {

// Arrival times of requests, in order. Server threads add; the test reads after the crawl.
struct Arrivals {
  std::mutex mu;
  std::vector<std::chrono::steady_clock::time_point> at;
  void add() {
    std::lock_guard<std::mutex> lock(mu);
    at.push_back(std::chrono::steady_clock::now());
  }
};

}  // namespace

class PolitenessTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(PolitenessTest);
  CPPUNIT_TEST(testRobotsSitemapsAndDelays);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testRobotsSitemapsAndDelays() {
    TempDir scratch("politeness");
    const std::string images = make_fault_images(scratch);
    FixtureHttpServer a(FixtureHttpServer::Options{"", 0, 16});
    FixtureHttpServer b(FixtureHttpServer::Options{"", 0, 16});
    FixtureHttpServer c(FixtureHttpServer::Options{"", 0, 16});
    // Ports are known only after start(), and routes must come before it: the
    // sitemaps name their own origin, so A's routes build URLs from the Host header.
    Arrivals arrivals;
    auto on_a = [&a, &arrivals](const std::string& path, FixtureHttpServer::Handler h) {
      a.route(path, [&arrivals, h](HTTPServerRequest& req, HTTPServerResponse& res) {
        arrivals.add();
        h(req, res);
      });
    };
    auto html = [](const std::string& body) {
      return [body](HTTPServerRequest&, HTTPServerResponse& res) { send_body(res, body, "text/html"); };
    };
    auto png = [&images](const std::string& name) {
      const std::string body = read_file(images + "/" + name);
      return [body](HTTPServerRequest&, HTTPServerResponse& res) { send_body(res, body, "image/png"); };
    };
    auto origin = [](HTTPServerRequest& req) { return "http://" + req.getHost(); };
    on_a("/robots.txt", [origin](HTTPServerRequest& req, HTTPServerResponse& res) {
      send_body(res,
                "User-agent: *\nDisallow: /\n\n"
                "User-agent: Kestrel\nDisallow: /private/\nAllow: /private/open.html\nCrawl-delay: 0.3\n\n"
                "Sitemap: " + origin(req) + "/sitemap-index.xml\n",
                "text/plain");
    });
    on_a("/index.html", html("<a href=/private/secret.html>s</a> <a href=/private/open.html>o</a> "
                             "<img src=/private/private.png> <img src=/img/ok.png>"));
    on_a("/private/open.html", html("<img src=/img/open.png>"));
    on_a("/private/secret.html", html("secret"));
    on_a("/orphan.html", html("<img src=/img/sitemap-only.png>"));
    on_a("/img/ok.png", png("ok.png"));
    on_a("/img/open.png", png("open.png"));
    on_a("/img/sitemap-only.png", png("sitemap-only.png"));
    on_a("/private/private.png", png("private.png"));
    on_a("/sitemap-index.xml", [origin](HTTPServerRequest& req, HTTPServerResponse& res) {
      send_body(res,
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                "<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n"
                "  <sitemap><loc>" + origin(req) + "/sitemap1.xml.gz</loc></sitemap>\n</sitemapindex>\n",
                "application/xml");
    });
    on_a("/sitemap1.xml.gz", [origin](HTTPServerRequest& req, HTTPServerResponse& res) {
      send_body(res,
                gzip("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                     "<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n"
                     "  <url><loc> " + origin(req) + "/orphan.html </loc><lastmod>2024-01-01</lastmod></url>\n"
                     "  <url><loc>http://elsewhere.invalid/page.html</loc></url>\n</urlset>\n"),
                "application/gzip");
    });

    b.route("/robots.txt", [](HTTPServerRequest&, HTTPServerResponse& res) {
      send_body(res, "down", "text/plain", HTTPResponse::HTTP_SERVICE_UNAVAILABLE);
    });
    b.route("/index.html", html("<img src=/b.png>"));

    c.route("/robots.txt", [](HTTPServerRequest&, HTTPServerResponse& res) {
      res.redirect("/real-robots.txt", HTTPResponse::HTTP_MOVED_PERMANENTLY);
    });
    c.route("/real-robots.txt", [](HTTPServerRequest&, HTTPServerResponse& res) {
      send_body(res, "User-agent: *\nDisallow: /secret.html\n", "text/plain");
    });
    c.route("/index.html", html("<a href=/secret.html>s</a> <a href=/gen?n=0>g</a> <img src=/c-ok.png>"));
    c.route("/c-ok.png", png("c-ok.png"));
    c.route("/gen", [](HTTPServerRequest& req, HTTPServerResponse& res) {
      const int n = std::stoi(Poco::URI(req.getURI()).getQuery().substr(2));
      send_body(res, "<a href=\"/gen?n=" + std::to_string(n + 1) + "\">next</a>", "text/html");
    });
    a.start();
    b.start();
    c.start();

    KestrelNode node(CrawlerOptions{{"sitemaps", "true"}, {"max_pages_per_host", "4"}});
    KestrelNode::Run run =
        node.run_once({a.url() + "index.html", b.url() + "index.html", c.url() + "index.html"}, std::chrono::seconds(120));
    CPPUNIT_ASSERT_EQUAL_MESSAGE(run_output(run), 0, run.exit_code);
    const std::string db = node.node_db(), cat = node.catalog_db();
    auto status = [&](const std::string& url) {
      FetchStatus s = fetch_status(db, url);
      CPPUNIT_ASSERT_MESSAGE(describe(url, s) + "\n" + run_output(run), s.found);
      return s;
    };
    auto assert_state = [&](const std::string& url, const std::string& state, const std::string& reason) {
      const FetchStatus s = status(url);
      CPPUNIT_ASSERT_EQUAL_MESSAGE(describe(url, s), state, s.state);
      CPPUNIT_ASSERT_EQUAL_MESSAGE(describe(url, s), reason, s.reason);
    };

    // A: the Kestrel group applies (not "*"), the longer Allow beats the Disallow.
    assert_state(a.url() + "private/secret.html", "skipped", "robots_denied");
    assert_state(a.url() + "private/private.png", "skipped", "robots_denied");
    assert_state(a.url() + "private/open.html", "done", "");
    CPPUNIT_ASSERT_EQUAL(uint64_t{0}, a.requests("/private/secret.html"));
    CPPUNIT_ASSERT_EQUAL(uint64_t{0}, a.requests("/private/private.png"));
    // The sitemap index, its gzip sitemap, and the page only the sitemap names.
    assert_state(a.url() + "sitemap-index.xml", "done", "");
    assert_state(a.url() + "sitemap1.xml.gz", "done", "");
    assert_state(a.url() + "orphan.html", "done", "");
    CPPUNIT_ASSERT_EQUAL(size_t{0}, count_frontier(db, "http://elsewhere.invalid/"));  // other hosts: not followed
    for (const char* img : {"img/ok.png", "img/open.png", "img/sitemap-only.png"}) {
      assert_state(a.url() + img, "done", "");
      CPPUNIT_ASSERT_EQUAL_MESSAGE(img, size_t{1}, catalog_rows(cat, a.url() + img));
    }
    // Crawl-delay 0.3 s: no two requests to A arrived closer than half of it
    // (arrival jitter on a loaded machine is not the crawler's), whatever
    // per_host_connections allows; without the delay they come milliseconds apart.
    {
      std::lock_guard<std::mutex> lock(arrivals.mu);
      CPPUNIT_ASSERT(arrivals.at.size() >= 8);
      for (size_t i = 1; i < arrivals.at.size(); ++i) {
        const auto gap = std::chrono::duration_cast<std::chrono::milliseconds>(arrivals.at[i] - arrivals.at[i - 1]);
        CPPUNIT_ASSERT_MESSAGE("request " + std::to_string(i) + " came " + std::to_string(gap.count()) +
                                   " ms after the previous one",
                               gap.count() >= 150);
      }
    }

    // B: robots.txt 503 means "unreachable": nothing else of B is fetched.
    assert_state(b.url() + "index.html", "skipped", "robots_denied");
    CPPUNIT_ASSERT_EQUAL(uint64_t{1}, b.total_requests());

    // C: the robots.txt redirect was followed and its rules applied; the page
    // generator stopped at max_pages_per_host (index + 3 generated pages).
    CPPUNIT_ASSERT_EQUAL(uint64_t{1}, c.requests("/real-robots.txt"));
    assert_state(c.url() + "secret.html", "skipped", "robots_denied");
    CPPUNIT_ASSERT_EQUAL(uint64_t{0}, c.requests("/secret.html"));
    CPPUNIT_ASSERT_EQUAL(uint64_t{3}, c.requests("/gen"));
    CPPUNIT_ASSERT_EQUAL(size_t{1}, count_frontier(db, c.url() + "gen?", "reason = 'max_pages_per_host'"));
    CPPUNIT_ASSERT_EQUAL(size_t{1}, catalog_rows(cat, c.url() + "c-ok.png"));

    CPPUNIT_ASSERT_EQUAL(size_t{0}, count_frontier(db, "http", "state = 'queued'"));
    CPPUNIT_ASSERT_EQUAL(size_t{4}, read_image_rows(cat).size());
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(PolitenessTest);
