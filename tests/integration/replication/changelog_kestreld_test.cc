// The change log end to end (issue 10's test): kestreld as a process with an
// SQLite primary and two SQLite standbys (replicator-changelog, sync mode,
// behind the ha-catalog), the crawler crawling the GIMP manual (served with
// a delay per response so that it is still running), and SIGKILL of the
// whole daemon in the middle of its writes:
//   - nothing acknowledged is lost: every image the crawler had marked done
//     (it does so once the catalog write of its row returned) is on both
//     standbys already (sync mode);
//   - a standby never holds what the primary does not;
//   - after a restart the standbys catch up from their own recorded
//     positions, nothing is applied twice (one change_log row per seq, the
//     same rows as the primary) and the consistency check agrees.
#include <cppunit/extensions/HelperMacros.h>

#include <sqlite3.h>

#include <fstream>
#include <memory>
#include <thread>
#include <set>

#include "api_daemon.h"
#include "kestrel/test/child_process.h"
#include "kestrel/test/files.h"
#include "kestrel/test/fixture_http_server.h"
#include "kestrel/test/paths.h"
#include "kestrel/test/ports.h"
#include "kestrel/test/sqlite_query.h"
#include "kestrel/test/temp_dir.h"
#include "replication_env.h"

using namespace kestrel::test;

namespace {

const char kGimpManual[] = "/usr/share/gimp/2.0/help/en";

long count(const std::string& file, const std::string& sql) { return std::stol(sqlite_scalar(file, sql)); }

}  // namespace

class ChangelogKestreldTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(ChangelogKestreldTest);
  CPPUNIT_TEST(sigkill_of_the_daemon_mid_crawl_loses_and_duplicates_nothing);
  CPPUNIT_TEST_SUITE_END();

 public:
  void sigkill_of_the_daemon_mid_crawl_loses_and_duplicates_nothing() {
    CPPUNIT_ASSERT_MESSAGE(std::string(kGimpManual) + " is missing: bash packaging/install-deps.sh --test",
                           std::ifstream(std::string(kGimpManual) + "/index.html").good());
    FixtureHttpServer site(FixtureHttpServer::Options{kGimpManual, 15, 16});
    site.start();
    TempDir dir("changelog-kestreld");
    const std::string data = dir.make_dir("data");
    const uint16_t api = free_loopback_port();
    uint16_t admin = free_loopback_port();
    while (admin == api) admin = free_loopback_port();
    const std::string token = "changelog-test-token";
    std::string yaml = "node:\n  name: n1\n  data_dir: " + data + "\nplugins:\n  paths: [\"" + plugin_dir() +
                       "\"]\napi:\n  listen: \"127.0.0.1:" + std::to_string(api) + "\"\nadmin:\n  listen: \"127.0.0.1:" +
                       std::to_string(admin) + "\"\n  token: " + token + "\ncomponents:\n";
    for (const char* n : {"a", "b", "c"}) yaml += std::string("  ") + n + ":\n    type: store-sqlite\n    nodes: catalog\n";
    yaml +=
        "  repl:\n    type: replicator-changelog\n    nodes: catalog\n    mode: sync\n    sync_timeout: 10s\n"
        "  catalog:\n    type: ha-catalog\n    nodes:\n"
        "      - {name: a, priority: 0, path: a/catalog.db}\n"
        "      - {name: b, priority: 1, path: b/catalog.db}\n"
        "      - {name: c, priority: 2, path: c/catalog.db}\n"
        "    stores: [a, b, c]\n    replicator: repl\n    health_check_interval: 1s\n    retry_interval: 200ms\n"
        "  images:\n    type: blob-local\n"
        "  crawler:\n    type: crawler-http\n    catalog: catalog\n    files: images\n    concurrency: 4\n"
        "    per_host_connections: 4\n";
    write_file(dir.file("kestrel.yaml"), yaml);
    const std::string a = data + "/a/catalog.db", b = data + "/b/catalog.db", c = data + "/c/catalog.db";

    ChildProcess first(kestreld_path(), {"--config", dir.file("kestrel.yaml")}, dir.file("kestreld-1.out"),
                       dir.file("kestreld-1.err"));
    auto streaming = [&] {
      const HttpReply s = try_http_call(admin, "GET", "/api/sync-status");
      Poco::JSON::Array::Ptr standbys = s.json ? s.json->getArray("standbys") : nullptr;
      int ok = 0;
      for (size_t i = 0; standbys && i < standbys->size(); ++i)
        if (json_text(standbys->getObject(static_cast<unsigned>(i)), "healthy") == "true") ++ok;
      return !first.running() || ok == 2;
    };
    CPPUNIT_ASSERT_MESSAGE(first.stderr_text(), eventually(streaming, 60000) && first.running());
    const HttpReply start =
        http_call(api, "POST", "/api/crawl/start", "{\"seeds\": [\"" + site.url() + "index.html\"], \"robots\": false}");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(start.body, 202, start.status);
    long reported = 0;
    CPPUNIT_ASSERT_MESSAGE(first.stderr_text(), eventually([&] {
                             const HttpReply s = http_call(api, "GET", "/api/crawl/status");
                             const std::string n = json_text(s.json, "images");
                             reported = n.empty() ? 0 : std::stol(n);
                             return reported >= 150;
                           },
                                                            120000));
    // Standby c stops applying (another connection holds its write lock):
    // in sync mode no write is acknowledged from now on; the crawler's
    // writes wait. (In async mode the crawler would go on, and the check
    // below fails: this is what tells the modes apart.)
    sqlite3* lock = nullptr;
    CPPUNIT_ASSERT_EQUAL(SQLITE_OK, sqlite3_open(c.c_str(), &lock));
    std::unique_ptr<sqlite3, int (*)(sqlite3*)> lock_owner(lock, sqlite3_close);
    sqlite3_busy_timeout(lock, 10000);
    CPPUNIT_ASSERT_EQUAL(SQLITE_OK, sqlite3_exec(lock, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr));
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    // The crash, with writes in flight. What was acknowledged: the
    // crawler marks an image done in its frontier only once the catalog
    // write of its row returned (the crawl's "images" also counts rows
    // still in its write batch).
    first.kill();
    first.wait_or_kill(std::chrono::seconds(10));
    std::set<std::string> acked;
    for (const SqlRow& r :
         sqlite_query(data + "/node.db", "SELECT url FROM frontier WHERE kind = 'image' AND state = 'done'"))
      acked.insert(r.at(0));
    sqlite3_exec(lock, "ROLLBACK", nullptr, nullptr, nullptr);
    lock_owner.reset();
    auto urls = [](const std::string& file) {
      std::set<std::string> out;
      for (const SqlRow& r : sqlite_query(file, "SELECT url FROM images")) out.insert(r.at(0));
      return out;
    };
    const std::set<std::string> on_a = urls(a), on_b = urls(b), on_c = urls(c);
    const std::string counts = "reported " + std::to_string(reported) + ", acknowledged " + std::to_string(acked.size()) +
                               ", a " + std::to_string(on_a.size()) + ", b " + std::to_string(on_b.size()) + ", c " +
                               std::to_string(on_c.size());
    CPPUNIT_ASSERT_MESSAGE(counts, acked.size() >= 64);
    for (const std::string& u : acked)
      CPPUNIT_ASSERT_MESSAGE(counts + ": acknowledged " + u + " is not on both standbys",
                             on_b.count(u) == 1 && on_c.count(u) == 1);
    // Every standby row is the primary's (nothing the primary lacks).
    for (const std::set<std::string>* standby : {&on_b, &on_c})
      for (const std::string& u : *standby)
        CPPUNIT_ASSERT_MESSAGE(counts + ": a standby holds " + u + ", which the primary lacks", on_a.count(u) == 1);

    // The restart: the standbys resume from their own positions.
    ChildProcess second(kestreld_path(), {"--config", dir.file("kestrel.yaml")}, dir.file("kestreld-2.out"),
                        dir.file("kestreld-2.err"));
    // (A crawl the kill interrupted may be resumed by the new daemon: wait
    // until none runs and the standbys hold what the primary holds.)
    CPPUNIT_ASSERT_MESSAGE(second.stderr_text(), eventually([&] {
                             if (!second.running()) return true;
                             const HttpReply s = try_http_call(api, "GET", "/api/crawl/status");
                             if (s.status != 200 || json_text(s.json, "state") == "running") return false;
                             const long rows = count(a, "SELECT COUNT(*) FROM images");
                             return count(b, "SELECT COUNT(*) FROM images") == rows &&
                                    count(c, "SELECT COUNT(*) FROM images") == rows;
                           },
                                                             300000) &&
                                                     second.running());
    for (const std::string& f : {b, c}) {
      CPPUNIT_ASSERT_EQUAL(std::string("0"),
                           sqlite_scalar(f, "SELECT COUNT(*) FROM (SELECT seq FROM change_log GROUP BY seq "
                                            "HAVING COUNT(*) > 1)"));
      CPPUNIT_ASSERT_EQUAL(sqlite_scalar(a, "SELECT seq FROM sqlite_sequence WHERE name = 'change_log'"),
                           sqlite_scalar(f, "SELECT applied_seq FROM replica_positions WHERE node = 'a'"));
    }
    for (const char* standby : {"b", "c"}) {
      const HttpReply r = http_call(admin, "POST", "/api/consistency-check",
                                    std::string("{\"standby\": \"") + standby + "\"}", token);
      CPPUNIT_ASSERT_MESSAGE(r.body, r.status == 200 && r.body.find("\"consistent\":true") != std::string::npos);
    }
    const HttpReply st = http_call(admin, "GET", "/api/status");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(st.body, std::string("a"), json_text(st.json, "primary"));
    second.terminate();
    CPPUNIT_ASSERT_EQUAL_MESSAGE(second.stderr_text(), 0, second.wait_or_kill(std::chrono::seconds(60)));
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ChangelogKestreldTest);
