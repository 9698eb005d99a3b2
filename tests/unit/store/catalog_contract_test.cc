// The catalog contract tests (catalog_contract_test.h), run by each backend.
#include "catalog_contract_test.h"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <algorithm>
#include <cctype>

#include "catalog_test_rows.h"
#include "expect_error.h"

namespace kestrel {
namespace store_test {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

}  // namespace

void CatalogContractTest::setUp() {
  backend_ = make_backend();
  store_ = std::make_unique<ComponentHarness>(backend_->descriptor(), backend_->options(), backend_->data_dir());
  store_->start();
  catalog_ = CatalogClient(store_->interface(KESTREL_IFACE_CATALOG_V1));
}

void CatalogContractTest::tearDown() {
  store_.reset();
  backend_.reset();
}

void CatalogContractTest::expect_next_position(uint64_t previous, uint64_t position) const {
  if (backend_->counts_batches())
    CPPUNIT_ASSERT_EQUAL(previous + 1, position);
  else
    CPPUNIT_ASSERT_MESSAGE(std::to_string(position) + " is not after " + std::to_string(previous), position > previous);
}

void CatalogContractTest::testUpsertIsIdempotent() {
  Batch b;
  b.session({"session-1"});
  b.upsert({"http://127.0.0.1/a.png", "http://127.0.0.1/", "png", "", 10, 10, 1, 0, 1700000000000001});
  b.upsert({"http://127.0.0.1/b.jpg", "http://127.0.0.1/", "jpeg", "", 20, 20, 2, 0, 1700000000000002});
  b.upsert({"http://127.0.0.1/c.gif", "http://127.0.0.1/", "gif", "", 30, 30, 3, 0, 1700000000000003});
  const uint64_t first = catalog_.write(0, b.ops(), b.size());
  const std::vector<Row> before = read_rows(catalog_, all_images());
  const uint64_t second = catalog_.write(0, b.ops(), b.size());
  const std::vector<Row> after = read_rows(catalog_, all_images());
  expect_next_position(0, first);
  expect_next_position(first, second);  // every committed batch advances the position
  CPPUNIT_ASSERT_EQUAL(size_t{3}, after.size());
  for (size_t i = 0; i < after.size(); ++i) {
    CPPUNIT_ASSERT_EQUAL(before[i].id, after[i].id);
    CPPUNIT_ASSERT_EQUAL(before[i].url, after[i].url);
    CPPUNIT_ASSERT_EQUAL(before[i].created_at_us, after[i].created_at_us);
    CPPUNIT_ASSERT_EQUAL(before[i].updated_at_us, after[i].updated_at_us);
    CPPUNIT_ASSERT_EQUAL(before[i].sha256, after[i].sha256);
  }
  CPPUNIT_ASSERT_EQUAL(int64_t{1700000000000001}, after[0].created_at_us);
  CPPUNIT_ASSERT_EQUAL(std::string("jpeg"), after[1].format);
  CPPUNIT_ASSERT_EQUAL(uint32_t{20}, after[1].width);
  CPPUNIT_ASSERT_EQUAL(sha256_hex("http://127.0.0.1/c.gif"), after[2].sha256);
}

void CatalogContractTest::testUpdateKeepsCreatedAtAndFirstSource() {
  Batch first;
  first.upsert({"http://127.0.0.1/a.png", "http://127.0.0.1/first.html", "png", "", 10, 10, 1, 0, 1000});
  catalog_.write(0, first.ops(), first.size());
  Batch second;
  second.upsert({"http://127.0.0.1/a.png", "http://127.0.0.1/second.html", "webp", "", 99, 10, 1, 0, 5000});
  catalog_.write(0, second.ops(), second.size());
  const std::vector<Row> rows = read_rows(catalog_, all_images());
  CPPUNIT_ASSERT_EQUAL(size_t{1}, rows.size());
  CPPUNIT_ASSERT_EQUAL(int64_t{1000}, rows[0].created_at_us);
  CPPUNIT_ASSERT_EQUAL(int64_t{5000}, rows[0].updated_at_us);
  CPPUNIT_ASSERT_EQUAL(std::string("webp"), rows[0].format);
  CPPUNIT_ASSERT_EQUAL(uint32_t{99}, rows[0].width);
  CPPUNIT_ASSERT_EQUAL(std::string("http://127.0.0.1/first.html"), rows[0].source_url);
}

void CatalogContractTest::testOlderReplayChangesNothing() {
  Batch newer;
  newer.upsert({"http://127.0.0.1/a.png", "", "webp", "", 99, 10, 1, 0, 5000});
  Batch older;
  older.upsert({"http://127.0.0.1/a.png", "", "png", "", 10, 10, 1, 0, 4000});
  catalog_.write(0, newer.ops(), newer.size());
  catalog_.write(0, older.ops(), older.size());  // a late retry of an earlier write
  const std::vector<Row> rows = read_rows(catalog_, all_images());
  CPPUNIT_ASSERT_EQUAL(std::string("webp"), rows.at(0).format);
  CPPUNIT_ASSERT_EQUAL(int64_t{5000}, rows.at(0).updated_at_us);
}

void CatalogContractTest::testBadRecordCommitsNothing() {
  Batch b;
  b.upsert({"http://127.0.0.1/a.png"});
  b.upsert({"http://127.0.0.1/b.bmp", "", "bmp"});
  b.upsert({"http://127.0.0.1/c.png"});
  const Error e = expect_error(KESTREL_ERR_INVALID, [&] { catalog_.write(0, b.ops(), b.size()); });
  assert_contains(e.what(), "op #1");
  assert_contains(e.what(), "http://127.0.0.1/b.bmp");
  assert_contains(e.what(), "format 'bmp'");
  CPPUNIT_ASSERT_EQUAL(uint64_t{0}, catalog_.count_images(0, all_images()));

  Batch no_url;
  no_url.upsert({"http://127.0.0.1/a.png"});
  no_url.upsert({""});
  assert_contains(expect_error(KESTREL_ERR_INVALID, [&] { catalog_.write(0, no_url.ops(), no_url.size()); }).what(),
                  "url is missing");

  Batch bad_hash;
  bad_hash.upsert({"http://127.0.0.1/a.png", "", "png", "NOT-HEX"});
  assert_contains(expect_error(KESTREL_ERR_INVALID, [&] { catalog_.write(0, bad_hash.ops(), bad_hash.size()); }).what(),
                  "sha256 'NOT-HEX'");

  Batch bad_json;
  SessionSpec s{"session-x"};
  s.seeds_json = "[\"unterminated";
  bad_json.session(s);
  assert_contains(expect_error(KESTREL_ERR_INVALID, [&] { catalog_.write(0, bad_json.ops(), bad_json.size()); }).what(),
                  "seeds_json is not valid JSON");

  CPPUNIT_ASSERT_EQUAL(uint64_t{0}, catalog_.count_images(0, all_images()));
  Batch ok;
  ok.upsert({"http://127.0.0.1/a.png"});
  const uint64_t position = catalog_.write(0, ok.ops(), ok.size());
  if (backend_->counts_batches()) CPPUNIT_ASSERT_EQUAL(uint64_t{1}, position);  // no failed batch took a position
}

void CatalogContractTest::testConstraintFailureRollsBackBatch() {
  // Passes the checks but breaks a foreign key inside the transaction.
  Batch b;
  b.upsert({"http://127.0.0.1/a.png"});
  b.upsert({"http://127.0.0.1/b.png", "", "png", "", 1, 1, 1, /*crawl_session_id=*/4242});
  const Error e = expect_error(KESTREL_ERR_INVALID, [&] { catalog_.write(0, b.ops(), b.size()); });
  assert_contains(e.what(), "op #1 (upsert image http://127.0.0.1/b.png)");
  assert_contains(lower(e.what()), "foreign key");
  CPPUNIT_ASSERT_EQUAL(uint64_t{0}, catalog_.count_images(0, all_images()));
  Batch ok;
  ok.upsert({"http://127.0.0.1/a.png"});
  CPPUNIT_ASSERT(catalog_.write(0, ok.ops(), ok.size()) > 0);  // the writer is usable again
  CPPUNIT_ASSERT_EQUAL(uint64_t{1}, catalog_.count_images(0, all_images()));
}

void CatalogContractTest::testFencing() {
  Batch b;
  b.upsert({"http://127.0.0.1/a.png"});
  catalog_.write(5, b.ops(), b.size());
  Batch late;
  late.upsert({"http://127.0.0.1/from-old-primary.png"});
  const Error e = expect_error(KESTREL_ERR_FENCED, [&] { catalog_.write(3, late.ops(), late.size()); });
  assert_contains(e.what(), "epoch 3 refused");
  assert_contains(e.what(), "seen epoch 5");
  CPPUNIT_ASSERT(!e.retryable());
  CPPUNIT_ASSERT_EQUAL(uint64_t{1}, catalog_.count_images(0, all_images()));
  catalog_.write(5, b.ops(), b.size());                                             // the same epoch still writes
  catalog_.write(7, b.ops(), b.size());                                             // a higher one is recorded...
  expect_error(KESTREL_ERR_FENCED, [&] { catalog_.write(5, b.ops(), b.size()); });  // ...and fences 5
  Poco::JSON::Object::Ptr status = Poco::JSON::Parser().parse(store_->status_json()).extract<Poco::JSON::Object::Ptr>();
  CPPUNIT_ASSERT_EQUAL(7, status->getValue<int>("epoch"));
  if (backend_->counts_batches()) CPPUNIT_ASSERT_EQUAL(3, status->getValue<int>("commit_position"));
  CPPUNIT_ASSERT(status->getValue<uint64_t>("commit_position") > 0);
  // The epoch is durable: a restarted store still refuses epoch 5.
  store_->stop();
  store_->start();
  expect_error(KESTREL_ERR_FENCED, [&] { catalog_.write(6, b.ops(), b.size()); });
}

void CatalogContractTest::testFiltersAndPaging() {
  Batch sessions;
  sessions.session({"s1"}).session({"s2"});
  catalog_.write(0, sessions.ops(), sessions.size());
  const int64_t s1 = catalog_.session_id(0, "s1");
  const int64_t s2 = catalog_.session_id(0, "s2");
  const char* formats[] = {"png", "jpeg", "gif", "webp"};
  Batch b;
  for (int i = 0; i < 20; ++i) {
    ImageSpec spec{"http://127.0.0.1/img" + std::to_string(i), "", formats[i % 4]};
    spec.width = static_cast<uint32_t>(i * 10);
    spec.crawl_session_id = i < 12 ? s1 : s2;
    spec.sha256 = sha256_hex(i < 2 ? "same-bytes" : spec.url);
    b.upsert(spec);
  }
  catalog_.write(0, b.ops(), b.size());

  kestrel_image_query q = all_images();
  q.format = "gif";
  std::vector<Row> rows = read_rows(catalog_, q);
  CPPUNIT_ASSERT_EQUAL(size_t{5}, rows.size());
  for (const Row& r : rows) CPPUNIT_ASSERT_EQUAL(std::string("gif"), r.format);
  CPPUNIT_ASSERT_EQUAL(uint64_t{5}, catalog_.count_images(0, q));

  q = all_images();
  q.url = "http://127.0.0.1/img7";
  rows = read_rows(catalog_, q);
  CPPUNIT_ASSERT_EQUAL(size_t{1}, rows.size());
  CPPUNIT_ASSERT_EQUAL(uint32_t{70}, rows[0].width);

  q = all_images();
  q.sha256 = b.ops()[0].image->sha256;
  CPPUNIT_ASSERT_EQUAL(uint64_t{2}, catalog_.count_images(0, q));

  q = all_images();
  q.crawl_session_id = s2;
  CPPUNIT_ASSERT_EQUAL(uint64_t{8}, catalog_.count_images(0, q));
  q.min_width = 150;
  rows = read_rows(catalog_, q);
  CPPUNIT_ASSERT_EQUAL(size_t{5}, rows.size());  // img15..img19
  for (const Row& r : rows) CPPUNIT_ASSERT(r.width >= 150 && r.crawl_session_id == s2);

  // Keyset paging: pages of 6 cover every row once, in id order; count ignores paging.
  q = all_images();
  q.limit = 6;
  std::vector<Row> all;
  for (;;) {
    const std::vector<Row> page = read_rows(catalog_, q);
    CPPUNIT_ASSERT(page.size() <= 6);
    if (page.empty()) break;
    all.insert(all.end(), page.begin(), page.end());
    q.after_id = page.back().id;
  }
  CPPUNIT_ASSERT_EQUAL(size_t{20}, all.size());
  for (size_t i = 1; i < all.size(); ++i) CPPUNIT_ASSERT(all[i - 1].id < all[i].id);
  CPPUNIT_ASSERT_EQUAL(std::string("http://127.0.0.1/img19"), all.back().url);
  q.after_id = all[10].id;
  CPPUNIT_ASSERT_EQUAL(uint64_t{20}, catalog_.count_images(0, q));
}

void CatalogContractTest::testCallbackStopsEarly() {
  Batch b;
  for (int i = 0; i < 10; ++i) b.upsert({"http://127.0.0.1/i" + std::to_string(i)});
  catalog_.write(0, b.ops(), b.size());
  int seen = 0;
  catalog_.read_images(0, all_images(), [&seen](const kestrel_image_row&) { return ++seen < 3; });
  CPPUNIT_ASSERT_EQUAL(3, seen);
  // The reader connection went back to the pool in a usable state.
  for (int i = 0; i < 4; ++i) CPPUNIT_ASSERT_EQUAL(uint64_t{10}, catalog_.count_images(0, all_images()));
}

void CatalogContractTest::testDelete() {
  Batch b;
  b.upsert({"http://127.0.0.1/a.png"}).upsert({"http://127.0.0.1/b.png"});
  catalog_.write(0, b.ops(), b.size());
  Batch d;
  d.remove("http://127.0.0.1/a.png").remove("http://127.0.0.1/never-stored.png");
  catalog_.write(0, d.ops(), d.size());
  const std::vector<Row> rows = read_rows(catalog_, all_images());
  CPPUNIT_ASSERT_EQUAL(size_t{1}, rows.size());
  CPPUNIT_ASSERT_EQUAL(std::string("http://127.0.0.1/b.png"), rows[0].url);
  catalog_.write(0, d.ops(), d.size());  // deleting again is a no-op
  CPPUNIT_ASSERT_EQUAL(uint64_t{1}, catalog_.count_images(0, all_images()));
}

void CatalogContractTest::testWriteFromReadCallback() {
  // A reader may write while it streams (e.g. pruning rows it has read):
  // WAL lets the writer commit while the reader's snapshot stays put.
  Batch b;
  for (int i = 0; i < 5; ++i) b.upsert({"http://127.0.0.1/p" + std::to_string(i) + ".png"});
  catalog_.write(0, b.ops(), b.size());
  int streamed = 0;
  catalog_.read_images(0, all_images(), [&](const kestrel_image_row& row) {
    ++streamed;
    Batch d;
    d.remove(row.record->url);
    catalog_.write(0, d.ops(), d.size());
    return true;
  });
  CPPUNIT_ASSERT_EQUAL(5, streamed);
  CPPUNIT_ASSERT_EQUAL(uint64_t{0}, catalog_.count_images(0, all_images()));
}

void CatalogContractTest::testSessions() {
  Batch b;
  b.session({"crawl-a"});
  catalog_.write(0, b.ops(), b.size());
  const int64_t id = catalog_.session_id(0, "crawl-a");
  CPPUNIT_ASSERT(id > 0);
  Batch update;
  update.session({"crawl-a", KESTREL_SESSION_FINISHED, 42});
  catalog_.write(0, update.ops(), update.size());
  CPPUNIT_ASSERT_EQUAL(id, catalog_.session_id(0, "crawl-a"));
  const auto rows = backend_->query("SELECT state, pages FROM crawl_sessions WHERE id = " + std::to_string(id));
  CPPUNIT_ASSERT_EQUAL(std::string("finished"), rows.at(0).at(0));
  CPPUNIT_ASSERT_EQUAL(std::string("42"), rows.at(0).at(1));
  const Error e = expect_error(KESTREL_ERR_NOT_FOUND, [&] { catalog_.session_id(0, "no-such-crawl"); });
  assert_contains(e.what(), "no-such-crawl");
  Batch bad;
  bad.session({"crawl-b", 9});
  assert_contains(expect_error(KESTREL_ERR_INVALID, [&] { catalog_.write(0, bad.ops(), bad.size()); }).what(),
                  "state 9");
}

void CatalogContractTest::testCallsAfterStopAreUnavailable() {
  store_->stop();
  Batch b;
  b.upsert({"http://127.0.0.1/a.png"});
  CPPUNIT_ASSERT(expect_error(KESTREL_ERR_UNAVAILABLE, [&] { catalog_.write(0, b.ops(), b.size()); }).retryable());
  expect_error(KESTREL_ERR_UNAVAILABLE, [&] { catalog_.count_images(0, all_images()); });
  expect_error(KESTREL_ERR_UNAVAILABLE, [&] { store_->health(); });
}

void CatalogContractTest::testDuplicateUrlInOneBatch() {
  // The same url twice in one batch: the later record wins, as if written one by one.
  Batch b;
  b.upsert({"http://127.0.0.1/d.png", "http://127.0.0.1/one.html", "png", "", 10, 10, 1, 0, 1000});
  b.upsert({"http://127.0.0.1/e.png"});
  b.upsert({"http://127.0.0.1/d.png", "http://127.0.0.1/two.html", "gif", "", 20, 10, 1, 0, 2000});
  catalog_.write(0, b.ops(), b.size());
  const std::vector<Row> rows = read_rows(catalog_, all_images());
  CPPUNIT_ASSERT_EQUAL(size_t{2}, rows.size());
  CPPUNIT_ASSERT_EQUAL(std::string("gif"), rows[0].format);
  CPPUNIT_ASSERT_EQUAL(int64_t{1000}, rows[0].created_at_us);
  CPPUNIT_ASSERT_EQUAL(std::string("http://127.0.0.1/one.html"), rows[0].source_url);
}

void CatalogContractTest::testStatusAndHealth() {
  store_->health();
  Batch b;
  b.upsert({"http://127.0.0.1/a.png"}).session({"s"});
  const uint64_t position = catalog_.write(0, b.ops(), b.size());
  Poco::JSON::Object::Ptr status = Poco::JSON::Parser().parse(store_->status_json()).extract<Poco::JSON::Object::Ptr>();
  CPPUNIT_ASSERT_EQUAL(std::string("running"), status->getValue<std::string>("state"));
  CPPUNIT_ASSERT_EQUAL(1, status->getValue<int>("schema_version"));
  CPPUNIT_ASSERT(status->getValue<uint64_t>("commit_position") >= position);
  CPPUNIT_ASSERT_EQUAL(0, status->getValue<int>("epoch"));
  Poco::JSON::Object::Ptr rows = status->getObject("rows");
  CPPUNIT_ASSERT_EQUAL(1, rows->getValue<int>("images"));
  CPPUNIT_ASSERT_EQUAL(1, rows->getValue<int>("crawl_sessions"));
  CPPUNIT_ASSERT_EQUAL(0, rows->getValue<int>("categories"));
  store_->stop();
  status = Poco::JSON::Parser().parse(store_->status_json()).extract<Poco::JSON::Object::Ptr>();
  CPPUNIT_ASSERT_EQUAL(std::string("stopped"), status->getValue<std::string>("state"));
}

void CatalogContractTest::testMigrationsAreIdempotent() {
  // A second store on the same catalog finds it migrated and changes nothing.
  ComponentHarness second(backend_->descriptor(), backend_->options(), backend_->data_dir());
  second.start();
  CPPUNIT_ASSERT_EQUAL(std::string("1"), backend_->query("SELECT COUNT(*) FROM schema_migrations").at(0).at(0));
  CPPUNIT_ASSERT_EQUAL(std::string("1"), backend_->query("SELECT MAX(version) FROM schema_migrations").at(0).at(0));
  CPPUNIT_ASSERT_EQUAL(std::string("0"), backend_->query("SELECT epoch FROM cluster_state WHERE id = 1").at(0).at(0));
  // A schema newer than this build is refused, naming both versions.
  backend_->query("INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, 'from_the_future', 0)");
  ComponentHarness third(backend_->descriptor(), backend_->options(), backend_->data_dir());
  assert_contains(expect_error(KESTREL_ERR_INVALID, [&] { third.start(); }).what(), "schema version 99");
}

}  // namespace store_test
}  // namespace kestrel
