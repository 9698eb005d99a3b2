// The catalog contract tests (catalog_contract_test.h), run by each backend.
#include "catalog_contract_test.h"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <catalog_schema/migrations.h>

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstring>

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

  // Text is UTF-8 in both dialects (PostgreSQL would refuse it, and so would
  // a PostgreSQL standby of an SQLite primary, for ever): refused by the checks.
  Batch latin1;
  latin1.upsert({"http://127.0.0.1/a.png", "http://127.0.0.1/caf\xE9.html"});
  assert_contains(expect_error(KESTREL_ERR_INVALID, [&] { catalog_.write(0, latin1.ops(), latin1.size()); }).what(),
                  "source_url is not valid UTF-8 (an ill-formed sequence at byte 20)");
  Batch bad_key;
  bad_key.upsert({"http://127.0.0.1/\xC0\xAF.png"});
  assert_contains(expect_error(KESTREL_ERR_INVALID, [&] { catalog_.write(0, bad_key.ops(), bad_key.size()); }).what(),
                  "url is not valid UTF-8");

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
  CPPUNIT_ASSERT_EQUAL(catalog_schema::latest_version(), status->getValue<int>("schema_version"));
  CPPUNIT_ASSERT(status->getValue<uint64_t>("commit_position") >= position);
  CPPUNIT_ASSERT_EQUAL(0, status->getValue<int>("epoch"));
  Poco::JSON::Object::Ptr rows = status->getObject("rows");
  CPPUNIT_ASSERT_EQUAL(1, rows->getValue<int>("images"));
  CPPUNIT_ASSERT_EQUAL(1, rows->getValue<int>("crawl_sessions"));
  CPPUNIT_ASSERT_EQUAL(0, rows->getValue<int>("categories"));
  CPPUNIT_ASSERT_EQUAL(0, rows->getValue<int>("failover_events"));
  store_->stop();
  status = Poco::JSON::Parser().parse(store_->status_json()).extract<Poco::JSON::Object::Ptr>();
  CPPUNIT_ASSERT_EQUAL(std::string("stopped"), status->getValue<std::string>("state"));
}

void CatalogContractTest::testMigrationsAreIdempotent() {
  // A second store on the same catalog finds it migrated and changes nothing.
  ComponentHarness second(backend_->descriptor(), backend_->options(), backend_->data_dir());
  second.start();
  const std::string latest = std::to_string(catalog_schema::latest_version());
  CPPUNIT_ASSERT_EQUAL(latest, backend_->query("SELECT COUNT(*) FROM schema_migrations").at(0).at(0));
  CPPUNIT_ASSERT_EQUAL(latest, backend_->query("SELECT MAX(version) FROM schema_migrations").at(0).at(0));
  CPPUNIT_ASSERT_EQUAL(std::string("0"), backend_->query("SELECT epoch FROM cluster_state WHERE id = 1").at(0).at(0));
  // A schema newer than this build is refused, naming both versions.
  backend_->query("INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, 'from_the_future', 0)");
  ComponentHarness third(backend_->descriptor(), backend_->options(), backend_->data_dir());
  assert_contains(expect_error(KESTREL_ERR_INVALID, [&] { third.start(); }).what(), "schema version 99");
}

namespace {

// A failover event `key` starting at `started_at_us`, otherwise the defaults.
FailoverSpec event(const std::string& key, int64_t started_at_us) {
  FailoverSpec f;
  f.event_key = key;
  f.started_at_us = started_at_us;
  f.finished_at_us = started_at_us + 1500000;
  return f;
}

std::vector<std::string> keys(const std::vector<FailoverRow>& rows) {
  std::vector<std::string> out;
  for (const FailoverRow& r : rows) out.push_back(r.event_key);
  return out;
}

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const std::string& x : v) s += (s.empty() ? "" : ",") + x;
  return s;
}

}  // namespace

void CatalogContractTest::testFailoverHistoryRoundTrip() {
  const int64_t t0 = 1760000000000000;
  FailoverSpec full;  // every field set, none at its default
  full.event_key = "ev-full";
  full.kind = "switchover";
  full.from_node = "kestrel-1";
  full.to_node = "kestrel-2";
  full.reason = "operator: kestrel ha switchover --to kestrel-2";
  full.automatic = 0;
  full.succeeded = 1;
  full.epoch_before = 6;
  full.epoch_after = 7;
  full.started_at_us = t0 + 30000000;
  full.finished_at_us = t0 + 30000000 + 2345678;
  full.lost_bytes = 8192;
  full.write_pause_ms = 1840;
  full.detail = "standby caught up in 1.2 s; writes held 1840 ms";
  FailoverSpec sparse = event("ev-old", t0);  // NULL from_node, reason and detail
  sparse.from_node = "";
  sparse.reason = "";
  sparse.succeeded = 0;
  sparse.epoch_after = sparse.epoch_before;  // a failed attempt keeps the epoch
  sparse.lost_bytes = -1;
  Batch b;
  b.failover(sparse).failover(full).failover(event("ev-middle", t0 + 10000000));
  b.upsert({"http://127.0.0.1/a.png"});  // other ops share the batch
  catalog_.write(3, b.ops(), b.size());
  Batch tie;  // the same started_at as ev-full, written later: newer by id
  tie.failover(event("ev-tie", full.started_at_us));
  catalog_.write(3, tie.ops(), tie.size());

  const std::vector<FailoverRow> rows = read_failovers(catalog_);
  CPPUNIT_ASSERT_EQUAL(std::string("ev-tie,ev-full,ev-middle,ev-old"), joined(keys(rows)));
  for (const FailoverRow& r : rows) CPPUNIT_ASSERT(r.id > 0);
  CPPUNIT_ASSERT(rows[0].id > rows[1].id);
  const FailoverRow& f = rows[1];
  CPPUNIT_ASSERT_EQUAL(std::string("switchover"), f.kind);
  CPPUNIT_ASSERT(f.from_node == std::optional<std::string>("kestrel-1"));
  CPPUNIT_ASSERT_EQUAL(std::string("kestrel-2"), f.to_node);
  CPPUNIT_ASSERT(f.reason == std::optional<std::string>(full.reason));
  CPPUNIT_ASSERT_EQUAL(0, f.automatic);
  CPPUNIT_ASSERT_EQUAL(1, f.succeeded);
  CPPUNIT_ASSERT_EQUAL(uint64_t{6}, f.epoch_before);
  CPPUNIT_ASSERT_EQUAL(uint64_t{7}, f.epoch_after);
  CPPUNIT_ASSERT_EQUAL(full.started_at_us, f.started_at_us);
  CPPUNIT_ASSERT_EQUAL(full.finished_at_us, f.finished_at_us);
  CPPUNIT_ASSERT_EQUAL(int64_t{8192}, f.lost_bytes);
  CPPUNIT_ASSERT_EQUAL(int64_t{1840}, f.write_pause_ms);
  CPPUNIT_ASSERT(f.detail == std::optional<std::string>(full.detail));
  const FailoverRow& old = rows[3];
  CPPUNIT_ASSERT_EQUAL(std::string("failover"), old.kind);
  CPPUNIT_ASSERT(old.from_node == std::nullopt);
  CPPUNIT_ASSERT(old.reason == std::nullopt);
  CPPUNIT_ASSERT(old.detail == std::nullopt);
  CPPUNIT_ASSERT_EQUAL(1, old.automatic);
  CPPUNIT_ASSERT_EQUAL(0, old.succeeded);
  CPPUNIT_ASSERT_EQUAL(uint64_t{2}, old.epoch_after);
  CPPUNIT_ASSERT_EQUAL(int64_t{-1}, old.lost_bytes);
  CPPUNIT_ASSERT_EQUAL(int64_t{-1}, old.write_pause_ms);
  // duration_ms is derived: (finished - started) in whole milliseconds.
  const auto duration = backend_->query("SELECT duration_ms FROM failover_events WHERE event_key = 'ev-full'");
  CPPUNIT_ASSERT_EQUAL(std::string("2345"), duration.at(0).at(0));

  CPPUNIT_ASSERT_EQUAL(std::string("ev-tie,ev-full"), joined(keys(read_failovers(catalog_, 2))));
  CPPUNIT_ASSERT_EQUAL(size_t{4}, read_failovers(catalog_, 0).size());
  CPPUNIT_ASSERT_EQUAL(size_t{4}, read_failovers(catalog_, 100).size());
  int seen = 0;
  catalog_.read_failover_events(0, 0, [&seen](int64_t, const kestrel_failover_record&) { return ++seen < 2; });
  CPPUNIT_ASSERT_EQUAL(2, seen);
  CPPUNIT_ASSERT_EQUAL(uint64_t{1}, catalog_.count_images(0, all_images()));  // the connection is usable
}

void CatalogContractTest::testFailoverUpsertByEventKey() {
  // First recorded as a failed attempt, then the same event recorded again as done.
  FailoverSpec attempt = event("ev-1", 1760000000000000);
  attempt.succeeded = 0;
  attempt.epoch_after = attempt.epoch_before;
  attempt.detail = "promotion timed out";
  Batch first;
  first.failover(attempt);
  catalog_.write(0, first.ops(), first.size());
  const int64_t id = read_failovers(catalog_).at(0).id;
  const std::string created =
      backend_->query("SELECT created_at FROM failover_events WHERE event_key = 'ev-1'").at(0).at(0);

  FailoverSpec done = attempt;
  done.succeeded = 1;
  done.epoch_after = attempt.epoch_before + 1;
  done.finished_at_us = attempt.started_at_us + 4000000;
  done.lost_bytes = 512;
  done.detail = "";
  Batch second;
  second.failover(done);
  catalog_.write(0, second.ops(), second.size());
  catalog_.write(0, second.ops(), second.size());  // a retried write changes nothing
  std::vector<FailoverRow> rows = read_failovers(catalog_);
  CPPUNIT_ASSERT_EQUAL(size_t{1}, rows.size());
  CPPUNIT_ASSERT_EQUAL(id, rows[0].id);
  CPPUNIT_ASSERT_EQUAL(1, rows[0].succeeded);
  CPPUNIT_ASSERT_EQUAL(uint64_t{3}, rows[0].epoch_after);
  CPPUNIT_ASSERT_EQUAL(done.finished_at_us, rows[0].finished_at_us);
  CPPUNIT_ASSERT_EQUAL(int64_t{512}, rows[0].lost_bytes);
  CPPUNIT_ASSERT(rows[0].detail == std::nullopt);
  const auto db = backend_->query("SELECT duration_ms, created_at FROM failover_events WHERE event_key = 'ev-1'");
  CPPUNIT_ASSERT_EQUAL(std::string("4000"), db.at(0).at(0));
  CPPUNIT_ASSERT_EQUAL(created, db.at(0).at(1));  // created_at is kept

  // The same key twice in one batch: the later record wins, one row.
  Batch twice;
  FailoverSpec a = event("ev-2", 1760000100000000), b = a;
  a.reason = "first";
  b.reason = "second";
  twice.failover(a).failover(event("ev-3", 1760000200000000)).failover(b);
  catalog_.write(0, twice.ops(), twice.size());
  rows = read_failovers(catalog_);
  CPPUNIT_ASSERT_EQUAL(std::string("ev-3,ev-2,ev-1"), joined(keys(rows)));
  CPPUNIT_ASSERT(rows[1].reason == std::optional<std::string>("second"));
  CPPUNIT_ASSERT_EQUAL(std::string("3"), backend_->query("SELECT COUNT(*) FROM failover_events").at(0).at(0));
}

void CatalogContractTest::testInvalidFailoverRollsBackBatch() {
  struct Case {
    const char* expect;  // part of the message: the field and why
    void (*spoil)(FailoverSpec&);
  };
  const Case cases[] = {
      {"event_key is missing", [](FailoverSpec& f) { f.event_key = ""; }},
      {"to_node is missing", [](FailoverSpec& f) { f.to_node = ""; }},
      {"kind is missing", [](FailoverSpec& f) { f.kind = ""; }},
      {"kind 'promotion' is not one of failover, switchover", [](FailoverSpec& f) { f.kind = "promotion"; }},
      {"automatic 2 is not 0 or 1", [](FailoverSpec& f) { f.automatic = 2; }},
      {"succeeded -1 is not 0 or 1", [](FailoverSpec& f) { f.succeeded = -1; }},
      {"epoch_after 1 is below epoch_before 2", [](FailoverSpec& f) { f.epoch_after = 1; }},
      {"epoch_after 2 equals epoch_before", [](FailoverSpec& f) { f.epoch_after = 2; }},
      {"epoch_before 9223372036854775808 is above",
       [](FailoverSpec& f) { f.epoch_before = f.epoch_after = uint64_t{1} << 63; }},
      {"started_at_us 1760000000 is before 2001-09-09",
       [](FailoverSpec& f) { f.started_at_us = 1760000000, f.finished_at_us = 1760000002; }},
      {"finished_at_us 1759999999000000 is before started_at_us",
       [](FailoverSpec& f) { f.finished_at_us = 1759999999000000; }},
      {"lost_bytes -2 is below -1", [](FailoverSpec& f) { f.lost_bytes = -2; }},
      {"write_pause_ms -5 is below -1", [](FailoverSpec& f) { f.write_pause_ms = -5; }},
  };
  for (const Case& c : cases) {
    FailoverSpec bad = event("ev-bad", 1760000000000000);
    c.spoil(bad);
    Batch b;
    b.upsert({"http://127.0.0.1/a.png"}).failover(event("ev-good", 1760000000000000)).failover(bad);
    const Error e = expect_error(KESTREL_ERR_INVALID, [&] { catalog_.write(0, b.ops(), b.size()); });
    assert_contains(e.what(), "op #2 (record failover");
    assert_contains(e.what(), c.expect);
  }
  {
    Batch b;
    b.failover(event("ev-good", 1760000000000000)).null_failover();
    assert_contains(expect_error(KESTREL_ERR_INVALID, [&] { catalog_.write(0, b.ops(), b.size()); }).what(),
                    "op #1 (record failover): failover record is NULL");
  }
  {
    Batch b;  // a record from a sender that knew every field but detail
    b.failover(event("ev-short", 1760000000000000), offsetof(kestrel_failover_record, detail));
    assert_contains(expect_error(KESTREL_ERR_INVALID, [&] { catalog_.write(0, b.ops(), b.size()); }).what(),
                    "failover record struct_size " + std::to_string(offsetof(kestrel_failover_record, detail)) +
                        " is below");
  }
  CPPUNIT_ASSERT_EQUAL(uint64_t{0}, catalog_.count_images(0, all_images()));
  CPPUNIT_ASSERT(read_failovers(catalog_).empty());

  // Checks pass, the database refuses a later op (a foreign key): the
  // failover row written before it in the transaction is rolled back too.
  Batch fk;
  fk.failover(event("ev-good", 1760000000000000));
  fk.upsert({"http://127.0.0.1/b.png", "", "png", "", 1, 1, 1, /*crawl_session_id=*/4242});
  assert_contains(expect_error(KESTREL_ERR_INVALID, [&] { catalog_.write(0, fk.ops(), fk.size()); }).what(), "op #1");
  CPPUNIT_ASSERT(read_failovers(catalog_).empty());
  CPPUNIT_ASSERT_EQUAL(std::string("0"), backend_->query("SELECT COUNT(*) FROM failover_events").at(0).at(0));
}

void CatalogContractTest::testFailoverOpWithoutFailoverField() {
  // A sender built before ABI 1.3: its kestrel_catalog_op ends before
  // `failover`. What lies past its struct_size must not be read as a record.
  Batch valid;
  valid.failover(event("ev-not-sent", 1760000000000000));
  kestrel_catalog_op old = valid.ops()[0];  // failover points at a valid record...
  old.struct_size = offsetof(kestrel_catalog_op, failover);  // ...that the sender never sent
  const Error e = expect_error(KESTREL_ERR_INVALID, [&] { catalog_.write(0, &old, 1); });
  assert_contains(e.what(), "op #0 (record failover)");
  CPPUNIT_ASSERT(read_failovers(catalog_).empty());
  // Its other ops still work.
  Batch images;
  images.upsert({"http://127.0.0.1/a.png"});
  kestrel_catalog_op image = images.ops()[0];
  image.struct_size = offsetof(kestrel_catalog_op, failover);
  catalog_.write(0, &image, 1);
  CPPUNIT_ASSERT_EQUAL(uint64_t{1}, catalog_.count_images(0, all_images()));
}

void CatalogContractTest::testClusterState() {
  uint64_t epoch = 99;
  std::string primary = "stale";
  catalog_.cluster_state(&epoch, &primary);
  CPPUNIT_ASSERT_EQUAL(uint64_t{0}, epoch);
  CPPUNIT_ASSERT_EQUAL(std::string(""), primary);  // NULL primary_node

  Batch b;
  b.failover(event("ev-1", 1760000000000000));
  catalog_.write(3, b.ops(), b.size());
  catalog_.cluster_state(&epoch, &primary);
  CPPUNIT_ASSERT_EQUAL(uint64_t{3}, epoch);
  CPPUNIT_ASSERT_EQUAL(std::string(""), primary);

  // A RECORD_FAILOVER from an older epoch is fenced like any write.
  Batch late;
  late.failover(event("ev-from-old-primary", 1760000100000000));
  assert_contains(expect_error(KESTREL_ERR_FENCED, [&] { catalog_.write(2, late.ops(), late.size()); }).what(),
                  "seen epoch 3");
  CPPUNIT_ASSERT_EQUAL(std::string("ev-1"), joined(keys(read_failovers(catalog_))));

  // primary_node is written by whoever promotes (replicator-pg); the store reports it.
  backend_->query("UPDATE cluster_state SET primary_node = 'kestrel-2' WHERE id = 1");
  catalog_.cluster_state(&epoch, &primary);
  CPPUNIT_ASSERT_EQUAL(uint64_t{3}, epoch);
  CPPUNIT_ASSERT_EQUAL(std::string("kestrel-2"), primary);

  // Through the C table: a small buffer gets a NUL-terminated prefix.
  const kestrel_interface ref = store_->interface(KESTREL_IFACE_CATALOG_V1);
  const auto* vt = static_cast<const kestrel_catalog_v1*>(ref.vtable);
  CPPUNIT_ASSERT(KESTREL_HAS(vt, kestrel_catalog_v1, cluster_state) && vt->cluster_state != nullptr);
  char small[5];
  std::memset(small, 'x', sizeof small);
  kestrel_status st = make_status();
  epoch = 0;
  CPPUNIT_ASSERT_EQUAL(KESTREL_OK, vt->cluster_state(ref.instance, &epoch, small, 4, &st));
  CPPUNIT_ASSERT_EQUAL(std::string("kes"), std::string(small));
  CPPUNIT_ASSERT_EQUAL('x', small[4]);  // nothing written past capacity
  CPPUNIT_ASSERT_EQUAL(uint64_t{3}, epoch);
  char one[1] = {'x'};
  CPPUNIT_ASSERT_EQUAL(KESTREL_OK, vt->cluster_state(ref.instance, &epoch, one, 1, &st));
  CPPUNIT_ASSERT_EQUAL('\0', one[0]);

  store_->stop();
  expect_error(KESTREL_ERR_UNAVAILABLE, [&] { catalog_.cluster_state(&epoch, &primary); });
  expect_error(KESTREL_ERR_UNAVAILABLE, [&] { read_failovers(catalog_); });
}

void CatalogContractTest::testMigrationFromVersion1() {
  // A catalog as a build with only migration 1 left it, holding data.
  Batch b;
  b.upsert({"http://127.0.0.1/a.png"}).session({"crawl-1"});
  catalog_.write(4, b.ops(), b.size());
  store_->stop();
  backend_->query("DROP TABLE failover_events");
  // Migration 3's objects too (SQLite's capture triggers sit on the tables of migration 1).
  if (std::string(backend_->name()) == "sqlite")
    for (const auto& row : backend_->query("SELECT name FROM sqlite_master WHERE type = 'trigger'"))
      backend_->query("DROP TRIGGER " + row.at(0));
  for (const char* t : {"change_log", "replica_positions", "replication_state", "conflicts"})
    backend_->query(std::string("DROP TABLE ") + t);
  backend_->query("DELETE FROM schema_migrations WHERE version > 1");
  CPPUNIT_ASSERT_EQUAL(std::string("1"), backend_->query("SELECT MAX(version) FROM schema_migrations").at(0).at(0));

  ComponentHarness upgraded(backend_->descriptor(), backend_->options(), backend_->data_dir());
  upgraded.start();
  const std::string latest = std::to_string(catalog_schema::latest_version());
  bool logged = false;
  for (const std::string& line : upgraded.log_lines())
    logged = logged || line.find("schema migrated from version 1 to " + latest) != std::string::npos;
  CPPUNIT_ASSERT_MESSAGE("no 'schema migrated from version 1' log line", logged);
  const auto applied = backend_->query("SELECT version, name FROM schema_migrations WHERE version = 2");
  CPPUNIT_ASSERT_EQUAL(std::string("failover_events"), applied.at(0).at(1));
  CatalogClient catalog(upgraded.interface(KESTREL_IFACE_CATALOG_V1));
  CPPUNIT_ASSERT_EQUAL(uint64_t{1}, catalog.count_images(0, all_images()));  // data kept
  uint64_t epoch = 0;
  std::string primary;
  catalog.cluster_state(&epoch, &primary);
  CPPUNIT_ASSERT_EQUAL(uint64_t{4}, epoch);  // the fence kept
  CPPUNIT_ASSERT(read_failovers(catalog).empty());
  Batch f;
  f.failover(event("ev-after-upgrade", 1760000000000000));
  catalog.write(4, f.ops(), f.size());
  CPPUNIT_ASSERT_EQUAL(std::string("ev-after-upgrade"), joined(keys(read_failovers(catalog))));
  // The table's CHECKs came with it: the database itself refuses what the
  // batch checks would.
  const std::string insert =
      "INSERT INTO failover_events (event_key, kind, to_node, automatic, succeeded, epoch_before, epoch_after,"
      " started_at, finished_at, duration_ms, lost_bytes, write_pause_ms, created_at) VALUES ";
  CPPUNIT_ASSERT_THROW(backend_->query(insert + "('x1', 'promotion', 'n', 0, 0, 1, 1, 5, 5, 0, -1, -1, 5)"),
                       std::runtime_error);
  CPPUNIT_ASSERT_THROW(backend_->query(insert + "('x2', 'failover', 'n', 0, 0, 2, 1, 5, 5, 0, -1, -1, 5)"),
                       std::runtime_error);
  CPPUNIT_ASSERT_THROW(backend_->query(insert + "('x3', 'failover', 'n', 0, 0, 1, 1, 5, 4, 0, -1, -1, 5)"),
                       std::runtime_error);
  CPPUNIT_ASSERT_THROW(  // event_key is UNIQUE
      backend_->query(insert + "('ev-after-upgrade', 'failover', 'n', 0, 0, 1, 1, 5, 5, 0, -1, -1, 5)"),
      std::runtime_error);
  backend_->query(insert + "('x4', 'failover', 'n', 0, 0, 1, 1, 5, 5, 0, -1, -1, 5)");
}

}  // namespace store_test
}  // namespace kestrel
