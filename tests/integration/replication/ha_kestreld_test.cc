// The HA catalog end to end, as an operator runs it (issue 9's test): kestreld
// started as a process over three real PostgreSQL servers (a the primary, b
// and c copied from it by the replicator's bootstrap: auto, semi-sync), the
// crawler crawling the GIMP manual (served with a small delay per response so
// that the crawl is still running), SIGKILL of the primary's postmaster in
// the middle: the best standby is promoted, the crawl finishes, every image
// it reports stored is on the new primary, the epoch grew by one, history
// has the event, the HA API's load-balancer checks follow, and the old
// primary is rejoined as a standby.
#include <cppunit/extensions/HelperMacros.h>

#include <Poco/JSON/Array.h>

#include <csignal>
#include <fstream>
#include <thread>

#include "api_daemon.h"
#include "kestrel/test/child_process.h"
#include "kestrel/test/files.h"
#include "kestrel/test/fixture_http_server.h"
#include "kestrel/test/paths.h"
#include "kestrel/test/ports.h"
#include "kestrel/test/temp_dir.h"
#include "replication_env.h"

using namespace kestrel::test;

namespace {

const char kGimpManual[] = "/usr/share/gimp/2.0/help/en";

Poco::JSON::Object::Ptr node_of(const HttpReply& status, const std::string& name) {
  Poco::JSON::Array::Ptr nodes = status.json ? status.json->getArray("nodes") : nullptr;
  for (size_t i = 0; nodes && i < nodes->size(); ++i)
    if (json_text(nodes->getObject(static_cast<unsigned>(i)), "name") == name) return nodes->getObject(static_cast<unsigned>(i));
  return nullptr;
}

// The store on node `name`, reading the catalog's nodes list (the app role's
// credentials here; the address is the node's).
std::string store(const std::string& name) {
  return "  " + name + ":\n    type: store-postgres\n    nodes: catalog\n    node: " + name +
         "\n    conninfo: \"user=kestrel password=kestrel connect_timeout=5\"\n    pool_size: 4\n";
}

}  // namespace

class HaKestreldTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(HaKestreldTest);
  CPPUNIT_TEST(crawl_rides_through_a_primary_crash);
  CPPUNIT_TEST_SUITE_END();

 public:
  void crawl_rides_through_a_primary_crash() {
    CPPUNIT_ASSERT_MESSAGE(std::string(kGimpManual) + " is missing: bash packaging/install-deps.sh --test",
                           std::ifstream(std::string(kGimpManual) + "/index.html").good());
    ReplicationEnv e;
    e.add_initialized("a");
    e.add_empty("b");
    e.add_empty("c");
    FixtureHttpServer site(FixtureHttpServer::Options{kGimpManual, 15, 16});
    site.start();
    TempDir dir("ha-kestreld");
    const uint16_t api = free_loopback_port();
    uint16_t admin = free_loopback_port();
    while (admin == api) admin = free_loopback_port();
    const std::string yaml =
        "node:\n  name: n1\n  data_dir: " + dir.make_dir("data") + "\nplugins:\n  paths: [\"" + plugin_dir() +
        "\"]\napi:\n  listen: \"127.0.0.1:" + std::to_string(api) + "\"\nadmin:\n  listen: \"127.0.0.1:" +
        std::to_string(admin) + "\"\ncomponents:\n" + store("a") + store("b") + store("c") +
        "  repl:\n    type: replicator-pg\n    nodes: catalog\n    conninfo: \"" +
        ReplicationEnv::superuser_conninfo() +
        "\"\n    replication_password: \"s3cret-repl\"\n    poll_interval: 1s\n    connect_timeout: 2s\n"
        "    bootstrap: auto\n    mode: semi-sync\n"
        "  catalog:\n    type: ha-catalog\n" +
        ReplicationEnv::nodes_option({e.node_item("a", 0), e.node_item("b", 1), e.node_item("c", 2)}) +
        "    stores: [a, b, c]\n    replicator: repl\n"
        "    health_check_interval: 1s\n    retry_interval: 200ms\n"
        "  images:\n    type: blob-local\n"
        "  crawler:\n    type: crawler-http\n    catalog: catalog\n    files: images\n    concurrency: 4\n"
        "    per_host_connections: 4\n";
    write_file(dir.file("kestrel.yaml"), yaml);
    ChildProcess kestreld(kestreld_path(), {"--config", dir.file("kestrel.yaml")}, dir.file("kestreld.out"),
                          dir.file("kestreld.err"));
    auto all_quorum = [&] {
      if (!kestreld.running()) return true;
      const HttpReply s = try_http_call(admin, "GET", "/api/status");
      return s.status == 200 && json_text(node_of(s, "b"), "sync_state") == "quorum" &&
             json_text(node_of(s, "c"), "sync_state") == "quorum";
    };
    CPPUNIT_ASSERT_MESSAGE(kestreld.stdout_text() + kestreld.stderr_text(),
                           eventually(all_quorum, 120000) && kestreld.running());
    CPPUNIT_ASSERT_EQUAL(200, http_call(admin, "GET", "/primary/a").status);
    CPPUNIT_ASSERT_EQUAL(503, http_call(admin, "GET", "/primary/b").status);

    const HttpReply start =
        http_call(api, "POST", "/api/crawl/start", "{\"seeds\": [\"" + site.url() + "index.html\"], \"robots\": false}");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(start.body, 202, start.status);
    CPPUNIT_ASSERT_MESSAGE("the crawl stored no image", eventually([&] {
                             const HttpReply s = http_call(api, "GET", "/api/crawl/status");
                             return s.json && std::stol(json_text(s.json, "images").empty() ? "0" : json_text(s.json, "images")) >= 200;
                           },
                                                                  60000));
    // The crash: SIGKILL of a's postmaster, mid-crawl.
    std::ifstream pid_file(e.cluster("a").data_dir() + "/postmaster.pid");
    long pid = 0;
    pid_file >> pid;
    CPPUNIT_ASSERT(pid > 0);
    CPPUNIT_ASSERT_EQUAL(0, ::kill(static_cast<pid_t>(pid), SIGKILL));
    HttpReply status;
    CPPUNIT_ASSERT_MESSAGE(kestreld.stderr_text(), eventually([&] {
                             status = http_call(api, "GET", "/api/crawl/status");
                             const std::string state = json_text(status.json, "state");
                             return state == "finished" || state == "failed" || state == "stopped";
                           },
                                                           300000));
    CPPUNIT_ASSERT_EQUAL_MESSAGE(status.body, std::string("finished"), json_text(status.json, "state"));
    const HttpReply ha = http_call(admin, "GET", "/api/status");
    CPPUNIT_ASSERT_EQUAL_MESSAGE(ha.body, std::string("b"), json_text(ha.json, "primary"));
    CPPUNIT_ASSERT_EQUAL(std::string("2"), json_text(ha.json, "epoch"));
    CPPUNIT_ASSERT_EQUAL(200, http_call(admin, "GET", "/primary/b").status);
    CPPUNIT_ASSERT_EQUAL(503, http_call(admin, "GET", "/primary/a").status);
    // Every image the crawl reports stored is on the new primary.
    const std::string session = json_text(status.json->getObject("session"), "id");
    const long stored = std::stol(json_text(status.json, "images"));
    const long rows = std::stol(
        e.cluster("b").query("SELECT count(*) FROM images WHERE crawl_session_id = " + session).at(0).at(0));
    CPPUNIT_ASSERT_MESSAGE(status.body, stored > 200);
    CPPUNIT_ASSERT_EQUAL_MESSAGE(status.body, stored, rows);
    const HttpReply history = http_call(admin, "GET", "/api/history");
    Poco::JSON::Array::Ptr events = history.json ? history.json->getArray("events") : nullptr;
    CPPUNIT_ASSERT_MESSAGE(history.body, events && events->size() == 1);
    Poco::JSON::Object::Ptr ev = events->getObject(0);
    CPPUNIT_ASSERT_EQUAL(std::string("a"), json_text(ev, "from"));
    CPPUNIT_ASSERT_EQUAL(std::string("b"), json_text(ev, "to"));
    CPPUNIT_ASSERT_EQUAL(std::string("true"), json_text(ev, "automatic"));
    CPPUNIT_ASSERT(std::stol(json_text(ev, "duration_ms")) >= 0);
    // The old primary is rejoined as a standby of b.
    CPPUNIT_ASSERT_MESSAGE(kestreld.stderr_text(), eventually([&] {
                             const HttpReply s = http_call(admin, "GET", "/api/status");
                             return json_text(node_of(s, "a"), "role") == "standby" &&
                                    json_text(node_of(s, "a"), "healthy") == "true";
                           },
                                                               120000));
    CPPUNIT_ASSERT_EQUAL(200, http_call(admin, "GET", "/replica/a").status);
    kestreld.terminate();
    CPPUNIT_ASSERT_EQUAL_MESSAGE(kestreld.stderr_text(), 0, kestreld.wait_or_kill(std::chrono::seconds(60)));
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(HaKestreldTest);
