// The fault site, HTTP side: one crawl of a FixtureHttpServer whose routes
// misbehave in every way issue 3 lists (error statuses, Retry-After, a
// connection closed with no reply, bodies cut short or stalled, headers late,
// huge and gzip-bomb bodies, a pixel bomb, wrong types, truncated/empty/garbage
// images, redirect loops and chains, link traps, pages sharing an ETag, CSS
// images, the same bytes under three URLs). Each case asserts what was stored
// in catalog.db and what node.db's fetch status record says, and why.
#include <Poco/DateTimeFormat.h>
#include <Poco/DateTimeFormatter.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Timespan.h>
#include <Poco/Timestamp.h>
#include <Poco/URI.h>
#include <cppunit/extensions/HelperMacros.h>

#include <atomic>
#include <chrono>
#include <map>
#include <string>
#include <thread>

#include "catalog_checks.h"
#include "crawl_summary.h"
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

const char* const kIndex = R"html(<!DOCTYPE html><html><head><title>faults</title>
<link rel="stylesheet" href="/style.css">
<style>.x { background: url("/img/inline-bg.png") }</style>
</head><body>
<div style="background-image: url(/img/attr-bg.png)"></div>
<img src="/img/ok.png"><img src="/img/ok-copy.png"><img src="/img/ok-again.png">
<img src="/img/404.png"><img src="/img/410.png"><img src="/img/500.png">
<img src="/img/retry-503.png"><img src="/img/retry-429.png"><img src="/img/always-503.png">
<img src="/img/no-reply.png"><img src="/img/short.png"><img src="/img/stall.png"><img src="/img/slow-headers.png">
<img src="/img/huge.png"><img src="/img/huge-chunked.png"><img src="/img/gzip-bomb.png">
<img src="/img/pixel-bomb.png"><img src="/img/html.png"><img src="/img/wrong-type.jpg">
<img src="/img/truncated.png"><img src="/img/empty.png"><img src="/img/garbage.png">
<a href="/loop.html">loop</a> <a href="/chain?n=0">long chain</a> <a href="/short-chain?n=0">short chain</a>
<a href="/trap?p=a">growing trap</a> <a href="/gen?n=0">endless trap</a>
<a href="/etag-a.html">a</a> <a href="/etag-b.html">b</a>
</body></html>)html";

// Streams `chunk` until the client goes away or `max_bytes` were written.
void stream_until_closed(std::ostream& out, const std::string& first, size_t max_bytes) {
  const std::string chunk(64 * 1024, 'x');
  out << first;
  for (size_t sent = first.size(); sent < max_bytes && out; sent += chunk.size()) out << chunk;
}

}  // namespace

class HttpFaultsTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(HttpFaultsTest);
  CPPUNIT_TEST(testEveryFaultIsStoredOrRecordedWithItsReason);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testEveryFaultIsStoredOrRecordedWithItsReason() {
    TempDir scratch("http-faults");
    const std::string images = make_fault_images(scratch);
    const std::string ok_png = read_file(images + "/ok.png");
    FixtureHttpServer server(FixtureHttpServer::Options{"", 0, 64});
    std::atomic<int> hits_503{0}, hits_429{0};
    add_routes(server, images, hits_503, hits_429);
    server.start();
    const std::string base = server.url();  // ends with '/'

    KestrelNode node(CrawlerOptions{{"max_depth", "6"},
                                    {"max_body_size", "1MiB"},
                                    {"max_retries", "1"},
                                    {"retry_backoff", "100ms"},
                                    {"max_retry_backoff", "200ms"},
                                    {"max_retry_after", "2s"},
                                    {"timeout", "3s"},
                                    {"low_speed_time", "2s"},
                                    {"max_url_length", "60"},
                                    {"per_host_connections", "16"},
                                    {"concurrency", "16"}});
    KestrelNode::Run run = node.run_once({base + "index.html"}, std::chrono::seconds(120));
    CPPUNIT_ASSERT_EQUAL_MESSAGE(run_output(run), 0, run.exit_code);
    const std::string db = node.node_db();
    const std::string cat = node.catalog_db();

    auto expect = [&](const std::string& path, const std::string& state, const std::string& reason,
                      const std::string& http_status, const std::string& attempts) {
      const FetchStatus s = fetch_status(db, base + path);
      const std::string msg = describe(base + path, s) + "\n" + run_output(run);
      CPPUNIT_ASSERT_MESSAGE(msg, s.found);
      CPPUNIT_ASSERT_EQUAL_MESSAGE(msg, state, s.state);
      CPPUNIT_ASSERT_EQUAL_MESSAGE(msg, reason, s.reason);
      if (!http_status.empty()) CPPUNIT_ASSERT_EQUAL_MESSAGE(msg, http_status, s.http_status);
      if (!attempts.empty()) CPPUNIT_ASSERT_EQUAL_MESSAGE(msg, attempts, s.attempts);
      const size_t rows = catalog_rows(cat, base + path);
      CPPUNIT_ASSERT_EQUAL_MESSAGE(msg, size_t{state == "done" && s.kind == "image" ? 1u : 0u}, rows);
      return s;
    };

    // Stored: the same bytes under three URLs (three rows, one file), CSS images
    // from a linked stylesheet, a <style> element and a style attribute, an image
    // served as text/plain (sniffed), and the two Retry-After cases after one retry.
    for (const char* p : {"img/ok.png", "img/ok-copy.png", "img/ok-again.png", "img/bg.png", "img/inline-bg.png",
                          "img/attr-bg.png", "img/wrong-type.jpg", "img/etag-a.png", "img/etag-b.png"})
      expect(p, "done", "", "200", "1");
    expect("style.css", "done", "", "200", "1");
    expect("img/retry-503.png", "done", "", "200", "2");
    expect("img/retry-429.png", "done", "", "200", "2");
    auto same = sqlite_query(cat, "SELECT COUNT(*), COUNT(DISTINCT file_path) FROM images WHERE sha256 = (SELECT sha256 "
                                  "FROM images WHERE url = '" + base + "img/ok.png')");
    CPPUNIT_ASSERT_EQUAL(std::string("3"), same[0][0]);
    CPPUNIT_ASSERT_EQUAL(std::string("1"), same[0][1]);
    CPPUNIT_ASSERT_EQUAL(std::string("jpeg"),
                         sqlite_scalar(cat, "SELECT format FROM images WHERE url = '" + base + "img/wrong-type.jpg'"));
    CPPUNIT_ASSERT_EQUAL(2, hits_503.load());
    CPPUNIT_ASSERT_EQUAL(2, hits_429.load());

    // Rejected, with the reason and the status record.
    expect("img/404.png", "failed", "http_404", "404", "1");
    expect("img/410.png", "failed", "http_410", "410", "1");
    expect("img/500.png", "failed", "http_5xx", "500", "1");  // 500 is final; 502/503/504 are retried
    expect("img/always-503.png", "failed", "http_5xx", "503", "2");  // Retry-After 100000 s cut to 2 s
    expect("img/no-reply.png", "failed", "no_reply", "0", "2");
    expect("img/short.png", "failed", "truncated", "200", "2");
    const FetchStatus stall = expect("img/stall.png", "failed", "timeout", "200", "2");
    const FetchStatus late = expect("img/slow-headers.png", "failed", "timeout", "0", "2");
    expect("img/huge.png", "failed", "too_large", "", "1");
    const FetchStatus chunked = expect("img/huge-chunked.png", "failed", "too_large", "200", "1");
    const FetchStatus bomb = expect("img/gzip-bomb.png", "failed", "too_large", "200", "1");
    // The caps count decoded bytes and stop there: nothing past 1 MiB was kept.
    CPPUNIT_ASSERT(std::stoull(chunked.bytes) <= 1024 * 1024);
    CPPUNIT_ASSERT(std::stoull(bomb.bytes) <= 1024 * 1024);
    expect("img/pixel-bomb.png", "failed", "too_many_pixels", "200", "1");
    expect("img/html.png", "failed", "not_an_image", "200", "1");
    expect("img/empty.png", "failed", "not_an_image", "200", "1");
    expect("img/garbage.png", "failed", "not_an_image", "200", "1");
    const FetchStatus cut = expect("img/truncated.png", "failed", "truncated", "200", "1");
    CPPUNIT_ASSERT_MESSAGE(cut.detail, cut.detail.find("IEND") != std::string::npos);
    (void)stall;
    (void)late;

    // Redirects: a loop and a 20-hop chain fail (max_redirects 10); a 3-hop chain
    // lands and records where.
    expect("loop.html", "failed", "redirects", "", "1");
    expect("chain?n=0", "failed", "redirects", "", "1");
    const FetchStatus landed = expect("short-chain?n=0", "done", "", "200", "1");
    CPPUNIT_ASSERT_EQUAL(base + "landing.html", landed.final_url);

    // Pages sharing an ETag are both fetched and parsed (their images are stored above).
    expect("etag-a.html", "done", "", "200", "1");
    expect("etag-b.html", "done", "", "200", "1");

    // Link traps: a URL that doubles is cut by max_url_length; an endless
    // constant-length chain by max_depth (index is depth 0, so /gen?n=0..5).
    CPPUNIT_ASSERT(count_frontier(db, base + "trap?", "reason = 'url_too_long' AND state = 'skipped'") == 1);
    CPPUNIT_ASSERT_EQUAL(uint64_t{5}, server.requests("/trap"));  // p of 1, 2, 4, 8, 16 bytes; 32 is too long
    CPPUNIT_ASSERT_EQUAL(uint64_t{6}, server.requests("/gen"));
    CPPUNIT_ASSERT_EQUAL(size_t{0}, count_frontier(db, base, "state = 'queued'"));

    // Each stored or unchanged URL was requested once; nothing was fetched twice
    // except the retried ones.
    CPPUNIT_ASSERT_EQUAL(uint64_t{1}, server.requests("/img/ok.png"));
    CPPUNIT_ASSERT_EQUAL(uint64_t{1}, server.requests("/index.html"));
    CPPUNIT_ASSERT_EQUAL(uint64_t{0}, server.requests("/img/commented.png"));  // in a CSS comment

    // The store: 3 + 9 distinct images... every row has its file, no temp files.
    std::vector<CatalogRow> rows = read_image_rows(cat);
    CPPUNIT_ASSERT_EQUAL(size_t{11}, rows.size());
    auto blobs = check_blobs(rows, node.images_dir());
    CPPUNIT_ASSERT_MESSAGE(describe_problems(blobs), blobs.empty());
    CPPUNIT_ASSERT(temporary_files(node.images_dir()).empty());
    CPPUNIT_ASSERT_EQUAL(size_t{9}, list_files(node.images_dir()).size());

    // The session row counts the failures by kind.
    auto session = sqlite_query(cat, "SELECT state, images, errors, errors_json FROM crawl_sessions");
    CPPUNIT_ASSERT_EQUAL(size_t{1}, session.size());
    CPPUNIT_ASSERT_EQUAL(std::string("finished"), session[0][0]);
    CPPUNIT_ASSERT_EQUAL(std::string("11"), session[0][1]);
    CPPUNIT_ASSERT_MESSAGE(session[0][3], session[0][3].find("\"too_many_pixels\":1") != std::string::npos);
    CPPUNIT_ASSERT_MESSAGE(session[0][3], session[0][3].find("\"no_reply\":1") != std::string::npos);
  }

 private:
  static void add_routes(FixtureHttpServer& server, const std::string& images, std::atomic<int>& hits_503,
                         std::atomic<int>& hits_429) {
    auto file = [images](const std::string& name) { return read_file(images + "/" + name); };
    auto png = [file](const std::string& name) {
      const std::string body = file(name);
      return [body](HTTPServerRequest&, HTTPServerResponse& res) { send_body(res, body, "image/png"); };
    };
    server.route("/index.html", [](HTTPServerRequest&, HTTPServerResponse& res) {
      send_body(res, kIndex, "text/html; charset=utf-8");
    });
    server.route("/landing.html", [](HTTPServerRequest&, HTTPServerResponse& res) {
      send_body(res, "<!DOCTYPE html><p>landed</p>", "text/html");
    });
    server.route("/style.css", [](HTTPServerRequest&, HTTPServerResponse& res) {
      send_body(res, "body { background: url(img/bg.png) } /* url(img/commented.png) */", "text/css");
    });
    for (const char* name : {"ok", "bg", "inline-bg", "attr-bg", "etag-a", "etag-b"})
      server.route(std::string("/img/") + name + ".png", png(std::string(name) + ".png"));
    server.route("/img/ok-copy.png", png("ok.png"));
    server.route("/img/ok-again.png", png("ok.png"));
    for (int code : {404, 410, 500})
      server.route("/img/" + std::to_string(code) + ".png", [code](HTTPServerRequest&, HTTPServerResponse& res) {
        send_body(res, "<p>no</p>", "text/html", static_cast<HTTPResponse::HTTPStatus>(code));
      });
    const std::string retry503 = file("retry-503.png"), retry429 = file("retry-429.png");
    server.route("/img/retry-503.png", [retry503, &hits_503](HTTPServerRequest&, HTTPServerResponse& res) {
      if (hits_503++ == 0) {
        res.set("Retry-After", "1");
        send_body(res, "busy", "text/plain", HTTPResponse::HTTP_SERVICE_UNAVAILABLE);
      } else {
        send_body(res, retry503, "image/png");
      }
    });
    server.route("/img/retry-429.png", [retry429, &hits_429](HTTPServerRequest&, HTTPServerResponse& res) {
      if (hits_429++ == 0) {
        Poco::Timestamp when;
        when += Poco::Timespan(1, 0);
        res.set("Retry-After", Poco::DateTimeFormatter::format(when, Poco::DateTimeFormat::HTTP_FORMAT));
        send_body(res, "slow down", "text/plain", HTTPResponse::HTTP_TOO_MANY_REQUESTS);
      } else {
        send_body(res, retry429, "image/png");
      }
    });
    server.route("/img/always-503.png", [](HTTPServerRequest&, HTTPServerResponse& res) {
      res.set("Retry-After", "100000");
      send_body(res, "down", "text/plain", HTTPResponse::HTTP_SERVICE_UNAVAILABLE);
    });
    server.route("/img/no-reply.png", [](HTTPServerRequest&, HTTPServerResponse& res) {
      res.setKeepAlive(false);  // no response at all: Poco closes the connection
    });
    server.route("/img/short.png", [ok = file("ok.png")](HTTPServerRequest&, HTTPServerResponse& res) {
      res.setContentType("image/png");
      res.setContentLength(1000);
      res.setKeepAlive(false);
      res.send() << ok.substr(0, 40);
    });
    server.route("/img/stall.png", [](HTTPServerRequest&, HTTPServerResponse& res) {
      res.setContentType("image/png");
      res.setContentLength(100);
      std::ostream& out = res.send();
      for (int i = 0; i < 20 && out; ++i) {  // one byte a second until the client gives up
        out << 'x' << std::flush;
        std::this_thread::sleep_for(std::chrono::seconds(1));
      }
    });
    server.route("/img/slow-headers.png", [ok = file("ok.png")](HTTPServerRequest&, HTTPServerResponse& res) {
      std::this_thread::sleep_for(std::chrono::seconds(4));  // past the 3 s timeout
      send_body(res, ok, "image/png");
    });
    server.route("/img/huge.png", [](HTTPServerRequest&, HTTPServerResponse& res) {
      res.setContentType("image/png");
      res.setContentLength64(Poco::Int64{1} << 30);  // 1 GiB announced
      stream_until_closed(res.send(), "\x89PNG\r\n\x1a\n", size_t{1} << 30);
    });
    server.route("/img/huge-chunked.png", [](HTTPServerRequest&, HTTPServerResponse& res) {
      res.setContentType("image/png");
      res.setChunkedTransferEncoding(true);  // no length: only the running count can stop it
      stream_until_closed(res.send(), "\x89PNG\r\n\x1a\n", size_t{64} << 20);
    });
    const std::string bomb = gzip_zeros(size_t{256} << 20);  // 256 MiB of zeros in about 256 KB
    server.route("/img/gzip-bomb.png", [bomb](HTTPServerRequest&, HTTPServerResponse& res) {
      res.set("Content-Encoding", "gzip");
      send_body(res, bomb, "image/png");
    });
    server.route("/img/pixel-bomb.png", png("pixel-bomb.png"));
    server.route("/img/html.png", [](HTTPServerRequest&, HTTPServerResponse& res) {
      send_body(res, "<!DOCTYPE html><html><body>not an image</body></html>", "image/png");
    });
    server.route("/img/wrong-type.jpg", [jpg = file("ok.jpg")](HTTPServerRequest&, HTTPServerResponse& res) {
      send_body(res, jpg, "text/plain");
    });
    server.route("/img/truncated.png", png("truncated.png"));
    server.route("/img/empty.png", [](HTTPServerRequest&, HTTPServerResponse& res) { send_body(res, "", "image/png"); });
    server.route("/img/garbage.png", png("garbage.png"));
    server.route("/loop.html", [](HTTPServerRequest&, HTTPServerResponse& res) {
      res.redirect("/loop.html", HTTPResponse::HTTP_FOUND);
    });
    auto chain = [](int hops) {
      return [hops](HTTPServerRequest& req, HTTPServerResponse& res) {
        const std::string q = Poco::URI(req.getURI()).getQuery();
        const int n = q.rfind("n=", 0) == 0 ? std::stoi(q.substr(2)) : 0;
        res.redirect(n + 1 >= hops ? "/landing.html" : "?n=" + std::to_string(n + 1), HTTPResponse::HTTP_FOUND);
      };
    };
    server.route("/chain", chain(20));
    server.route("/short-chain", chain(3));
    server.route("/trap", [](HTTPServerRequest& req, HTTPServerResponse& res) {
      const std::string p = Poco::URI(req.getURI()).getQuery().substr(2);
      send_body(res, "<a href=\"/trap?p=" + p + p + "\">deeper</a>", "text/html");
    });
    server.route("/gen", [](HTTPServerRequest& req, HTTPServerResponse& res) {
      const int n = std::stoi(Poco::URI(req.getURI()).getQuery().substr(2));
      send_body(res, "<a href=\"/gen?n=" + std::to_string(n + 1) + "\">next</a>", "text/html");
    });
    for (const char* page : {"/etag-a.html", "/etag-b.html"}) {
      const std::string img = std::string(page).substr(1, 6) + ".png";
      server.route(page, [img](HTTPServerRequest&, HTTPServerResponse& res) {
        res.set("ETag", "\"same-etag\"");
        send_body(res, "<img src=\"/img/" + img + "\">", "text/html");
      });
    }
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(HttpFaultsTest);
