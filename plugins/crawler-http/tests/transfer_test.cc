// Transfer against a real HTTP server on 127.0.0.1 (Poco::Net::HTTPServer):
// success with headers, the body cap on chunked, sized and gzip bodies
// (decoded bytes count), robots truncation, redirect loops, HTTP errors and a
// refused connection, each classified as the reports expect.
#include "transfer.h"

#include <kestrel/plugin.hpp>

#include <kestrel/test/files.h>
#include <kestrel/test/temp_dir.h>

#include <Poco/DeflatingStream.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>

#include <cppunit/extensions/HelperMacros.h>

#include <memory>
#include <string>

namespace kestrel::crawler {
namespace {

constexpr size_t kBig = 1 << 20;         // bytes served by the "big" routes
constexpr size_t kGzipDecoded = 200000;  // bytes of the gzip route once decoded

class Handler : public Poco::Net::HTTPRequestHandler {
 public:
  void handleRequest(Poco::Net::HTTPServerRequest& req, Poco::Net::HTTPServerResponse& res) override {
    const std::string& uri = req.getURI();
    if (uri == "/ok" && req.get("If-None-Match", "") == "\"abc\"") {
      res.setStatusAndReason(Poco::Net::HTTPResponse::HTTP_NOT_MODIFIED);
      res.setContentLength(0);
      res.send();
    } else if (uri == "/retry-seconds" || uri == "/retry-date" || uri == "/retry-bad") {
      if (uri == "/retry-seconds") res.set("Retry-After", " 7 ");
      if (uri == "/retry-date") res.set("Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT");  // past: now
      if (uri == "/retry-bad") res.set("Retry-After", "soon");
      res.setStatusAndReason(Poco::Net::HTTPResponse::HTTP_TOO_MANY_REQUESTS);
      res.sendBuffer("slow", 4);
    } else if (uri == "/no-reply") {
      res.setKeepAlive(false);  // nothing sent: the connection closes
    } else if (uri == "/ok") {
      res.set("ETag", "\"abc\"");
      res.set("Last-Modified", "Sat, 21 Nov 2026 10:00:00 GMT");
      res.setContentType("text/html; charset=utf-8");
      res.sendBuffer("hello", 5);
    } else if (uri == "/latin1-validators") {
      res.set("ETag", "\"caf\xE9\"");  // obs-text (RFC 9110 allows it): not UTF-8
      res.set("Last-Modified", "Sam, 21 Nov 2026 10:00:00 \xC0\xAF");
      res.sendBuffer("hello", 5);
    } else if (uri == "/big-chunked") {
      res.setChunkedTransferEncoding(true);
      std::ostream& out = res.send();
      const std::string block(4096, 'x');
      for (size_t sent = 0; sent < kBig && out; sent += block.size()) out << block;
    } else if (uri == "/big-length") {
      const std::string body(kBig, 'y');
      res.sendBuffer(body.data(), body.size());
    } else if (uri == "/gzip") {
      res.set("Content-Encoding", "gzip");
      res.setChunkedTransferEncoding(true);
      std::ostream& raw = res.send();
      Poco::DeflatingOutputStream gz(raw, Poco::DeflatingStreamBuf::STREAM_GZIP);
      gz << std::string(kGzipDecoded, ' ');
      gz.close();
    } else if (uri == "/loop") {
      res.redirect("/loop");
    } else if (uri == "/error") {
      res.setStatusAndReason(Poco::Net::HTTPResponse::HTTP_SERVICE_UNAVAILABLE);
      res.sendBuffer("busy", 4);
    } else {
      res.setStatusAndReason(Poco::Net::HTTPResponse::HTTP_NOT_FOUND);
      res.sendBuffer("no", 2);
    }
  }
};

class Factory : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
    return new Handler;  // Poco's factory contract: the server takes ownership
  }
};

// A loopback HTTP server on a free port, stopped at scope exit.
class Server {
 public:
  Server() : socket_(Poco::Net::SocketAddress("127.0.0.1", 0)) {
    server_ = std::make_unique<Poco::Net::HTTPServer>(new Factory, socket_, new Poco::Net::HTTPServerParams);
    server_->start();
  }
  ~Server() { server_->stopAll(true); }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(socket_.address().port()) + path;
  }

 private:
  Poco::Net::ServerSocket socket_;
  std::unique_ptr<Poco::Net::HTTPServer> server_;
};

struct Fetched {
  TransferResult result;
  std::string body;
  bool spilled = false;
  uint64_t received = 0;
};

// spill_dir "" keeps every body in memory.
Fetched fetch(const std::string& url, uint64_t max_body, bool truncate = false, uint32_t max_redirects = 5,
              const std::string& etag = "", const std::string& spill_dir = "", uint64_t spill_at = 0) {
  TransferSettings s;
  s.user_agent = "KestrelTest/1";
  s.timeout_ms = 20000;  // against hangs only
  s.max_redirects = max_redirects;
  s.spill_dir = spill_dir;
  s.spill_at = spill_at;
  Transfer t;
  WorkItem item;
  item.url = url;
  t.prepare(item, s, max_body, truncate);
  if (!etag.empty()) t.set_conditional(etag, "");
  const CURLcode code = curl_easy_perform(t.handle());
  TransferResult result = t.finish(code);
  return Fetched{result, t.body().str(), t.body().spilled(), t.received()};
}

}  // namespace

class TransferTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(TransferTest);
  CPPUNIT_TEST(testSuccessKeepsBodyAndHeaders);
  CPPUNIT_TEST(testValidatorsThatAreNotUtf8AreNotKept);
  CPPUNIT_TEST(testChunkedBodyOverCapIsAborted);
  CPPUNIT_TEST(testContentLengthOverCapIsRefused);
  CPPUNIT_TEST(testCapCountsDecodedBytes);
  CPPUNIT_TEST(testRobotsBodyIsTruncatedNotFailed);
  CPPUNIT_TEST(testRedirectLoopAndHttpErrors);
  CPPUNIT_TEST(testRefusedConnection);
  CPPUNIT_TEST(testRetryAfterAndRetryability);
  CPPUNIT_TEST(testConditionalRequestGets304);
  CPPUNIT_TEST(testLargeBodySpillsToAFileNotMemory);
  CPPUNIT_TEST(testSpillFailureIsTheNodesErrorNotTheUrls);
  CPPUNIT_TEST_SUITE_END();

 public:
  void setUp() override { curl_global_init(CURL_GLOBAL_DEFAULT); }
  void tearDown() override { curl_global_cleanup(); }

  void testSuccessKeepsBodyAndHeaders() {
    Server srv;
    const Fetched f = fetch(srv.url("/ok"), 1024);
    CPPUNIT_ASSERT_EQUAL(std::string(""), f.result.kind);
    CPPUNIT_ASSERT_EQUAL(200L, f.result.status);
    CPPUNIT_ASSERT_EQUAL(std::string("hello"), f.body);
    CPPUNIT_ASSERT_EQUAL(std::string("\"abc\""), f.result.etag);
    CPPUNIT_ASSERT_EQUAL(std::string("Sat, 21 Nov 2026 10:00:00 GMT"), f.result.last_modified);
    CPPUNIT_ASSERT_EQUAL(std::string("text/html; charset=utf-8"), f.result.content_type);
  }

  // The catalog holds UTF-8 only: such an ETag or Last-Modified is dropped
  // (the next crawl is a plain GET); the response itself is kept.
  void testValidatorsThatAreNotUtf8AreNotKept() {
    Server srv;
    const Fetched f = fetch(srv.url("/latin1-validators"), 1024);
    CPPUNIT_ASSERT_EQUAL(std::string(""), f.result.kind);
    CPPUNIT_ASSERT_EQUAL(200L, f.result.status);
    CPPUNIT_ASSERT_EQUAL(std::string("hello"), f.body);
    CPPUNIT_ASSERT_EQUAL(std::string(""), f.result.etag);
    CPPUNIT_ASSERT_EQUAL(std::string(""), f.result.last_modified);
  }

  void testChunkedBodyOverCapIsAborted() {
    Server srv;
    const Fetched f = fetch(srv.url("/big-chunked"), 64 * 1024);
    CPPUNIT_ASSERT_EQUAL(std::string("too_large"), f.result.kind);
    CPPUNIT_ASSERT(f.body.empty());  // a body cut at the cap is of no use: none of it is kept
    CPPUNIT_ASSERT_EQUAL(uint64_t{64 * 1024}, f.received);
  }

  void testContentLengthOverCapIsRefused() {
    Server srv;
    const Fetched f = fetch(srv.url("/big-length"), 64 * 1024);
    CPPUNIT_ASSERT_EQUAL(std::string("too_large"), f.result.kind);
    CPPUNIT_ASSERT(f.body.size() <= 64 * 1024);
  }

  void testCapCountsDecodedBytes() {
    Server srv;
    // The compressed body is a few hundred bytes; decoded it passes the cap.
    const Fetched over = fetch(srv.url("/gzip"), kGzipDecoded / 2);
    CPPUNIT_ASSERT_EQUAL(std::string("too_large"), over.result.kind);
    const Fetched fits = fetch(srv.url("/gzip"), kGzipDecoded * 2);
    CPPUNIT_ASSERT_EQUAL(std::string(""), fits.result.kind);
    CPPUNIT_ASSERT_EQUAL(kGzipDecoded, fits.body.size());
  }

  void testRobotsBodyIsTruncatedNotFailed() {
    Server srv;
    const Fetched f = fetch(srv.url("/big-chunked"), 1000, true);
    CPPUNIT_ASSERT_EQUAL(std::string(""), f.result.kind);
    CPPUNIT_ASSERT_EQUAL(size_t{1000}, f.body.size());
  }

  void testRedirectLoopAndHttpErrors() {
    Server srv;
    CPPUNIT_ASSERT_EQUAL(std::string("redirects"), fetch(srv.url("/loop"), 1024, false, 3).result.kind);
    const Fetched missing = fetch(srv.url("/missing"), 1024);
    CPPUNIT_ASSERT_EQUAL(std::string("http_404"), missing.result.kind);
    CPPUNIT_ASSERT_EQUAL(404L, missing.result.status);
    CPPUNIT_ASSERT_EQUAL(std::string("http_5xx"), fetch(srv.url("/error"), 1024).result.kind);
  }

  void testRefusedConnection() {
    std::string url;
    {
      Server srv;  // take a free port, then close it
      url = srv.url("/ok");
    }
    const Fetched f = fetch(url, 1024);
    CPPUNIT_ASSERT_EQUAL(std::string("connect"), f.result.kind);
    CPPUNIT_ASSERT(!f.result.detail.empty());
  }

  void testRetryAfterAndRetryability() {
    Server server;
    Fetched a = fetch(server.url("/retry-seconds"), 1000);
    CPPUNIT_ASSERT_EQUAL(std::string("http_429"), a.result.kind);
    CPPUNIT_ASSERT_EQUAL(int64_t{7000}, a.result.retry_after_ms);
    CPPUNIT_ASSERT(retryable(a.result));
    CPPUNIT_ASSERT_EQUAL(int64_t{0}, fetch(server.url("/retry-date"), 1000).result.retry_after_ms);
    CPPUNIT_ASSERT_EQUAL(int64_t{-1}, fetch(server.url("/retry-bad"), 1000).result.retry_after_ms);
    Fetched e = fetch(server.url("/error"), 1000);  // 503
    CPPUNIT_ASSERT(retryable(e.result));
    CPPUNIT_ASSERT_EQUAL(int64_t{-1}, e.result.retry_after_ms);
    CPPUNIT_ASSERT(!retryable(fetch(server.url("/missing"), 1000).result));  // 404 is final
    CPPUNIT_ASSERT(!retryable(fetch(server.url("/big-length"), 10).result));  // too_large is final
    Fetched n = fetch(server.url("/no-reply"), 1000);
    CPPUNIT_ASSERT_EQUAL(std::string("no_reply"), n.result.kind);
    CPPUNIT_ASSERT(retryable(n.result));
  }

  void testConditionalRequestGets304() {
    Server server;
    Fetched hit = fetch(server.url("/ok"), 1000, false, 5, "\"abc\"");
    CPPUNIT_ASSERT_EQUAL(std::string("not_modified"), hit.result.kind);
    CPPUNIT_ASSERT_EQUAL(304L, hit.result.status);
    Fetched miss = fetch(server.url("/ok"), 1000, false, 5, "\"old\"");
    CPPUNIT_ASSERT_EQUAL(std::string(), miss.result.kind);
    CPPUNIT_ASSERT_EQUAL(std::string("hello"), miss.body);
  }

  void testLargeBodySpillsToAFileNotMemory() {
    Server srv;
    test::TempDir dir("spill");
    const Fetched f = fetch(srv.url("/big-length"), kBig * 2, false, 5, "", dir.path(), 4096);
    CPPUNIT_ASSERT_EQUAL(std::string(""), f.result.kind);
    CPPUNIT_ASSERT(f.spilled);
    CPPUNIT_ASSERT_EQUAL(std::string(kBig, 'y'), f.body);
    // The spill file has no name: nothing shows in the folder, nothing is left behind.
    CPPUNIT_ASSERT(test::list_files(dir.path()).empty());
    const Fetched small = fetch(srv.url("/ok"), 1024, false, 5, "", dir.path(), 4096);
    CPPUNIT_ASSERT(!small.spilled);
    CPPUNIT_ASSERT_EQUAL(std::string("hello"), small.body);
  }

  // A spill file that cannot be written (here: its folder is gone) is this
  // node's failure: finish() throws, naming the folder, instead of recording
  // a result against the URL.
  void testSpillFailureIsTheNodesErrorNotTheUrls() {
    Server srv;
    std::string message;
    try {
      fetch(srv.url("/big-length"), kBig * 2, false, 5, "", "/nonexistent-kestrel-spill", 4096);
    } catch (const kestrel::Error& e) {
      message = e.what();
    }
    CPPUNIT_ASSERT_MESSAGE(message, message.find("/nonexistent-kestrel-spill") != std::string::npos);
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(TransferTest);

}  // namespace kestrel::crawler
