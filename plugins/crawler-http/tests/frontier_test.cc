// Frontier against a real SQLite file: each URL once per run, queue order and
// cursor, outcomes, transactions, and what a resume finds after reopening.
#include "frontier.h"
#include "kestrel/test/sqlite_query.h"
#include "kestrel/test/temp_dir.h"

#include <kestrel/plugin.hpp>

#include <cppunit/extensions/HelperMacros.h>
#include <sqlite3.h>

#include <memory>

namespace kestrel::crawler {

class FrontierTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(FrontierTest);
  CPPUNIT_TEST(testEachUrlOncePerRun);
  CPPUNIT_TEST(testQueueOrderCursorAndOutcomes);
  CPPUNIT_TEST(testUncommittedTransactionRollsBack);
  CPPUNIT_TEST(testResumeFindsUnfinishedRunAfterReopen);
  CPPUNIT_TEST(testUnopenablePathIsAnIoErrorNamingIt);
  CPPUNIT_TEST(testStatusRecordsAndRecount);
  CPPUNIT_TEST(testVersion1FileIsMigrated);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testEachUrlOncePerRun() {
    test::TempDir dir;
    Frontier f(dir.file("node.db"));
    CPPUNIT_ASSERT(f.add("run1", "http://a/", UrlKind::Page, 0, ""));
    CPPUNIT_ASSERT(!f.add("run1", "http://a/", UrlKind::Page, 1, "http://a/x"));
    CPPUNIT_ASSERT(!f.add("run1", "http://a/", UrlKind::Image, 1, "http://a/x"));  // one entry per URL
    CPPUNIT_ASSERT(f.add("run2", "http://a/", UrlKind::Page, 0, ""));              // another run: again
    CPPUNIT_ASSERT_EQUAL(uint64_t{1}, f.count_queued("run1"));
    const auto items = f.load_queued("run1", 0, 10);
    CPPUNIT_ASSERT_EQUAL(size_t{1}, items.size());
    CPPUNIT_ASSERT_EQUAL(uint32_t{0}, items[0].depth);  // the first discovery wins
  }

  void testQueueOrderCursorAndOutcomes() {
    test::TempDir dir;
    Frontier f(dir.file("node.db"));
    for (int i = 0; i < 5; ++i)
      f.add("r", "http://a/" + std::to_string(i), i % 2 ? UrlKind::Image : UrlKind::Page, 1, "http://a/");
    auto first = f.load_queued("r", 0, 2);
    CPPUNIT_ASSERT_EQUAL(size_t{2}, first.size());
    CPPUNIT_ASSERT_EQUAL(std::string("http://a/0"), first[0].url);
    CPPUNIT_ASSERT(first[1].kind == UrlKind::Image);
    CPPUNIT_ASSERT_EQUAL(std::string("http://a/"), first[1].source_url);
    auto rest = f.load_queued("r", first[1].id, 10);
    CPPUNIT_ASSERT_EQUAL(size_t{3}, rest.size());
    CPPUNIT_ASSERT_EQUAL(std::string("http://a/2"), rest[0].url);

    f.set_state(first[0].id, "done", "", "");
    f.set_state(first[1].id, "failed", "http_404", "HTTP 404");
    f.set_state(rest[0].id, "skipped", "robots_denied", "disallowed");
    CPPUNIT_ASSERT_EQUAL(uint64_t{2}, f.count_queued("r"));
    CPPUNIT_ASSERT_EQUAL(uint64_t{2}, f.count_settled("r", UrlKind::Page));
    CPPUNIT_ASSERT_EQUAL(uint64_t{1}, f.count_settled("r", UrlKind::Image));
    auto reasons = f.count_reasons("r");
    CPPUNIT_ASSERT_EQUAL(uint64_t{1}, reasons["failed"]["http_404"]);
    CPPUNIT_ASSERT_EQUAL(uint64_t{1}, reasons["skipped"]["robots_denied"]);
    auto failed = f.failed("r", 10);
    CPPUNIT_ASSERT_EQUAL(size_t{1}, failed.size());
    CPPUNIT_ASSERT_EQUAL(std::string("http://a/1"), failed[0].url);
    CPPUNIT_ASSERT_EQUAL(std::string("http_404"), failed[0].reason);
    // Settled entries are never handed out again.
    auto again = f.load_queued("r", 0, 10);
    CPPUNIT_ASSERT_EQUAL(size_t{2}, again.size());
    CPPUNIT_ASSERT_EQUAL(std::string("http://a/3"), again[0].url);
  }

  void testUncommittedTransactionRollsBack() {
    test::TempDir dir;
    Frontier f(dir.file("node.db"));
    {
      Frontier::Transaction tx(f);
      f.add("r", "http://a/lost", UrlKind::Page, 0, "");
    }
    {
      Frontier::Transaction tx(f);
      f.add("r", "http://a/kept", UrlKind::Page, 0, "");
      tx.commit();
    }
    auto items = f.load_queued("r", 0, 10);
    CPPUNIT_ASSERT_EQUAL(size_t{1}, items.size());
    CPPUNIT_ASSERT_EQUAL(std::string("http://a/kept"), items[0].url);
  }

  void testResumeFindsUnfinishedRunAfterReopen() {
    test::TempDir dir;
    const std::string path = dir.file("node.db");
    const std::string seeds = "[\"http://a/\"]";
    {
      Frontier f(path);
      f.create_run("key-1", seeds, 1000);
      f.add("key-1", "http://a/", UrlKind::Page, 0, "");
      f.add("key-1", "http://a/img.png", UrlKind::Image, 1, "http://a/");
      RunCounters c;
      c.pages = 1;
      c.bytes = 1234;
      f.update_run("key-1", "running", c, 0);
      f.set_state(f.load_queued("key-1", 0, 1)[0].id, "done", "", "");
    }  // closed as by a crash
    Frontier f(path);
    auto run = f.find_unfinished(seeds);
    CPPUNIT_ASSERT(run.has_value());
    CPPUNIT_ASSERT_EQUAL(std::string("key-1"), run->session_key);
    CPPUNIT_ASSERT_EQUAL(uint64_t{1234}, run->counters.bytes);
    CPPUNIT_ASSERT_EQUAL(int64_t{1000}, run->started_at_us);
    auto queued = f.load_queued("key-1", 0, 10);
    CPPUNIT_ASSERT_EQUAL(size_t{1}, queued.size());  // the done page is skipped
    CPPUNIT_ASSERT_EQUAL(std::string("http://a/img.png"), queued[0].url);
    CPPUNIT_ASSERT(!f.find_unfinished("[\"http://b/\"]").has_value());  // other seeds: a new run

    f.update_run("key-1", "stopped", run->counters, 2000);
    CPPUNIT_ASSERT(f.find_unfinished(seeds).has_value());  // stopped is still resumable
    f.update_run("key-1", "finished", run->counters, 3000);
    CPPUNIT_ASSERT(!f.find_unfinished(seeds).has_value());  // finished: the next crawl is a new run
  }

  void testUnopenablePathIsAnIoErrorNamingIt() {
    test::TempDir dir;
    const std::string path = dir.file("no/such/dir/node.db");
    try {
      Frontier f(path);
      CPPUNIT_FAIL("opening a file in a missing directory must fail");
    } catch (const Error& e) {
      CPPUNIT_ASSERT_EQUAL(KESTREL_ERR_IO, e.code());
      CPPUNIT_ASSERT(std::string(e.what()).find(path) != std::string::npos);
    }
  }

  void testStatusRecordsAndRecount() {
    test::TempDir dir;
    const std::string path = dir.file("node.db");
    Frontier f(path);
    f.add("r", "http://a/", UrlKind::Page, 0, "");
    f.add("r", "http://a/i.png", UrlKind::Image, 1, "http://a/");
    f.add("r", "http://a/j.png", UrlKind::Image, 1, "http://a/");
    f.add("r", "http://a/k.png", UrlKind::Image, 1, "http://a/");
    CPPUNIT_ASSERT(f.add_settled("r", "http://a/long", UrlKind::Page, 1, "http://a/", "skipped", "url_too_long", "x"));
    CPPUNIT_ASSERT(!f.add_settled("r", "http://a/long", UrlKind::Page, 1, "http://a/", "skipped", "url_too_long", "x"));
    auto items = f.load_queued("r", 0, 10);
    CPPUNIT_ASSERT_EQUAL(size_t{4}, items.size());  // the settled one is never loaded
    FetchRecord rec;
    rec.http_status = 200;
    rec.attempts = 2;
    rec.bytes = 1234;
    rec.final_url = "http://a/index.html";
    f.record_fetch(items[0].id, rec);
    f.set_state(items[0].id, "done", "", "");
    rec.bytes = 10;
    f.record_fetch(items[1].id, rec);
    f.set_state(items[1].id, "done", "", "");
    f.set_state(items[2].id, "done", "unchanged", "");
    f.set_state(items[3].id, "failed", "http_404", "HTTP 404");
    const RunCounters c = f.recount("r");
    CPPUNIT_ASSERT_EQUAL(uint64_t{1}, c.pages);
    CPPUNIT_ASSERT_EQUAL(uint64_t{1}, c.images);
    CPPUNIT_ASSERT_EQUAL(uint64_t{1}, c.images_unchanged);
    CPPUNIT_ASSERT_EQUAL(uint64_t{1244}, c.bytes);
    auto row = test::sqlite_query(path, "SELECT http_status, attempts, bytes, final_url FROM frontier WHERE url = 'http://a/'");
    CPPUNIT_ASSERT_EQUAL(std::string("200"), row[0][0]);
    CPPUNIT_ASSERT_EQUAL(std::string("2"), row[0][1]);
    CPPUNIT_ASSERT_EQUAL(std::string("1234"), row[0][2]);
    CPPUNIT_ASSERT_EQUAL(std::string("http://a/index.html"), row[0][3]);
    // A queued entry keeps its attempts for a resume.
    f.record_fetch(items[3].id, rec);
    f.set_state(items[3].id, "queued", "", "");
    CPPUNIT_ASSERT_EQUAL(uint32_t{2}, f.load_queued("r", 0, 10).at(0).attempts);
  }

  void testVersion1FileIsMigrated() {
    test::TempDir dir;
    const std::string path = dir.file("node.db");
    {  // a version-1 file as the previous release wrote it (test::sqlite_query opens read-only)
      sqlite3* raw = nullptr;
      CPPUNIT_ASSERT_EQUAL(SQLITE_OK, sqlite3_open(path.c_str(), &raw));
      std::unique_ptr<sqlite3, int (*)(sqlite3*)> db(raw, sqlite3_close);
      CPPUNIT_ASSERT_EQUAL(
          SQLITE_OK,
          sqlite3_exec(db.get(),
                       "CREATE TABLE frontier(id INTEGER PRIMARY KEY AUTOINCREMENT, session_key TEXT NOT NULL, "
                       "url TEXT NOT NULL, kind TEXT NOT NULL, depth INTEGER NOT NULL, source_url TEXT NOT NULL "
                       "DEFAULT '', state TEXT NOT NULL DEFAULT 'queued', reason TEXT NOT NULL DEFAULT '', detail "
                       "TEXT NOT NULL DEFAULT '', UNIQUE(session_key, url));"
                       "INSERT INTO frontier(session_key, url, kind, depth) VALUES('r', 'http://a/', 'page', 0);"
                       "PRAGMA user_version = 1;",
                       nullptr, nullptr, nullptr));
    }
    {
      Frontier f(path);
      auto items = f.load_queued("r", 0, 10);
      CPPUNIT_ASSERT_EQUAL(size_t{1}, items.size());
      CPPUNIT_ASSERT_EQUAL(uint32_t{0}, items[0].attempts);
      FetchRecord rec;
      rec.http_status = 503;
      f.record_fetch(items[0].id, rec);
    }
    CPPUNIT_ASSERT_EQUAL(std::string("2"), test::sqlite_scalar(path, "PRAGMA user_version"));
    CPPUNIT_ASSERT_EQUAL(std::string("503"), test::sqlite_scalar(path, "SELECT http_status FROM frontier"));
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(FrontierTest);

}  // namespace kestrel::crawler
