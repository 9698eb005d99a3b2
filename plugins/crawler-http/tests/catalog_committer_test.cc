// CatalogCommitter on a real store-sqlite catalog and a real blob-local store
// in a temp folder: rows written in submission order, batches queued behind a
// slow write taken as one group, the latest session row kept, a failed write
// reported to the crawl thread with nothing after it written.
#include <Poco/DigestEngine.h>
#include <Poco/SHA2Engine.h>
#include <cppunit/extensions/HelperMacros.h>
#include <sqlite3.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "blob_local_component.h"
#include "catalog_committer.h"
#include "component_harness.h"
#include "kestrel/test/temp_dir.h"
#include "store_sqlite_component.h"

namespace kestrel::crawler {

namespace {

using store_test::ComponentHarness;
using store_test::OptionText;

// One raw connection to the catalog file, for reading what was written and
// for holding SQLite's write lock the way another writer would.
class RawDb {
 public:
  explicit RawDb(const std::string& path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK)
      CPPUNIT_FAIL("cannot open " + path);
  }
  ~RawDb() { sqlite3_close(db_); }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;

  void exec(const char* sql) {
    char* message = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &message) != SQLITE_OK) {
      const std::string text = message ? message : "?";
      sqlite3_free(message);
      CPPUNIT_FAIL(std::string(sql) + ": " + text);
    }
  }

  int64_t number(const char* sql) {
    sqlite3_stmt* stmt = nullptr;
    CPPUNIT_ASSERT_EQUAL(SQLITE_OK, sqlite3_prepare_v2(db_, sql, -1, &stmt, nullptr));
    CPPUNIT_ASSERT_EQUAL(SQLITE_ROW, sqlite3_step(stmt));
    const int64_t value = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    return value;
  }

 private:
  sqlite3* db_ = nullptr;
};

}  // namespace

class CatalogCommitterTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(CatalogCommitterTest);
  CPPUNIT_TEST(writesRowsInOrder);
  CPPUNIT_TEST(batchesQueuedBehindASlowWriteAreOneGroup);
  CPPUNIT_TEST(aFailedWriteIsReportedAndStopsTheRest);
  CPPUNIT_TEST_SUITE_END();

 public:
  void setUp() override {
    dir_ = std::make_unique<test::TempDir>();
    store_ = std::make_unique<ComponentHarness>(store_sqlite::component_descriptor(),
                                                OptionText{{"path", "catalog.db"}, {"busy_timeout", "20s"}},
                                                dir_->path());
    store_->start();
    blobs_ = std::make_unique<ComponentHarness>(blob_local::component_descriptor(), OptionText{{"root", "images"}},
                                                dir_->path());
    blobs_->start();
    catalog_ = CatalogClient(store_->interface(KESTREL_IFACE_CATALOG_V1));
    files_ = BlobStoreClient(blobs_->interface(KESTREL_IFACE_BLOBSTORE_V1));
  }

  void tearDown() override {
    blobs_.reset();
    store_.reset();
    dir_.reset();
  }

  void writesRowsInOrder() {
    CatalogCommitter committer(catalog_, files_, [] {});
    committer.submit({row(1), row(2)}, session(2));
    committer.submit({row(3)}, session(3));
    committer.finish();
    CPPUNIT_ASSERT(ids({1, 2, 3}) == committer.take_written());
    CPPUNIT_ASSERT(committer.take_written().empty());  // taken once
    RawDb db(catalog_path());
    CPPUNIT_ASSERT_EQUAL(int64_t{3}, db.number("SELECT count(*) FROM images"));
    CPPUNIT_ASSERT_EQUAL(int64_t{3}, db.number("SELECT images FROM crawl_sessions"));
  }

  // While another connection holds SQLite's write lock, the first group waits
  // in the catalog write; four more batches queue behind it and must go out
  // together: 2 catalog writes at most, not 5, and the session row of the
  // last batch.
  void batchesQueuedBehindASlowWriteAreOneGroup() {
    RawDb blocker(catalog_path());
    blocker.exec("BEGIN IMMEDIATE");
    CatalogCommitter committer(catalog_, files_, [] {});
    for (int64_t i = 1; i <= 5; ++i) committer.submit({row(i)}, session(static_cast<uint64_t>(i)));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the writer is stuck behind the lock
    CPPUNIT_ASSERT(committer.take_written().empty());
    blocker.exec("ROLLBACK");
    committer.finish();
    CPPUNIT_ASSERT(ids({1, 2, 3, 4, 5}) == committer.take_written());
    const uint64_t groups = committer.groups_written();
    CPPUNIT_ASSERT_MESSAGE(std::to_string(groups) + " catalog writes", groups >= 1 && groups <= 2);
    RawDb db(catalog_path());
    CPPUNIT_ASSERT_EQUAL(int64_t{5}, db.number("SELECT count(*) FROM images"));
    CPPUNIT_ASSERT_EQUAL(int64_t{5}, db.number("SELECT images FROM crawl_sessions"));
  }

  // A row the catalog refuses (an empty URL) fails its group: take_written()
  // rethrows the catalog's error, and a batch submitted after it is not
  // written (its frontier entries stay queued for the next crawl).
  void aFailedWriteIsReportedAndStopsTheRest() {
    CatalogCommitter committer(catalog_, files_, [] {});
    ImageRow bad = row(1);
    bad.url.clear();
    committer.submit({bad}, std::nullopt);
    committer.finish();
    committer.submit({row(2)}, std::nullopt);  // after the failure: refused without waiting
    committer.finish();
    bool threw = false;
    try {
      committer.take_written();
    } catch (const Error& e) {
      threw = true;
      CPPUNIT_ASSERT_EQUAL(KESTREL_ERR_INVALID, e.code());
    }
    CPPUNIT_ASSERT(threw);
    RawDb db(catalog_path());
    CPPUNIT_ASSERT_EQUAL(int64_t{0}, db.number("SELECT count(*) FROM images"));
  }

 private:
  std::string catalog_path() const { return dir_->path() + "/catalog.db"; }

  static std::vector<int64_t> ids(std::initializer_list<int64_t> list) { return list; }

  // A row whose file is a real deferred upload of a few distinct bytes.
  ImageRow row(int64_t id) {
    const std::string bytes = "image " + std::to_string(id);
    BlobStoreClient::Upload upload = files_.begin();
    upload.append(bytes.data(), bytes.size());
    ImageRow r;
    r.frontier_id = id;
    r.url = "http://127.0.0.1/" + std::to_string(id) + ".png";
    r.source_url = "http://127.0.0.1/";
    r.filename = std::to_string(id) + ".png";
    r.sha256 = sha256_of(bytes);
    r.md5 = std::string(32, '0');
    r.file_path = upload.commit_deferred(r.sha256, "png");
    r.format = "png";
    r.mime_type = "image/png";
    r.file_size = bytes.size();
    r.width = r.height = 1;
    r.crawl_session_id = 1;
    r.fetched_at_us = 1;
    return r;
  }

  static SessionRow session(uint64_t images) {
    SessionRow s;
    s.session_key = "committer-test";
    s.node_name = "test";
    s.seeds_json = "[]";
    s.errors_json = "{}";
    s.started_at_us = 1;
    s.images = images;
    return s;
  }

  static std::string sha256_of(const std::string& bytes) {
    Poco::SHA2Engine engine(Poco::SHA2Engine::SHA_256);
    engine.update(bytes);
    return Poco::DigestEngine::digestToHex(engine.digest());
  }

  std::unique_ptr<test::TempDir> dir_;
  std::unique_ptr<ComponentHarness> store_, blobs_;
  CatalogClient catalog_;
  BlobStoreClient files_;
};

CPPUNIT_TEST_SUITE_REGISTRATION(CatalogCommitterTest);

}  // namespace kestrel::crawler
