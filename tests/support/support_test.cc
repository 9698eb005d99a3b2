// Tests of the integration harness itself: each helper against the real thing
// (processes, sockets, nginx, SQLite, the Python reference tool).
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/StreamCopier.h>
#include <cppunit/extensions/HelperMacros.h>
#include <sqlite3.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "kestrel/test/child_process.h"
#include "kestrel/test/expected_catalog.h"
#include "kestrel/test/files.h"
#include "kestrel/test/fixture_http_server.h"
#include "kestrel/test/nginx_site.h"
#include "kestrel/test/paths.h"
#include "kestrel/test/ports.h"
#include "kestrel/test/sqlite_query.h"
#include "kestrel/test/temp_dir.h"

using namespace kestrel::test;

namespace {

struct Fetched {
  int status = 0;
  std::string body;
  std::string content_type;
};

// GET `path` on `session` (keep-alive).
Fetched get(Poco::Net::HTTPClientSession& session, const std::string& path) {
  session.setKeepAlive(true);  // Poco's client closes after each request otherwise
  Poco::Net::HTTPRequest req(Poco::Net::HTTPRequest::HTTP_GET, path, Poco::Net::HTTPMessage::HTTP_1_1);
  req.setKeepAlive(true);
  session.sendRequest(req);
  Poco::Net::HTTPResponse res;
  std::istream& in = session.receiveResponse(res);
  Fetched f;
  f.status = res.getStatus();
  f.content_type = res.getContentType();
  Poco::StreamCopier::copyToString(in, f.body);
  return f;
}

std::string fixture_site() { return source_dir() + "/tests/fixtures/site"; }

}  // namespace

class SupportTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(SupportTest);
  CPPUNIT_TEST(testTempDirIsRemovedAtScopeEnd);
  CPPUNIT_TEST(testTempDirIsRemovedWhenATestThrows);
  CPPUNIT_TEST(testFreeLoopbackPortCanBeBound);
  CPPUNIT_TEST(testChildProcessCapturesOutputAndExitCode);
  CPPUNIT_TEST(testChildProcessTerminateAndDeadline);
  CPPUNIT_TEST(testFixtureServerServesFolderAndRoutes);
  CPPUNIT_TEST(testFixtureServerCountsSimultaneousConnections);
  CPPUNIT_TEST(testNginxSiteServesAndLogsConnections);
  CPPUNIT_TEST(testSqliteQuery);
  CPPUNIT_TEST(testExpectedCatalogOfFixtureSite);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testTempDirIsRemovedAtScopeEnd() {
    std::string path;
    {
      TempDir dir("self");
      path = dir.path();
      CPPUNIT_ASSERT(path_exists(path));
      dir.make_dir("a/b");
      write_file(dir.file("a/b/c.txt"), "x");
      std::vector<std::string> files = list_files(dir.path());
      CPPUNIT_ASSERT_EQUAL(size_t{1}, files.size());
      CPPUNIT_ASSERT_EQUAL(std::string("a/b/c.txt"), files[0]);
    }
    CPPUNIT_ASSERT_MESSAGE(path + " survived its TempDir", !path_exists(path));
  }

  void testTempDirIsRemovedWhenATestThrows() {
    std::string path;
    try {
      TempDir dir("throw");
      path = dir.path();
      write_file(dir.file("f"), "data");
      throw std::runtime_error("a failing assertion");
    } catch (const std::runtime_error&) {
    }
    CPPUNIT_ASSERT(!path.empty());
    CPPUNIT_ASSERT_MESSAGE(path + " survived an exception", !path_exists(path));
  }

  void testFreeLoopbackPortCanBeBound() {
    uint16_t port = free_loopback_port();
    CPPUNIT_ASSERT(port >= 1024);
    Poco::Net::ServerSocket s(Poco::Net::SocketAddress("127.0.0.1", port));
    CPPUNIT_ASSERT_EQUAL(port, s.address().port());
  }

  void testChildProcessCapturesOutputAndExitCode() {
    TempDir dir("child");
    ChildProcess p("/bin/sh", {"-c", "echo out; echo err >&2; echo \"$KT_VAR\"; exit 3"}, dir.file("o"), dir.file("e"),
                   ChildProcess::Options{"", {{"KT_VAR", "from env"}}});
    CPPUNIT_ASSERT_EQUAL(3, p.wait_or_kill(std::chrono::seconds(30)));
    CPPUNIT_ASSERT_EQUAL(std::string("out\nfrom env\n"), p.stdout_text());
    CPPUNIT_ASSERT_EQUAL(std::string("err\n"), p.stderr_text());
    CPPUNIT_ASSERT(!p.running());

    ChildProcess missing(dir.file("no-such-program"), {}, dir.file("o2"), dir.file("e2"));
    CPPUNIT_ASSERT_EQUAL(127, missing.wait_or_kill(std::chrono::seconds(30)));
    CPPUNIT_ASSERT(missing.stderr_text().find("no-such-program") != std::string::npos);
  }

  void testChildProcessTerminateAndDeadline() {
    TempDir dir("child");
    {
      ChildProcess p("/bin/sleep", {"60"}, dir.file("o1"), dir.file("e1"));
      CPPUNIT_ASSERT(p.running());
      CPPUNIT_ASSERT(!p.wait_for(std::chrono::milliseconds(50)).has_value());
      p.terminate();
      CPPUNIT_ASSERT_EQUAL(128 + 15, p.wait_or_kill(std::chrono::seconds(30)));
    }
    ChildProcess hung("/bin/sleep", {"60"}, dir.file("o2"), dir.file("e2"));
    CPPUNIT_ASSERT_THROW(hung.wait_or_kill(std::chrono::milliseconds(100)), std::runtime_error);
    CPPUNIT_ASSERT_EQUAL(128 + 9, *hung.exit_code());
  }

  void testFixtureServerServesFolderAndRoutes() {
    FixtureHttpServer server(FixtureHttpServer::Options{fixture_site(), 0, 8});
    server.route("/teapot", [](Poco::Net::HTTPServerRequest&, Poco::Net::HTTPServerResponse& res) {
      res.setStatus(Poco::Net::HTTPResponse::HTTP_NOT_IMPLEMENTED);
      res.setContentLength(3);
      res.send() << "tea";
    });
    server.start();
    Poco::Net::HTTPClientSession session("127.0.0.1", server.port());
    Fetched index = get(session, "/");
    CPPUNIT_ASSERT_EQUAL(200, index.status);
    CPPUNIT_ASSERT_EQUAL(read_file(fixture_site() + "/index.html"), index.body);
    CPPUNIT_ASSERT_EQUAL(std::string("text/html; charset=utf-8"), index.content_type);
    Fetched img = get(session, "/sub/my%20photo.png");
    CPPUNIT_ASSERT_EQUAL(200, img.status);
    CPPUNIT_ASSERT_EQUAL(read_file(fixture_site() + "/sub/my photo.png"), img.body);
    CPPUNIT_ASSERT_EQUAL(404, get(session, "/images/missing.png").status);
    CPPUNIT_ASSERT_EQUAL(404, get(session, "/../CMakeLists.txt").status);
    CPPUNIT_ASSERT_EQUAL(301, get(session, "/sub").status);
    Fetched tea = get(session, "/teapot");
    CPPUNIT_ASSERT_EQUAL(501, tea.status);
    CPPUNIT_ASSERT_EQUAL(std::string("tea"), tea.body);
    CPPUNIT_ASSERT_EQUAL(uint64_t{6}, server.total_requests());
    CPPUNIT_ASSERT_EQUAL(uint64_t{1}, server.requests("/sub/my photo.png"));
    CPPUNIT_ASSERT_EQUAL(uint64_t{1}, server.total_connections());  // all on one keep-alive connection
    CPPUNIT_ASSERT_EQUAL(1, server.peak_connections());
  }

  void testFixtureServerCountsSimultaneousConnections() {
    // The route holds each request until three are in flight at once, so the
    // peak is exactly three without relying on timing.
    constexpr int kClients = 3;
    std::mutex mu;
    std::condition_variable cv;
    int arrived = 0;
    FixtureHttpServer server(FixtureHttpServer::Options{"", 0, 8});
    server.route("/gate", [&](Poco::Net::HTTPServerRequest&, Poco::Net::HTTPServerResponse& res) {
      std::unique_lock<std::mutex> lock(mu);
      ++arrived;
      cv.notify_all();
      cv.wait_for(lock, std::chrono::seconds(30), [&] { return arrived >= kClients; });
      lock.unlock();
      res.setContentLength(2);
      res.send() << "ok";
    });
    server.start();
    std::vector<int> statuses(kClients, 0);
    std::vector<std::thread> clients;
    for (int i = 0; i < kClients; ++i) {
      clients.emplace_back([&, i] {
        try {
          Poco::Net::HTTPClientSession session("127.0.0.1", server.port());
          statuses[i] = get(session, "/gate").status;
        } catch (...) {
          statuses[i] = -1;
        }
      });
    }
    for (auto& t : clients) t.join();
    for (int s : statuses) CPPUNIT_ASSERT_EQUAL(200, s);
    CPPUNIT_ASSERT_EQUAL(kClients, server.peak_connections());
    CPPUNIT_ASSERT_EQUAL(uint64_t{kClients}, server.requests("/gate"));
  }

  void testNginxSiteServesAndLogsConnections() {
    std::string prefix;
    {
      NginxSite site(fixture_site());
      CPPUNIT_ASSERT(site.url().find("http://127.0.0.1:") == 0);
      Poco::Net::HTTPClientSession session("127.0.0.1", site.port());
      CPPUNIT_ASSERT_EQUAL(200, get(session, "/").status);
      Fetched img = get(session, "/sub/caf%C3%A9.png");
      CPPUNIT_ASSERT_EQUAL(200, img.status);
      CPPUNIT_ASSERT_EQUAL(read_file(fixture_site() + "/sub/café.png"), img.body);
      CPPUNIT_ASSERT_EQUAL(404, get(session, "/images/missing.png").status);
      Poco::Net::HTTPClientSession other("127.0.0.1", site.port());
      CPPUNIT_ASSERT_EQUAL(200, get(other, "/page2.html").status);
      // nginx writes a request's log line after sending the response: wait
      // (a deadline against hangs, not a timing assertion) until all four are in.
      NginxSite::AccessStats stats = site.access_stats();
      for (int i = 0; i < 100 && stats.requests < 4; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        stats = site.access_stats();
      }
      CPPUNIT_ASSERT_EQUAL(size_t{4}, stats.requests);
      CPPUNIT_ASSERT_EQUAL(size_t{2}, stats.connections);
      CPPUNIT_ASSERT_EQUAL(size_t{1}, stats.by_status[404]);
      CPPUNIT_ASSERT_EQUAL(size_t{1}, stats.by_path["/sub/caf%C3%A9.png"]);
      prefix = site.access_log_path();
    }
    CPPUNIT_ASSERT_MESSAGE("the prefix outlived its NginxSite", !path_exists(prefix));
  }

  void testSqliteQuery() {
    TempDir dir("sqlite");
    std::string db_file = dir.file("t.db");
    sqlite3* db = nullptr;
    CPPUNIT_ASSERT_EQUAL(SQLITE_OK, sqlite3_open(db_file.c_str(), &db));
    CPPUNIT_ASSERT_EQUAL(SQLITE_OK, sqlite3_exec(db,
                                                 "CREATE TABLE t(a TEXT, b INTEGER); "
                                                 "INSERT INTO t VALUES('x', 1), (NULL, 2);",
                                                 nullptr, nullptr, nullptr));
    sqlite3_close(db);
    auto rows = sqlite_query(db_file, "SELECT a, b FROM t ORDER BY b");
    CPPUNIT_ASSERT_EQUAL(size_t{2}, rows.size());
    CPPUNIT_ASSERT_EQUAL(std::string("x"), rows[0][0]);
    CPPUNIT_ASSERT_EQUAL(std::string(""), rows[1][0]);
    CPPUNIT_ASSERT_EQUAL(std::string("2"), rows[1][1]);
    CPPUNIT_ASSERT_EQUAL(std::string("ok"), sqlite_scalar(db_file, "PRAGMA integrity_check"));
    CPPUNIT_ASSERT_THROW(sqlite_query(db_file, "SELECT nope FROM t"), std::runtime_error);
    CPPUNIT_ASSERT_THROW(sqlite_query(dir.file("absent.db"), "SELECT 1"), std::runtime_error);
    CPPUNIT_ASSERT(!path_exists(dir.file("absent.db")));
  }

  void testExpectedCatalogOfFixtureSite() {
    TempDir dir("expected");
    ExpectedCatalog c = expected_catalog(fixture_site(), "http://127.0.0.1:8080/", dir.path());
    CPPUNIT_ASSERT_EQUAL(std::string("http://127.0.0.1:8080/"), c.seed);
    CPPUNIT_ASSERT_EQUAL(size_t{12}, c.images.size());
    const ExpectedImage& red = c.images.at("http://127.0.0.1:8080/images/red.png");
    CPPUNIT_ASSERT_EQUAL(std::string("png"), red.format);
    CPPUNIT_ASSERT_EQUAL(16u, red.width);
    CPPUNIT_ASSERT_EQUAL(12u, red.height);
    CPPUNIT_ASSERT_EQUAL(sha256_file(fixture_site() + "/images/red.png"), red.sha256);
    CPPUNIT_ASSERT_EQUAL(md5_file(fixture_site() + "/images/red.png"), red.md5);
    CPPUNIT_ASSERT_EQUAL(std::string("webp"), c.images.at("http://127.0.0.1:8080/images/green.webp").format);
    CPPUNIT_ASSERT_EQUAL(std::string("gif"), c.images.at("http://127.0.0.1:8080/images/og.gif").format);
    CPPUNIT_ASSERT_EQUAL(std::string("my photo.png"), c.images.at("http://127.0.0.1:8080/sub/my%20photo.png").filename);
    CPPUNIT_ASSERT(c.images.count("http://127.0.0.1:8080/sub/caf%C3%A9.png") == 1);
    CPPUNIT_ASSERT(c.images.count("http://127.0.0.1:8080/sub/deep.png") == 1);  // via <base href>
    CPPUNIT_ASSERT(c.images.count("http://127.0.0.1:8080/sub/w200.png") == 1);  // srcset width candidate
    CPPUNIT_ASSERT_EQUAL(size_t{3}, c.broken.size());  // missing.png, and faults.html's truncated/huge.png
    CPPUNIT_ASSERT_EQUAL(std::string("http://127.0.0.1:8080/images/missing.png"), c.broken[0].url);
    CPPUNIT_ASSERT_EQUAL(size_t{2}, c.invalid.size());
    CPPUNIT_ASSERT_EQUAL(size_t{3}, c.broken_links.size());  // missing-page, loop, server-error
    CPPUNIT_ASSERT_EQUAL(size_t{6}, c.pages.size());
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(SupportTest);
