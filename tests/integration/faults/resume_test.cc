// Resume after SIGKILL, then a conditional recrawl.
//  1. kestreld --once crawls 4 pages and 120 images (30 ms per response, 2
//     connections) and is killed with SIGKILL once some images are done.
//  2. The restart resumes the same session from node.db's frontier: every
//     image ends up catalogued once with its file, no temporary file is left,
//     nothing is queued, and no image that was done before the kill is
//     requested again (the server counts requests per path).
//  3. A recrawl of the finished site sends If-None-Match/If-Modified-Since
//     from the catalog; the server answers 304 and nothing is stored.
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <cppunit/extensions/HelperMacros.h>

#include <atomic>
#include <cstdio>
#include <set>
#include <string>

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

constexpr int kImages = 120;
constexpr int kPages = 4;
const char* const kLastModified = "Mon, 01 Jan 2024 00:00:00 GMT";

std::string image_path(int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "/many/%03d.png", i);
  return buf;
}

}  // namespace

class ResumeTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(ResumeTest);
  CPPUNIT_TEST(testSigkillResumesAndRecrawlIsConditional);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testSigkillResumesAndRecrawlIsConditional() {
    TempDir scratch("resume");
    const std::string images = make_fault_images(scratch, kImages);
    FixtureHttpServer server(FixtureHttpServer::Options{"", 30, 16});
    std::atomic<int> not_modified{0}, conditional{0};
    std::string index = "<!DOCTYPE html>";
    for (int p = 0; p < kPages; ++p) {
      index += "<a href=/p" + std::to_string(p) + ".html>p</a>";
      std::string page = "<!DOCTYPE html>";
      for (int i = p; i < kImages; i += kPages) page += "<img src=" + image_path(i) + ">";
      server.route("/p" + std::to_string(p) + ".html", [page](HTTPServerRequest&, HTTPServerResponse& res) {
        send_body(res, page, "text/html");
      });
    }
    server.route("/index.html", [index](HTTPServerRequest&, HTTPServerResponse& res) {
      send_body(res, index, "text/html");
    });
    for (int i = 0; i < kImages; ++i) {
      const std::string body = read_file(images + image_path(i));
      const std::string etag = "\"v1-" + std::to_string(i) + "\"";
      server.route(image_path(i), [body, etag, &not_modified, &conditional](HTTPServerRequest& req,
                                                                             HTTPServerResponse& res) {
        res.set("ETag", etag);
        res.set("Last-Modified", kLastModified);
        if (req.has("If-None-Match") || req.has("If-Modified-Since")) ++conditional;
        if (req.get("If-None-Match", "") == etag) {
          ++not_modified;
          res.setStatus(HTTPResponse::HTTP_NOT_MODIFIED);
          res.setContentLength(0);
          res.send();
          return;
        }
        send_body(res, body, "image/png");
      });
    }
    server.start();
    const std::string seed = server.url() + "index.html";

    KestrelNode node(CrawlerOptions{{"concurrency", "2"}, {"per_host_connections", "2"}, {"batch_size", "8"}});
    // 1. Kill mid-crawl.
    auto child = node.start_once({seed});
    auto done_images = [&] {
      return std::stoul(sqlite_scalar(node.node_db(), "SELECT COUNT(*) FROM frontier WHERE kind = 'image' AND state = 'done'"));
    };
    const bool some_done = poll_until([&] { return done_images() >= 16; }, std::chrono::seconds(60));
    CPPUNIT_ASSERT_MESSAGE(child->stderr_text(), some_done);
    child->kill();
    child->wait_or_kill(std::chrono::seconds(30));
    std::set<std::string> done_before;
    for (const auto& row : sqlite_query(node.node_db(), "SELECT url FROM frontier WHERE kind = 'image' AND state = 'done'"))
      done_before.insert(row[0]);
    CPPUNIT_ASSERT_MESSAGE("the kill came too late to test a resume: " + std::to_string(done_before.size()),
                           done_before.size() < size_t{kImages});
    CPPUNIT_ASSERT_EQUAL(std::string("running"), sqlite_scalar(node.node_db(), "SELECT state FROM crawl_runs"));

    // 2. Resume.
    KestrelNode::Run run = node.run_once({seed}, std::chrono::seconds(120));
    CPPUNIT_ASSERT_EQUAL_MESSAGE(run_output(run), 0, run.exit_code);
    std::vector<CatalogRow> rows = read_image_rows(node.catalog_db());
    std::set<std::string> urls;
    for (const auto& r : rows) urls.insert(r.url);
    CPPUNIT_ASSERT_EQUAL(size_t{kImages}, rows.size());
    CPPUNIT_ASSERT_EQUAL(size_t{kImages}, urls.size());
    auto blobs = check_blobs(rows, node.images_dir());
    CPPUNIT_ASSERT_MESSAGE(describe_problems(blobs), blobs.empty());
    auto temps = temporary_files(node.images_dir());
    CPPUNIT_ASSERT_MESSAGE(describe_problems(temps), temps.empty());
    auto orphans = unreferenced_blobs(rows, node.images_dir());
    CPPUNIT_ASSERT_MESSAGE(describe_problems(orphans), orphans.empty());
    CPPUNIT_ASSERT_EQUAL(std::string("0"), sqlite_scalar(node.node_db(), "SELECT COUNT(*) FROM frontier WHERE state != 'done'"));
    CPPUNIT_ASSERT_EQUAL(std::string("1"), sqlite_scalar(node.node_db(), "SELECT COUNT(*) FROM crawl_runs"));
    CPPUNIT_ASSERT_EQUAL(std::string("finished"), sqlite_scalar(node.catalog_db(), "SELECT state FROM crawl_sessions"));
    CPPUNIT_ASSERT_EQUAL(std::string(std::to_string(kImages)),
                         sqlite_scalar(node.catalog_db(), "SELECT images FROM crawl_sessions"));
    const std::string prefix = server.url();
    for (int i = 0; i < kImages; ++i) {
      const std::string url = prefix + image_path(i).substr(1);
      const uint64_t n = server.requests(image_path(i));
      CPPUNIT_ASSERT_MESSAGE(url + " never requested", n >= 1);
      if (done_before.count(url)) CPPUNIT_ASSERT_EQUAL_MESSAGE(url + " was stored before the kill", uint64_t{1}, n);
    }
    CPPUNIT_ASSERT_EQUAL(0, conditional.load());

    // 3. Recrawl: a new session, every image asked for conditionally, 304, nothing stored.
    server.reset_counters();
    KestrelNode::Run again = node.run_once({seed}, std::chrono::seconds(120));
    CPPUNIT_ASSERT_EQUAL_MESSAGE(run_output(again), 0, again.exit_code);
    CPPUNIT_ASSERT_EQUAL(kImages, conditional.load());
    CPPUNIT_ASSERT_EQUAL(kImages, not_modified.load());
    CrawlSummary summary = parse_crawl_summary(again.out);
    CPPUNIT_ASSERT_MESSAGE(again.out, summary.found);
    CPPUNIT_ASSERT_EQUAL(uint64_t{0}, summary.images_stored);
    CPPUNIT_ASSERT_EQUAL(uint64_t{kImages}, summary.images_unchanged);
    CPPUNIT_ASSERT_EQUAL(size_t{kImages}, read_image_rows(node.catalog_db()).size());
    CPPUNIT_ASSERT_EQUAL(size_t{kImages}, list_files(node.images_dir()).size());
    CPPUNIT_ASSERT_EQUAL(size_t{kImages},
                         count_frontier(node.node_db(), prefix + "many/", "reason = 'unchanged' AND http_status = 304"));
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ResumeTest);
