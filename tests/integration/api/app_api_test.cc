// The App API and kestrelctl against a running kestreld (service mode):
// health, crawl start/status/stop, images list/get/delete, tokens, errors,
// /metrics, and kestrelctl's plain output. The crawled site is
// tests/fixtures/site served by FixtureHttpServer with a delay per response,
// so that a crawl is still running when the next request comes.
#include <cppunit/extensions/HelperMacros.h>

#include <Poco/JSON/Array.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>

#include <cstdio>
#include <regex>
#include <set>
#include <sstream>

#include "api_daemon.h"
#include "integration_helpers.h"
#include "kestrel/test/child_process.h"
#include "kestrel/test/files.h"
#include "kestrel/test/fixture_http_server.h"
#include "kestrel/test/paths.h"
#include "kestrel/test/ports.h"
#include "kestrel/test/sqlite_query.h"
#include "kestrel/test/temp_dir.h"

namespace kestrel {
namespace test {
namespace {

const char kToken[] = "s3cret-token";

std::string what(const HttpReply& r) { return "HTTP " + std::to_string(r.status) + ": " + r.body; }

std::string crawl_body(const std::string& seed) { return "{\"seeds\": [\"" + seed + "\"], \"robots\": false}"; }

// The images array of a list reply as (id, url) pairs, in order.
std::vector<std::pair<int64_t, std::string>> ids_of(const HttpReply& r) {
  std::vector<std::pair<int64_t, std::string>> out;
  Poco::JSON::Array::Ptr a = r.json ? r.json->getArray("images") : nullptr;
  for (size_t i = 0; a && i < a->size(); ++i) {
    Poco::JSON::Object::Ptr img = a->getObject(static_cast<unsigned>(i));
    out.emplace_back(img->getValue<Poco::Int64>("id"), img->getValue<std::string>("url"));
  }
  return out;
}

struct CtlRun {
  int code = -1;
  std::string out, err;
};

// Runs kestrelctl with stdout in a file (not a terminal: plain lines).
CtlRun kestrelctl(const TempDir& dir, const std::vector<std::string>& args) {
  static int n = 0;
  ++n;
  ChildProcess p(build_dir() + "/bin/kestrelctl", args, dir.file("ctl-" + std::to_string(n) + ".out"),
                 dir.file("ctl-" + std::to_string(n) + ".err"));
  CtlRun r;
  r.code = p.wait_or_kill(std::chrono::seconds(120));
  r.out = p.stdout_text();
  r.err = p.stderr_text();
  return r;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

class AppApiTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(AppApiTest);
  CPPUNIT_TEST(testHealthMetricsAndErrors);
  CPPUNIT_TEST(testCrawlImagesAndDelete);
  CPPUNIT_TEST(testKestrelctl);
  CPPUNIT_TEST(testHaApiSingleNode);
  CPPUNIT_TEST(testListenErrors);
  CPPUNIT_TEST(testHealthLogsStateChangesNotEveryPoll);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testHealthMetricsAndErrors() {
    ApiDaemon d;
    HttpReply h = d.call("GET", "/api/health");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(what(h), 200, h.status);
    CPPUNIT_ASSERT_EQUAL(std::string("ok"), json_text(h.json, "status"));
    Poco::JSON::Object::Ptr comps = h.json->getObject("components");
    CPPUNIT_ASSERT_MESSAGE(what(h), comps);
    for (const char* id : {"catalog", "images", "crawler"})
      CPPUNIT_ASSERT_EQUAL_MESSAGE(what(h), std::string("started"), json_text(comps, id));

    // Errors are JSON with the right status.
    HttpReply nf = d.call("GET", "/api/nothing");
    CPPUNIT_ASSERT_EQUAL(404, nf.status);
    CPPUNIT_ASSERT_EQUAL(std::string("404"), json_text(nf.json, "status"));
    CPPUNIT_ASSERT_MESSAGE(what(nf), !json_text(nf.json, "error").empty());
    CPPUNIT_ASSERT_EQUAL(405, d.call("DELETE", "/api/health").status);
    CPPUNIT_ASSERT_EQUAL(405, d.call("GET", "/api/crawl/start").status);
    HttpReply idle = d.call("GET", "/api/crawl/status");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(what(idle), 200, idle.status);
    CPPUNIT_ASSERT_EQUAL(std::string("idle"), json_text(idle.json, "state"));
    // No token configured: a start without Authorization passes the check and
    // fails on its body instead.
    HttpReply bad = d.call("POST", "/api/crawl/start", "{\"seeds\": [\"ftp://example.org/\"]}");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(what(bad), 400, bad.status);
    CPPUNIT_ASSERT_MESSAGE(what(bad), contains(json_text(bad.json, "error"), "seeds[0]"));

    // /metrics: Prometheus text format 0.0.4, every line well-formed.
    HttpReply m = d.call("GET", "/metrics");
    CPPUNIT_ASSERT_EQUAL(200, m.status);
    CPPUNIT_ASSERT_MESSAGE(m.content_type, contains(m.content_type, "text/plain"));
    CPPUNIT_ASSERT_MESSAGE(m.content_type, contains(m.content_type, "version=0.0.4"));
    static const std::regex kSample(R"(^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? (-?[0-9.eE+-]+|\+Inf|-Inf|NaN)$)");
    static const std::regex kComment(R"(^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .*$)");
    std::istringstream lines(m.body);
    std::string line;
    bool saw_api_counter = false;
    while (std::getline(lines, line)) {
      if (line.empty()) continue;
      CPPUNIT_ASSERT_MESSAGE("bad metrics line: " + line,
                             std::regex_match(line, kSample) || std::regex_match(line, kComment));
      if (line.rfind("kestrel_api_responses_total{component=\"api\",code=\"4xx\"} ", 0) == 0)
        saw_api_counter = std::stod(line.substr(line.rfind(' ') + 1)) >= 3;  // the 404/405s above
    }
    CPPUNIT_ASSERT_MESSAGE(m.body, saw_api_counter);
    CPPUNIT_ASSERT_EQUAL_MESSAGE(d.stderr_text(), 0, d.stop());
  }

  void testCrawlImagesAndDelete() {
    FixtureHttpServer site(FixtureHttpServer::Options{fixture_site_root(), 200, 16});
    site.start();
    ApiDaemon d(kToken);
    const std::string body = crawl_body(site.url());

    // Tokens: none 401, wrong 403; bad bodies 400 naming the field.
    HttpReply r = d.call("POST", "/api/crawl/start", body);
    CPPUNIT_ASSERT_EQUAL_MESSAGE(what(r), 401, r.status);
    r = d.call("POST", "/api/crawl/start", body, "wrong");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(what(r), 403, r.status);
    CPPUNIT_ASSERT_MESSAGE("token leaked: " + r.body, !contains(r.body, kToken));
    r = d.call("POST", "/api/crawl/start", "{\"seeds\": [", kToken);
    CPPUNIT_ASSERT_EQUAL_MESSAGE(what(r), 400, r.status);
    CPPUNIT_ASSERT_MESSAGE(what(r), contains(json_text(r.json, "error"), "JSON"));
    r = d.call("POST", "/api/crawl/start", "{\"seeds\": [\"" + site.url() + "\"], \"max_pages\": -1}", kToken);
    CPPUNIT_ASSERT_EQUAL_MESSAGE(what(r), 400, r.status);
    CPPUNIT_ASSERT_MESSAGE(what(r), contains(json_text(r.json, "error"), "max_pages"));
    r = d.call("POST", "/api/crawl/start", "{\"seeds\": [\"" + site.url() + "\"], \"scope\": \"world\"}", kToken);
    CPPUNIT_ASSERT_EQUAL_MESSAGE(what(r), 400, r.status);
    CPPUNIT_ASSERT_MESSAGE(what(r), contains(json_text(r.json, "error"), "scope"));
    CPPUNIT_ASSERT_EQUAL(std::string("idle"), json_text(d.call("GET", "/api/crawl/status").json, "state"));

    // Start; a second start while it runs is 409.
    r = d.call("POST", "/api/crawl/start", body, kToken);
    CPPUNIT_ASSERT_EQUAL_MESSAGE(what(r), 202, r.status);
    CPPUNIT_ASSERT_EQUAL_MESSAGE(what(r), std::string("running"), json_text(r.json, "state"));
    HttpReply again = d.call("POST", "/api/crawl/start", body, kToken);
    CPPUNIT_ASSERT_EQUAL_MESSAGE(what(again), 409, again.status);
    Poco::JSON::Object::Ptr end = d.wait_crawl_end();
    std::ostringstream end_text;
    end->stringify(end_text);
    CPPUNIT_ASSERT_EQUAL_MESSAGE(end_text.str(), std::string("finished"), json_text(end, "state"));
    const int64_t session = end->getObject("session")->getValue<Poco::Int64>("id");
    CPPUNIT_ASSERT_MESSAGE(end_text.str(), session > 0);
    CPPUNIT_ASSERT_MESSAGE(end_text.str(), !json_text(end->getObject("session"), "key").empty());
    CPPUNIT_ASSERT_MESSAGE(end_text.str(), end->getValue<Poco::UInt64>("pages") >= 4);
    CPPUNIT_ASSERT_MESSAGE(end_text.str(), end->getValue<Poco::UInt64>("images") >= 5);
    CPPUNIT_ASSERT_MESSAGE(end_text.str(), end->getValue<Poco::UInt64>("errors") >= 1);  // missing.png etc.
    CPPUNIT_ASSERT_MESSAGE(end_text.str(), end->getObject("errors_by_kind")->size() >= 1);

    // The list matches the catalog, in id order.
    const std::string db = d.catalog_db();
    const int rows = std::stoi(sqlite_scalar(db, "SELECT count(*) FROM images"));
    HttpReply all = d.call("GET", "/api/images?limit=1000");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(what(all), 200, all.status);
    const auto every = ids_of(all);
    CPPUNIT_ASSERT_EQUAL(static_cast<size_t>(rows), every.size());
    CPPUNIT_ASSERT_EQUAL(std::to_string(rows), json_text(all.json, "total"));
    for (size_t i = 1; i < every.size(); ++i) CPPUNIT_ASSERT(every[i - 1].first < every[i].first);
    HttpReply dflt = d.call("GET", "/api/images");
    CPPUNIT_ASSERT_EQUAL(std::string("50"), json_text(dflt.json, "limit"));

    // Paging: offset and after_id give the same slices.
    HttpReply p1 = d.call("GET", "/api/images?limit=2");
    HttpReply p2 = d.call("GET", "/api/images?limit=2&offset=2");
    CPPUNIT_ASSERT_EQUAL(size_t{2}, ids_of(p1).size());
    CPPUNIT_ASSERT_EQUAL(size_t{2}, ids_of(p2).size());
    CPPUNIT_ASSERT_EQUAL(every[0].first, ids_of(p1)[0].first);
    CPPUNIT_ASSERT_EQUAL(every[2].first, ids_of(p2)[0].first);
    CPPUNIT_ASSERT_EQUAL(every[3].first, ids_of(p2)[1].first);
    HttpReply k2 = d.call("GET", "/api/images?limit=2&after_id=" + json_text(p1.json, "next_after_id"));
    CPPUNIT_ASSERT_EQUAL(every[2].first, ids_of(k2)[0].first);
    HttpReply past = d.call("GET", "/api/images?offset=" + std::to_string(rows));
    CPPUNIT_ASSERT_EQUAL(size_t{0}, ids_of(past).size());

    // Filters agree with SQL.
    HttpReply png = d.call("GET", "/api/images?format=png&limit=1000");
    CPPUNIT_ASSERT_EQUAL(sqlite_scalar(db, "SELECT count(*) FROM images WHERE format='png'"),
                         std::to_string(ids_of(png).size()));
    Poco::JSON::Array::Ptr pngs = png.json->getArray("images");
    for (size_t i = 0; i < pngs->size(); ++i)
      CPPUNIT_ASSERT_EQUAL(std::string("png"), json_text(pngs->getObject(static_cast<unsigned>(i)), "format"));
    HttpReply wide = d.call("GET", "/api/images?min_width=150&limit=1000");
    CPPUNIT_ASSERT_EQUAL(sqlite_scalar(db, "SELECT count(*) FROM images WHERE width>=150"),
                         std::to_string(ids_of(wide).size()));
    CPPUNIT_ASSERT(!ids_of(wide).empty() && ids_of(wide).size() < every.size());
    HttpReply by_session = d.call("GET", "/api/images?session=" + std::to_string(session));
    CPPUNIT_ASSERT_EQUAL(std::to_string(rows), json_text(by_session.json, "total"));
    CPPUNIT_ASSERT_EQUAL(std::string("0"), json_text(d.call("GET", "/api/images?session=999999").json, "total"));
    for (const char* q : {"limit=0", "limit=1001", "format=bmp", "min_width=-1", "colour=red", "offset=x"}) {
      HttpReply b = d.call("GET", std::string("/api/images?") + q);
      CPPUNIT_ASSERT_EQUAL_MESSAGE(std::string(q) + ": " + what(b), 400, b.status);
    }

    // One image by id.
    HttpReply one = d.call("GET", "/api/images/" + std::to_string(every[1].first));
    CPPUNIT_ASSERT_EQUAL_MESSAGE(what(one), 200, one.status);
    CPPUNIT_ASSERT_EQUAL(every[1].second, json_text(one.json, "url"));
    CPPUNIT_ASSERT_EQUAL(size_t{64}, json_text(one.json, "sha256").size());
    CPPUNIT_ASSERT_EQUAL(404, d.call("GET", "/api/images/999999").status);
    CPPUNIT_ASSERT_EQUAL(400, d.call("GET", "/api/images/abc").status);

    // Delete: red.png and red-copy.png share their bytes (one file).
    auto id_of = [&](const std::string& file) {
      return std::stoll(sqlite_scalar(db, "SELECT id FROM images WHERE url='" + site.url() + "images/" + file + "'"));
    };
    const int64_t red = id_of("red.png"), copy = id_of("red-copy.png");
    const std::string red_path = sqlite_scalar(db, "SELECT file_path FROM images WHERE id=" + std::to_string(red));
    CPPUNIT_ASSERT_EQUAL(red_path, sqlite_scalar(db, "SELECT file_path FROM images WHERE id=" + std::to_string(copy)));
    const std::string red_file = d.images_dir() + "/" + red_path;
    CPPUNIT_ASSERT(path_exists(red_file));
    r = d.call("DELETE", "/api/images/" + std::to_string(red));
    CPPUNIT_ASSERT_EQUAL_MESSAGE(what(r), 401, r.status);
    r = d.call("DELETE", "/api/images/" + std::to_string(red), "", "wrong");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(what(r), 403, r.status);
    CPPUNIT_ASSERT_EQUAL(std::string("1"), sqlite_scalar(db, "SELECT count(*) FROM images WHERE id=" + std::to_string(red)));

    r = d.call("DELETE", "/api/images/" + std::to_string(red), "", kToken);
    CPPUNIT_ASSERT_EQUAL_MESSAGE(what(r), 200, r.status);
    CPPUNIT_ASSERT_EQUAL_MESSAGE(what(r), std::string("false"), json_text(r.json, "file_removed"));
    CPPUNIT_ASSERT_EQUAL(std::string("0"), sqlite_scalar(db, "SELECT count(*) FROM images WHERE id=" + std::to_string(red)));
    CPPUNIT_ASSERT_MESSAGE("shared file removed too early", path_exists(red_file));
    CPPUNIT_ASSERT_EQUAL(404, d.call("GET", "/api/images/" + std::to_string(red)).status);
    CPPUNIT_ASSERT_EQUAL(404, d.call("DELETE", "/api/images/" + std::to_string(red), "", kToken).status);

    r = d.call("DELETE", "/api/images/" + std::to_string(copy), "", kToken);
    CPPUNIT_ASSERT_EQUAL_MESSAGE(what(r), 200, r.status);
    CPPUNIT_ASSERT_EQUAL_MESSAGE(what(r), std::string("true"), json_text(r.json, "file_removed"));
    CPPUNIT_ASSERT_MESSAGE("unreferenced file kept", !path_exists(red_file));
    CPPUNIT_ASSERT_EQUAL(std::to_string(rows - 2), sqlite_scalar(db, "SELECT count(*) FROM images"));
    CPPUNIT_ASSERT_EQUAL(std::to_string(rows - 2), json_text(d.call("GET", "/api/images").json, "total"));

    // Stop: a crawl that runs is asked to stop and ends "stopped".
    r = d.call("POST", "/api/crawl/stop", "", kToken);
    CPPUNIT_ASSERT_EQUAL_MESSAGE(what(r), 202, r.status);  // none running: still accepted
    CPPUNIT_ASSERT_EQUAL(401, d.call("POST", "/api/crawl/stop").status);

    CPPUNIT_ASSERT_MESSAGE("token in the log", !contains(d.stderr_text(), kToken));
    CPPUNIT_ASSERT_EQUAL_MESSAGE(d.stderr_text(), 0, d.stop());
  }

  // The HA API of the embedded default's shape (one SQLite catalog, no
  // ha-catalog): one node, the primary, epoch 1, nothing to fail over to;
  // admin.token rules; Patroni's checks; /metrics passes promtool; kestrelctl.
  void testHaApiSingleNode() {
    ApiDaemon d(kToken);
    const uint16_t admin = d.admin_port();
    HttpReply st = http_call(admin, "GET", "/api/status");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(what(st), 200, st.status);
    CPPUNIT_ASSERT_EQUAL(std::string("1"), json_text(st.json, "epoch"));
    CPPUNIT_ASSERT_EQUAL(std::string("api-node"), json_text(st.json, "primary"));
    CPPUNIT_ASSERT_EQUAL(std::string("none"), json_text(st.json, "mode"));
    Poco::JSON::Array::Ptr nodes = st.json->getArray("nodes");
    CPPUNIT_ASSERT(nodes && nodes->size() == 1);
    Poco::JSON::Object::Ptr n = nodes->getObject(0);
    for (const char* key : {"name", "role", "priority", "healthy", "consecutive_failures", "response_ms", "lsn",
                            "lag_bytes", "lag_seconds", "sync_state"})
      CPPUNIT_ASSERT_MESSAGE(std::string("node field ") + key, n->has(key));
    CPPUNIT_ASSERT_EQUAL(std::string("primary"), json_text(n, "role"));
    CPPUNIT_ASSERT_EQUAL(200, http_call(admin, "GET", "/api/health").status);
    CPPUNIT_ASSERT_EQUAL(200, http_call(admin, "GET", "/primary").status);
    CPPUNIT_ASSERT_EQUAL(503, http_call(admin, "GET", "/replica").status);
    CPPUNIT_ASSERT_EQUAL(200, http_call(admin, "GET", "/health").status);
    CPPUNIT_ASSERT_EQUAL(200, http_call(admin, "GET", "/primary/api-node").status);
    CPPUNIT_ASSERT_EQUAL(503, http_call(admin, "GET", "/replica/api-node").status);
    CPPUNIT_ASSERT_EQUAL(404, http_call(admin, "GET", "/primary/ghost").status);
    HttpReply hist = http_call(admin, "GET", "/api/history");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(what(hist), 200, hist.status);
    CPPUNIT_ASSERT_EQUAL(size_t{0}, hist.json->getArray("events")->size());
    HttpReply lag = http_call(admin, "GET", "/api/replication-lag");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(what(lag), 200, lag.status);
    Poco::JSON::Array::Ptr lag_nodes = lag.json->getArray("nodes");
    CPPUNIT_ASSERT_MESSAGE(lag.body, lag_nodes && lag_nodes->size() == 1 &&
                                         std::stoll(json_text(lag_nodes->getObject(0), "last_check_at_us")) > 0);
    HttpReply conflicts = http_call(admin, "GET", "/api/conflicts?limit=5");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(what(conflicts), 200, conflicts.status);
    CPPUNIT_ASSERT_EQUAL_MESSAGE(conflicts.body, size_t{0}, conflicts.json->getArray("conflicts")->size());
    CPPUNIT_ASSERT_EQUAL(400, http_call(admin, "GET", "/api/conflicts?limit=many").status);
    // Token rules as the App API's: 401 without, 403 with another.
    CPPUNIT_ASSERT_EQUAL(401, http_call(admin, "POST", "/api/failover/api-node", "{}").status);
    CPPUNIT_ASSERT_EQUAL(403, http_call(admin, "POST", "/api/failover/api-node", "{}", "wrong").status);
    HttpReply fo = http_call(admin, "POST", "/api/failover/api-node", "{\"reason\": \"test\"}", kToken);
    CPPUNIT_ASSERT_EQUAL_MESSAGE(what(fo), 409, fo.status);
    CPPUNIT_ASSERT_MESSAGE(fo.body, contains(fo.body, "nothing to fail over to: this catalog has one node"));
    HttpReply bad = http_call(admin, "POST", "/api/switchover", "{\"target\": 7}", kToken);
    CPPUNIT_ASSERT_EQUAL_MESSAGE(what(bad), 400, bad.status);
    CPPUNIT_ASSERT_MESSAGE(bad.body, contains(bad.body, "field 'target' must be a string"));
    CPPUNIT_ASSERT_EQUAL(400, http_call(admin, "POST", "/api/switchover", "not json", kToken).status);
    CPPUNIT_ASSERT_EQUAL(405, http_call(admin, "GET", "/api/switchover").status);
    CPPUNIT_ASSERT_EQUAL(404, http_call(admin, "GET", "/api/nothing").status);
    // The App API answers /api/sync-status as the HA API does.
    HttpReply sync_app = d.call("GET", "/api/sync-status");
    HttpReply sync_ha = http_call(admin, "GET", "/api/sync-status");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(what(sync_app), 200, sync_app.status);
    CPPUNIT_ASSERT_EQUAL(sync_ha.body, sync_app.body);
    // /metrics on both ports passes promtool (Debian's prometheus).
    TempDir dir("ha-api");
    for (uint16_t port : {admin, d.port()}) {
      HttpReply m = http_call(port, "GET", "/metrics");
      CPPUNIT_ASSERT_EQUAL(200, m.status);
      write_file(dir.file("metrics.txt"), m.body);
      ChildProcess check("/bin/sh", {"-c", "/usr/bin/promtool check metrics < '" + dir.file("metrics.txt") + "'"},
                         dir.file("promtool.out"), dir.file("promtool.err"));
      const int code = check.wait_or_kill(std::chrono::seconds(60));
      CPPUNIT_ASSERT_EQUAL_MESSAGE(check.stdout_text() + check.stderr_text(), 0, code);
    }
    // kestrelctl over the HA API.
    const std::string admin_flag = "--admin=" + d.admin_url();
    CtlRun s = kestrelctl(dir, {admin_flag, "status"});
    CPPUNIT_ASSERT_EQUAL_MESSAGE(s.out + s.err, 0, s.code);
    CPPUNIT_ASSERT_MESSAGE(s.out, contains(s.out, "primary: api-node  epoch: 1  mode: none"));
    CtlRun j = kestrelctl(dir, {admin_flag, "status", "--json"});
    CPPUNIT_ASSERT_EQUAL(0, j.code);
    CPPUNIT_ASSERT_MESSAGE(j.out, contains(j.out, "\"epoch\":1"));
    CtlRun t = kestrelctl(dir, {admin_flag, "test"});
    CPPUNIT_ASSERT_EQUAL_MESSAGE(t.out + t.err, 0, t.code);
    CtlRun h = kestrelctl(dir, {admin_flag, "history"});
    CPPUNIT_ASSERT_EQUAL(0, h.code);
    CPPUNIT_ASSERT_MESSAGE(h.out, contains(h.out, "no failover or switchover yet"));
    CtlRun c = kestrelctl(dir, {admin_flag, "conflicts"});
    CPPUNIT_ASSERT_EQUAL_MESSAGE(c.out + c.err, 0, c.code);
    CPPUNIT_ASSERT_MESSAGE(c.out, contains(c.out, "no conflicts"));
    CPPUNIT_ASSERT_EQUAL(2, kestrelctl(dir, {admin_flag, "conflicts", "--limit", "x"}).code);
    CtlRun f = kestrelctl(dir, {admin_flag, "--token", kToken, "failover", "api-node"});
    CPPUNIT_ASSERT_EQUAL_MESSAGE(f.out + f.err, 1, f.code);
    CPPUNIT_ASSERT_MESSAGE(f.err, contains(f.err, "HTTP 409"));
    CPPUNIT_ASSERT_EQUAL(2, kestrelctl(dir, {admin_flag, "failover"}).code);
    CPPUNIT_ASSERT_EQUAL(3, kestrelctl(dir, {"--admin", "http://127.0.0.1:" + std::to_string(free_loopback_port()),
                                             "status"})
                                .code);
    CPPUNIT_ASSERT_EQUAL_MESSAGE(d.stderr_text(), 0, d.stop());
  }

  void testKestrelctl() {
    FixtureHttpServer site(FixtureHttpServer::Options{fixture_site_root(), 200, 16});
    site.start();
    ApiDaemon d;
    TempDir dir("kestrelctl");
    const std::string api = "--api=" + d.api_url();

    CtlRun s = kestrelctl(dir, {api, "health"});
    CPPUNIT_ASSERT_EQUAL_MESSAGE(s.out + s.err, 0, s.code);
    CPPUNIT_ASSERT_MESSAGE(s.out, contains(s.out, "status: ok"));
    CPPUNIT_ASSERT_MESSAGE(s.out, contains(s.out, "component crawler: started"));

    CtlRun w = kestrelctl(dir, {"crawl", "start", site.url(), "--robots", "off", "--wait", "--api", d.api_url()});
    CPPUNIT_ASSERT_EQUAL_MESSAGE(w.out + w.err, 0, w.code);
    CPPUNIT_ASSERT_MESSAGE(w.out, contains(w.out, "crawl started: session "));
    CPPUNIT_ASSERT_MESSAGE(w.out, contains(w.out, "progress: state=running"));  // plain lines, not a bar
    CPPUNIT_ASSERT_MESSAGE(w.out, !contains(w.out, "\r"));
    CPPUNIT_ASSERT_MESSAGE(w.out, contains(w.out, "state: finished"));

    CtlRun st = kestrelctl(dir, {api, "crawl", "status"});
    CPPUNIT_ASSERT_EQUAL_MESSAGE(st.out + st.err, 0, st.code);
    CPPUNIT_ASSERT_MESSAGE(st.out, contains(st.out, "state: finished"));
    const std::string images = sqlite_scalar(d.catalog_db(), "SELECT count(*) FROM images");
    CPPUNIT_ASSERT_MESSAGE(st.out + "\ncatalog rows: " + images, contains(st.out, "images: " + images + " stored"));

    CtlRun l = kestrelctl(dir, {api, "images", "--limit", "2", "--format", "png"});
    CPPUNIT_ASSERT_EQUAL_MESSAGE(l.out + l.err, 0, l.code);
    CPPUNIT_ASSERT_MESSAGE(l.out, contains(l.out, "2 of " +
                                                      sqlite_scalar(d.catalog_db(),
                                                                    "SELECT count(*) FROM images WHERE format='png'") +
                                                      " image(s)"));
    CPPUNIT_ASSERT_MESSAGE(l.out, contains(l.out, "\tpng\t"));

    // A second crawl (new session: the first one finished) stopped right away.
    CtlRun start2 = kestrelctl(dir, {api, "crawl", "start", site.url() + "sub/"});
    CPPUNIT_ASSERT_EQUAL_MESSAGE(start2.out + start2.err, 0, start2.code);
    CtlRun busy = kestrelctl(dir, {api, "crawl", "start", site.url()});
    CPPUNIT_ASSERT_EQUAL_MESSAGE(busy.out + busy.err, 1, busy.code);
    CPPUNIT_ASSERT_MESSAGE(busy.err, contains(busy.err, "HTTP 409"));
    CtlRun stop = kestrelctl(dir, {api, "crawl", "stop", "--wait"});
    CPPUNIT_ASSERT_EQUAL_MESSAGE(stop.out + stop.err, 0, stop.code);
    CPPUNIT_ASSERT_MESSAGE(stop.out, contains(stop.out, "stop requested"));
    CPPUNIT_ASSERT_MESSAGE(stop.out, contains(stop.out, "state: stopped"));

    // Usage errors exit 2; an API nobody serves exits 3.
    CPPUNIT_ASSERT_EQUAL(2, kestrelctl(dir, {api, "crawl", "start"}).code);
    CPPUNIT_ASSERT_EQUAL(2, kestrelctl(dir, {api, "crawl", "start", site.url(), "--scope", "world"}).code);
    CPPUNIT_ASSERT_EQUAL(2, kestrelctl(dir, {api, "fly"}).code);
    CtlRun down = kestrelctl(dir, {"--api", "http://127.0.0.1:" + std::to_string(free_loopback_port()), "health"});
    CPPUNIT_ASSERT_EQUAL_MESSAGE(down.err, 3, down.code);
    CtlRun help = kestrelctl(dir, {"--help"});
    CPPUNIT_ASSERT_EQUAL(0, help.code);
    CPPUNIT_ASSERT_MESSAGE(help.out, contains(help.out, "Exit codes"));

    CPPUNIT_ASSERT_EQUAL_MESSAGE(d.stderr_text(), 0, d.stop());
  }

  // Issue 16 item 6: while a component is unhealthy, polling /api/health
  // logs one line naming it and the reason (not the body per poll), and one
  // line when it is healthy again with the count of checks in between.
  void testHealthLogsStateChangesNotEveryPoll() {
    ApiDaemon d;
    const std::string tmp = d.images_dir() + "/.tmp";
    // blob-local's health needs <root>/.tmp writable: take it away.
    CPPUNIT_ASSERT_EQUAL(0, std::rename(tmp.c_str(), (tmp + "-away").c_str()));
    const int polls = 25;
    for (int i = 0; i < polls; ++i) {
      HttpReply h = d.call("GET", "/api/health");
      CPPUNIT_ASSERT_EQUAL_MESSAGE(what(h), 503, h.status);
      CPPUNIT_ASSERT_MESSAGE(what(h), contains(json_text(h.json->getObject("components"), "images"), "not writable"));
    }
    CPPUNIT_ASSERT_EQUAL(0, std::rename((tmp + "-away").c_str(), tmp.c_str()));
    HttpReply ok = d.call("GET", "/api/health");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(what(ok), 200, ok.status);
    d.call("GET", "/api/health");
    const std::string log = d.stderr_text();
    auto count = [&](const std::string& needle) {
      size_t n = 0;
      for (size_t p = log.find(needle); p != std::string::npos; p = log.find(needle, p + 1)) ++n;
      return n;
    };
    // No per-poll dump of the response body.
    CPPUNIT_ASSERT_EQUAL_MESSAGE(log, size_t{0}, count("GET /api/health: 503"));
    CPPUNIT_ASSERT_EQUAL_MESSAGE(log, size_t{0}, count("\"components\""));
    // One line for the change, naming the component and the reason.
    CPPUNIT_ASSERT_EQUAL_MESSAGE(log, size_t{1}, count("health: component 'images' unhealthy: "));
    const size_t at = log.find("health: component 'images' unhealthy: ");
    const std::string line = log.substr(at, log.find('\n', at) - at);
    CPPUNIT_ASSERT_MESSAGE(line, contains(line, "not writable"));
    // And one for the way back, with the count of unhealthy checks.
    CPPUNIT_ASSERT_EQUAL_MESSAGE(log, size_t{1}, count("health: component 'images' healthy again"));
    CPPUNIT_ASSERT_MESSAGE(log, contains(log, "after " + std::to_string(polls) + " unhealthy checks"));
    CPPUNIT_ASSERT_EQUAL_MESSAGE(log, size_t{0}, count("still unhealthy"));  // under a minute: no repeat line
    CPPUNIT_ASSERT_EQUAL_MESSAGE(d.stderr_text(), 0, d.stop());
  }

  void testListenErrors() {
    TempDir dir("api-listen");
    // A port someone else listens on: exit 1 naming the address.
    Poco::Net::ServerSocket taken(Poco::Net::SocketAddress("127.0.0.1", 0));
    const std::string address = "127.0.0.1:" + std::to_string(taken.address().port());
    const std::string head =
        "plugins:\n  paths: [\"" + plugin_dir() +
        "\"]\ncomponents:\n  catalog:\n    type: store-sqlite\n  images:\n    type: blob-local\n";
    write_file(dir.file("busy.yaml"), head + "api:\n  listen: \"" + address + "\"\n");
    ChildProcess busy(kestreld_path(), {"--config", dir.file("busy.yaml"), "--data-dir", dir.make_dir("data")},
                      dir.file("busy.out"), dir.file("busy.err"));
    CPPUNIT_ASSERT_EQUAL_MESSAGE(busy.stderr_text(), 1, busy.wait_or_kill(std::chrono::seconds(60)));
    CPPUNIT_ASSERT_MESSAGE(busy.stderr_text(), contains(busy.stderr_text(), "cannot listen on " + address));

    // A malformed address is a configuration error with its line.
    write_file(dir.file("bad.yaml"), head + "api:\n  listen: \"localhost\"\n");
    ChildProcess bad(kestreld_path(), {"--validate", dir.file("bad.yaml")}, dir.file("bad.out"), dir.file("bad.err"));
    CPPUNIT_ASSERT_EQUAL_MESSAGE(bad.stderr_text(), 78, bad.wait_or_kill(std::chrono::seconds(60)));
    CPPUNIT_ASSERT_MESSAGE(bad.stderr_text(), contains(bad.stderr_text(), "bad.yaml:9:11: error: api.listen 'localhost'"));
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(AppApiTest);

}  // namespace test
}  // namespace kestrel
