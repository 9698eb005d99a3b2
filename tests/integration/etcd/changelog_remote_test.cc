// The change log across servers (issue 10): two kestreld processes, each
// holding one SQLite node of one catalog, agreeing on the primary through a
// real etcd (coordinator-etcd). Daemon A holds the primary a and crawls; B
// holds the standby b, which A's replicator reaches only through B's HA API
// (POST /api/changes/{method}, token-checked), first rebuilding it from a
// snapshot sent in checksummed chunks, then shipping batches (sync mode).
//   - b gets A's rows; GET /api/sync-status on A shows b streaming;
//   - SIGKILL of A mid-crawl, with a write committed on a that b has not
//     applied (b held locked): every image A acknowledged is on b;
//   - B takes the lease, fails over to b (epoch 2) and its own crawl of the
//     site goes on, writing to b (sync_fallback: async while a is away);
//   - A restarts: it follows b, its node a is fenced and rejoined over the
//     network (what only a held goes to b's conflicts, a is rebuilt from a
//     snapshot of b), then streams, and B's consistency check of a agrees.
#include <cppunit/extensions/HelperMacros.h>

#include <sqlite3.h>

#include <fstream>
#include <iostream>
#include <memory>
#include <set>
#include <thread>

#include "api_daemon.h"
#include "etcd_server.h"
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
const char kToken[] = "changelog-remote-token";

long count(const std::string& file, const std::string& sql) { return std::stol(sqlite_scalar(file, sql)); }

std::set<std::string> urls(const std::string& file) {
  std::set<std::string> out;
  for (const SqlRow& r : sqlite_query(file, "SELECT url FROM images")) out.insert(r.at(0));
  return out;
}

struct Daemon {
  std::string name;  // a or b: the node it holds
  std::string data;
  uint16_t api = 0, admin = 0;
  std::string config;
  std::unique_ptr<ChildProcess> process;
  int starts = 0;

  std::string db() const { return data + "/" + name + "/catalog.db"; }
  void start(const TempDir& dir) {
    ++starts;
    const std::string tag = name + "-" + std::to_string(starts);
    process = std::make_unique<ChildProcess>(kestreld_path(), std::vector<std::string>{"--config", config},
                                             dir.file("kestreld-" + tag + ".out"), dir.file("kestreld-" + tag + ".err"));
  }
  std::string log() const { return process ? process->stderr_text() : std::string(); }
};

// A's and B's configs: the same nodes list, each daemon's own node with a path, the other's with a
// url; node.name is the node it holds, so /primary and /replica answer for it (HAProxy).
std::string config_of(const Daemon& self, const Daemon& peer, const std::string& etcd_url) {
  const auto node = [&](const Daemon& d, int priority) {
    return "      - {name: " + d.name + ", priority: " + std::to_string(priority) +
           (&d == &self ? ", path: " + d.name + "/catalog.db}\n"
                        : ", url: \"http://127.0.0.1:" + std::to_string(d.admin) + "\"}\n");
  };
  const Daemon& a = self.name == "a" ? self : peer;
  const Daemon& b = self.name == "a" ? peer : self;
  return "node:\n  name: " + self.name + "\n  data_dir: " + self.data + "\nplugins:\n  paths: [\"" + plugin_dir() +
         "\"]\napi:\n  listen: \"127.0.0.1:" + std::to_string(self.api) + "\"\nadmin:\n  listen: \"127.0.0.1:" +
         std::to_string(self.admin) + "\"\n  token: " + kToken + "\ncomponents:\n  " + self.name +
         ":\n    type: store-sqlite\n    nodes: catalog\n"
         "  repl:\n    type: replicator-changelog\n    nodes: catalog\n    mode: sync\n    sync_timeout: 10s\n"
         // Two nodes: with one lost, sync mode could acknowledge nothing (the
         // writer would get TIMEOUT); the survivor goes on in async and says so.
         "    sync_fallback: async\n"
         "    peer_token: " + kToken + "\n    peer_timeout: 5s\n    busy_timeout: 1s\n    snapshot_chunk: 64KiB\n"
         "  coord:\n    type: coordinator-etcd\n    endpoints: [\"" + etcd_url +
         "\"]\n    prefix: /kestrel/changelog-remote/\n"
         "  catalog:\n    type: ha-catalog\n    nodes:\n" + node(a, 0) + node(b, 1) +
         "    stores: [" + self.name + "]\n    replicator: repl\n    coordinator: coord\n"
         "    health_check_interval: 1s\n    retry_interval: 200ms\n    failover_timeout: 20s\n"
         "  images:\n    type: blob-local\n"
         "  crawler:\n    type: crawler-http\n    catalog: catalog\n    files: images\n    concurrency: 4\n"
         "    per_host_connections: 4\n";
}

// The node's entry in GET /api/status's nodes, as JSON text of one field.
std::string node_field(uint16_t admin, const std::string& node, const std::string& field) {
  const HttpReply s = try_http_call(admin, "GET", "/api/status");
  Poco::JSON::Array::Ptr nodes = s.json ? s.json->getArray("nodes") : nullptr;
  for (size_t i = 0; nodes && i < nodes->size(); ++i) {
    Poco::JSON::Object::Ptr n = nodes->getObject(static_cast<unsigned>(i));
    if (json_text(n, "name") == node) return json_text(n, field);
  }
  return "";
}

}  // namespace

class ChangelogRemoteTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(ChangelogRemoteTest);
  CPPUNIT_TEST(a_standby_behind_another_kestreld_takes_over_and_the_old_primary_rejoins);
  CPPUNIT_TEST_SUITE_END();

 public:
  void a_standby_behind_another_kestreld_takes_over_and_the_old_primary_rejoins() {
    CPPUNIT_ASSERT_MESSAGE(std::string(kGimpManual) + " is missing: bash packaging/install-deps.sh --test",
                           std::ifstream(std::string(kGimpManual) + "/index.html").good());
    FixtureHttpServer site(FixtureHttpServer::Options{kGimpManual, 15, 16});
    site.start();
    EtcdServer etcd;
    etcd.start();
    TempDir dir("changelog-remote");
    Daemon a, b;
    a.name = "a";
    b.name = "b";
    a.data = dir.make_dir("data-a");
    b.data = dir.make_dir("data-b");
    std::set<uint16_t> taken;
    for (uint16_t* p : {&a.api, &a.admin, &b.api, &b.admin}) {
      do *p = free_loopback_port();
      while (taken.count(*p));
      taken.insert(*p);
    }
    a.config = dir.file("a.yaml");
    b.config = dir.file("b.yaml");
    write_file(a.config, config_of(a, b, etcd.client_url()));
    write_file(b.config, config_of(b, a, etcd.client_url()));

    // A first (it starts the cluster: a, the first node, is the primary), then B.
    a.start(dir);
    CPPUNIT_ASSERT_MESSAGE(a.log(), eventually([&] {
                             return !a.process->running() || try_http_call(a.admin, "GET", "/primary").status == 200;
                           },
                                                  60000) &&
                                        a.process->running());
    b.start(dir);
    // b is rebuilt over the network from a snapshot, then streams.
    CPPUNIT_ASSERT_MESSAGE(a.log() + "\n---- B ----\n" + b.log(), eventually([&] {
                             return !b.process->running() || node_field(a.admin, "b", "sync_state") == "sync";
                           },
                                                                               60000) &&
                                                                    b.process->running());
    CPPUNIT_ASSERT_MESSAGE(a.log(), a.log().find("rebuilt") != std::string::npos ||
                                        b.log().find("rebuilt from a snapshot of a") != std::string::npos);
    CPPUNIT_ASSERT_EQUAL_MESSAGE(b.log(), std::string("a"), json_text(http_call(b.admin, "GET", "/api/status").json, "primary"));

    // A crawls; its writes reach b before they are acknowledged (sync).
    const HttpReply start = http_call(a.api, "POST", "/api/crawl/start",
                                      "{\"seeds\": [\"" + site.url() + "index.html\"], \"robots\": false}");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(start.body, 202, start.status);
    CPPUNIT_ASSERT_MESSAGE(a.log(), eventually([&] {
                             const std::string n = json_text(http_call(a.api, "GET", "/api/crawl/status").json, "images");
                             return !n.empty() && std::stol(n) >= 100;
                           },
                                                  120000));
    // At least one batch acknowledged (on b, and marked done in A's
    // frontier) before b stops applying: under load (ASan, a busy machine)
    // the crawler's count runs ahead of the first acknowledgement.
    CPPUNIT_ASSERT_MESSAGE(a.log(), eventually([&] {
                             return count(b.db(), "SELECT COUNT(*) FROM images") >= 64 &&
                                    count(a.data + "/node.db",
                                          "SELECT COUNT(*) FROM frontier WHERE kind = 'image' AND state = 'done'") >= 64;
                           },
                                                  120000));
    // b stops applying (the test holds its write lock): A's next write
    // commits on a and waits for b, unacknowledged. Then the host crash:
    // SIGKILL of A with that write in flight.
    sqlite3* lock = nullptr;
    CPPUNIT_ASSERT_EQUAL(SQLITE_OK, sqlite3_open(b.db().c_str(), &lock));
    std::unique_ptr<sqlite3, int (*)(sqlite3*)> lock_owner(lock, sqlite3_close);
    sqlite3_busy_timeout(lock, 10000);
    CPPUNIT_ASSERT_EQUAL(SQLITE_OK, sqlite3_exec(lock, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr));
    CPPUNIT_ASSERT_MESSAGE(a.log(), eventually([&] {
                             return count(a.db(), "SELECT COUNT(*) FROM images") >
                                    count(b.db(), "SELECT COUNT(*) FROM images");
                           },
                                                  60000));
    a.process->kill();
    a.process->wait_or_kill(std::chrono::seconds(10));
    // B may still be serving A's last apply, waiting for the lock: it gives
    // up after the replicator's busy_timeout (1 s here). Released before
    // that, the batch A had read would land on b (correctly: it was read
    // from a), and a would hold nothing b lacks.
    std::this_thread::sleep_for(std::chrono::seconds(3));
    sqlite3_exec(lock, "ROLLBACK", nullptr, nullptr, nullptr);
    lock_owner.reset();
    std::set<std::string> acked;
    for (const SqlRow& r :
         sqlite_query(a.data + "/node.db", "SELECT url FROM frontier WHERE kind = 'image' AND state = 'done'"))
      acked.insert(r.at(0));
    const std::set<std::string> on_a = urls(a.db()), on_b = urls(b.db());
    const std::string counts = "acknowledged " + std::to_string(acked.size()) + ", a " + std::to_string(on_a.size()) +
                               ", b " + std::to_string(on_b.size());
    CPPUNIT_ASSERT_MESSAGE(counts, acked.size() >= 64);
    for (const std::string& u : acked)
      CPPUNIT_ASSERT_MESSAGE(counts + ": acknowledged " + u + " is not on b", on_b.count(u) == 1);
    for (const std::string& u : on_b) CPPUNIT_ASSERT_MESSAGE(counts + ": b holds " + u + ", a lacks it", on_a.count(u) == 1);

    // B takes the lease once A's ran out, confirms a down and fails over to b.
    CPPUNIT_ASSERT_MESSAGE(b.log(), eventually([&] {
                             const HttpReply s = try_http_call(b.admin, "GET", "/api/status");
                             return json_text(s.json, "primary") == "b" && json_text(s.json, "epoch") == "2";
                           },
                                                  60000));
    CPPUNIT_ASSERT_EQUAL(200, try_http_call(b.admin, "GET", "/primary").status);
    // The crawl goes on on B, into b.
    const long before = count(b.db(), "SELECT COUNT(*) FROM images");
    const HttpReply again = http_call(b.api, "POST", "/api/crawl/start",
                                      "{\"seeds\": [\"" + site.url() + "index.html\"], \"robots\": false}");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(again.body, 202, again.status);
    CPPUNIT_ASSERT_MESSAGE(b.log(), eventually([&] { return count(b.db(), "SELECT COUNT(*) FROM images") >= before + 50; },
                                               120000));

    // A comes back: it follows b; B fences a, keeps what only a held in b's
    // conflicts, rebuilds a from a snapshot of b, and streams to it.
    a.start(dir);
    CPPUNIT_ASSERT_MESSAGE(a.log() + "\n---- B ----\n" + b.log(), eventually([&] {
                             return node_field(b.admin, "a", "role") == "standby" &&
                                    node_field(b.admin, "a", "sync_state") == "sync";
                           },
                                                                               90000));
    CPPUNIT_ASSERT_EQUAL_MESSAGE(a.log(), std::string("b"),
                                 json_text(http_call(a.admin, "GET", "/api/status").json, "primary"));
    CPPUNIT_ASSERT_EQUAL(503, try_http_call(a.admin, "GET", "/primary").status);
    // What a committed but b never got (unacknowledged writes in flight at
    // the kill) is in b's conflicts, never silently dropped.
    std::set<std::string> kept;
    const HttpReply conflicts = http_call(b.admin, "GET", "/api/conflicts?limit=0");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(conflicts.body, 200, conflicts.status);
    Poco::JSON::Array::Ptr list = conflicts.json ? conflicts.json->getArray("conflicts") : nullptr;
    CPPUNIT_ASSERT_MESSAGE(conflicts.body, !list.isNull());
    for (size_t i = 0; i < list->size(); ++i) {
      Poco::JSON::Object::Ptr c = list->getObject(static_cast<unsigned>(i));
      Poco::JSON::Object::Ptr row = c->getObject("row_image");
      if (json_text(c, "table") == "images" && row) kept.insert(json_text(row, "url"));
    }
    CPPUNIT_ASSERT_MESSAGE(counts, on_a.size() > on_b.size());
    for (const std::string& u : on_a)
      if (!on_b.count(u))
        CPPUNIT_ASSERT_MESSAGE(counts + ": " + u + " was only on a and is not in b's conflicts (" + conflicts.body + ")",
                               kept.count(u) == 1);
    std::cout << "\n" << counts << "; " << list->size() << " conflict(s) kept on b, " << kept.size() << " image(s)\n";
    // Let B's crawl end, then the two files agree.
    CPPUNIT_ASSERT(eventually([&] {
      return json_text(try_http_call(b.api, "GET", "/api/crawl/status").json, "state") != "running";
    }, 180000));
    CPPUNIT_ASSERT(eventually([&] {
      return count(a.db(), "SELECT COUNT(*) FROM images") == count(b.db(), "SELECT COUNT(*) FROM images");
    }, 30000));
    const HttpReply check = http_call(b.admin, "POST", "/api/consistency-check", "{\"standby\": \"a\"}", kToken);
    CPPUNIT_ASSERT_MESSAGE(check.body, check.status == 200 && check.body.find("\"consistent\":true") != std::string::npos);
    // A peer request without the token is refused.
    CPPUNIT_ASSERT_EQUAL(401, try_http_call(a.admin, "POST", "/api/changes/state", "{\"node\": \"a\"}").status);

    for (Daemon* d : {&a, &b}) {
      d->process->terminate();
      CPPUNIT_ASSERT_EQUAL_MESSAGE(d->log(), 0, d->process->wait_or_kill(std::chrono::seconds(60)));
    }
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ChangelogRemoteTest);
