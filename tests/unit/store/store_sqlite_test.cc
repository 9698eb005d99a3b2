// store-sqlite through its C catalog table: what only SQLite has (reader
// connections, options, busy handling, a refused disk write, batch-counting
// positions), plus the shared catalog contract (catalog_contract_test.h) on an
// SQLite file.
#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/Session.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <catalog_schema/migrations.h>
#include <cppunit/extensions/HelperMacros.h>
#include <sys/stat.h>

#include <algorithm>
#include <memory>

#include "catalog_contract_test.h"
#include "catalog_test_rows.h"
#include "component_harness.h"
#include "expect_error.h"
#include "file_size_limit.h"
#include "kestrel/test/temp_dir.h"
#include "store_sqlite_component.h"

using namespace Poco::Data::Keywords;

namespace kestrel {
namespace store_test {

using test::TempDir;  // tests/support

class StoreSqliteTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(StoreSqliteTest);
  CPPUNIT_TEST(testNoFreeReaderIsRetryable);
  CPPUNIT_TEST(testBadOptions);
  CPPUNIT_TEST(testStatusAndHealth);
  CPPUNIT_TEST(testLockedDatabaseIsRetryable);
  CPPUNIT_TEST(testRefusedDiskWriteLosesNothing);
  CPPUNIT_TEST(testChangeCaptureFollowsTheFilesRole);
  CPPUNIT_TEST_SUITE_END();

 public:
  void setUp() override {
    dir_ = std::make_unique<TempDir>();
    store_ = std::make_unique<ComponentHarness>(store_sqlite::component_descriptor(),
                                                OptionText{{"path", "catalog.db"}, {"readers", "2"}}, dir_->path());
    store_->start();
    catalog_ = CatalogClient(store_->interface(KESTREL_IFACE_CATALOG_V1));
  }

  void tearDown() override {
    store_.reset();
    dir_.reset();
  }

  void testNoFreeReaderIsRetryable() {
    ComponentHarness one_reader(store_sqlite::component_descriptor(),
                                OptionText{{"path", "catalog.db"}, {"readers", "1"}, {"busy_timeout", "50ms"}},
                                dir_->path());
    one_reader.start();
    const CatalogClient catalog(one_reader.interface(KESTREL_IFACE_CATALOG_V1));
    Batch b;
    b.upsert({"http://127.0.0.1/a.png"});
    catalog.write(0, b.ops(), b.size());
    // The only reader is busy streaming; a second read cannot get one.
    bool inner_failed = false;
    catalog.read_images(0, all_images(), [&](const kestrel_image_row&) {
      const Error e = expect_error(KESTREL_ERR_UNAVAILABLE, [&] { catalog.count_images(0, all_images()); });
      CPPUNIT_ASSERT(e.retryable());
      assert_contains(e.what(), "reader connections");
      inner_failed = true;
      return true;
    });
    CPPUNIT_ASSERT(inner_failed);
    CPPUNIT_ASSERT_EQUAL(uint64_t{1}, catalog.count_images(0, all_images()));  // free again
  }

  void testBadOptions() {
    TempDir dir;
    const auto create = [&dir](const OptionText& options) {
      ComponentHarness h(store_sqlite::component_descriptor(), options, dir.path());
    };
    assert_contains(expect_error(KESTREL_ERR_INVALID,
                                 [&] {
                                   create({{"synchronous", "sometimes"}});
                                 })
                        .what(),
                    "synchronous: 'sometimes' is not one of full, normal");
    assert_contains(expect_error(KESTREL_ERR_INVALID, [&] { create({{"readers", "0"}}); }).what(), "readers: 0");
    create({{"synchronous", "normal"}, {"busy_timeout", "250ms"}});  // valid ones pass
  }

  void testStatusAndHealth() {
    store_->health();
    Batch b;
    b.upsert({"http://127.0.0.1/a.png"}).session({"s"});
    catalog_.write(0, b.ops(), b.size());
    Poco::JSON::Object::Ptr status =
        Poco::JSON::Parser().parse(store_->status_json()).extract<Poco::JSON::Object::Ptr>();
    CPPUNIT_ASSERT_EQUAL(dir_->file("catalog.db"), status->getValue<std::string>("path"));
    CPPUNIT_ASSERT_EQUAL(catalog_schema::latest_version(), status->getValue<int>("schema_version"));
    CPPUNIT_ASSERT_EQUAL(1, status->getValue<int>("commit_position"));
    CPPUNIT_ASSERT_EQUAL(std::string("full"), status->getValue<std::string>("synchronous"));
    Poco::JSON::Object::Ptr rows = status->getObject("rows");
    CPPUNIT_ASSERT_EQUAL(1, rows->getValue<int>("images"));
    CPPUNIT_ASSERT_EQUAL(1, rows->getValue<int>("crawl_sessions"));
    CPPUNIT_ASSERT_EQUAL(0, rows->getValue<int>("categories"));
  }

  void testLockedDatabaseIsRetryable() {
    ComponentHarness impatient(store_sqlite::component_descriptor(),
                               OptionText{{"path", "catalog.db"}, {"busy_timeout", "50ms"}}, dir_->path());
    impatient.start();
    CatalogClient catalog(impatient.interface(KESTREL_IFACE_CATALOG_V1));
    auto raw = raw_session();
    *raw << "BEGIN IMMEDIATE", now;  // another process holds the write lock
    Batch b;
    b.upsert({"http://127.0.0.1/a.png"});
    const Error e = expect_error(KESTREL_ERR_UNAVAILABLE, [&] { catalog.write(0, b.ops(), b.size()); });
    CPPUNIT_ASSERT(e.retryable());
    assert_contains(e.what(), "locked");
    CPPUNIT_ASSERT_EQUAL(uint64_t{0}, catalog.count_images(0, all_images()));  // reads go on meanwhile
    *raw << "ROLLBACK", now;
    CPPUNIT_ASSERT_EQUAL(uint64_t{1}, catalog.write(0, b.ops(), b.size()));  // the retry succeeds
  }

  // Migration 3's triggers: a plain file captures nothing; a primary's
  // writes land in change_log in the same transaction (row image, batch,
  // epoch); a standby or fenced file refuses writers with a retryable FENCED
  // error and keeps nothing of the batch.
  void testChangeCaptureFollowsTheFilesRole() {
    auto raw = raw_session();
    auto count = [&](const std::string& sql) {
      Poco::Int64 n = -1;
      *raw << sql, into(n), now;
      return n;
    };
    Batch one;
    one.upsert({"http://127.0.0.1/plain.png"});
    catalog_.write(1, one.ops(), one.size());
    CPPUNIT_ASSERT_EQUAL(Poco::Int64{0}, count("SELECT COUNT(*) FROM change_log"));

    *raw << "UPDATE replication_state SET role = 'primary' WHERE id = 1", now;
    Batch two;
    two.upsert({"http://127.0.0.1/a.png"}).upsert({"http://127.0.0.1/plain.png"}).session({"crawl-1"});
    const uint64_t position = catalog_.write(3, two.ops(), two.size());
    CPPUNIT_ASSERT_EQUAL(Poco::Int64{3}, count("SELECT COUNT(*) FROM change_log"));
    CPPUNIT_ASSERT_EQUAL(Poco::Int64{3}, count("SELECT COUNT(*) FROM change_log WHERE commit_seq = " +
                                               std::to_string(position) + " AND epoch = 3"));
    std::string image;
    *raw << "SELECT row_image FROM change_log WHERE table_name = 'images' AND op = 'upsert' ORDER BY seq LIMIT 1",
        into(image), now;
    auto o = Poco::JSON::Parser().parse(image).extract<Poco::JSON::Object::Ptr>();
    CPPUNIT_ASSERT_EQUAL(std::string("http://127.0.0.1/a.png"), o->getValue<std::string>("url"));
    CPPUNIT_ASSERT(o->has("sha256") && o->has("id") && o->has("updated_at"));
    Batch gone;
    gone.remove("http://127.0.0.1/a.png");
    catalog_.write(3, gone.ops(), gone.size());
    CPPUNIT_ASSERT_EQUAL(Poco::Int64{1}, count("SELECT COUNT(*) FROM change_log WHERE op = 'delete' AND row_image IS NULL"));

    for (const char* role : {"standby", "fenced"}) {
      *raw << ("UPDATE replication_state SET role = '" + std::string(role) + "' WHERE id = 1"), now;
      Batch refused;
      refused.upsert({"http://127.0.0.1/refused.png"});
      const Error e = expect_error(KESTREL_ERR_FENCED, [&] { catalog_.write(3, refused.ops(), refused.size()); });
      CPPUNIT_ASSERT(e.retryable());
      assert_contains(e.what(), "read-only catalog");
      CPPUNIT_ASSERT_EQUAL(Poco::Int64{0}, count("SELECT COUNT(*) FROM images WHERE url = 'http://127.0.0.1/refused.png'"));
    }
    CPPUNIT_ASSERT_EQUAL(Poco::Int64{4}, count("SELECT COUNT(*) FROM change_log"));
  }

  void testRefusedDiskWriteLosesNothing() {
    Batch first;
    first.upsert({"http://127.0.0.1/first.png"});
    CPPUNIT_ASSERT_EQUAL(uint64_t{1}, catalog_.write(0, first.ops(), first.size()));
    Batch big;  // about 1 MiB of rows, far past the limit below
    for (int i = 0; i < 64; ++i)
      big.upsert({"http://127.0.0.1/big" + std::to_string(i) + ".png", "http://127.0.0.1/" + std::string(16384, 'p')});
    {
      FileSizeLimit limit(static_cast<rlim_t>(std::max(file_size("catalog.db"), file_size("catalog.db-wal")) + 8192));
      try {
        catalog_.write(0, big.ops(), big.size());
        CPPUNIT_FAIL("a write past RLIMIT_FSIZE succeeded");
      } catch (const Error& e) {
        // The WAL append fails inside COMMIT: reported as an I/O error or, when
        // SQLite cannot tell whether the commit record reached the disk, as an
        // unknown outcome to be retried. Both keep the batch out of the catalog.
        CPPUNIT_ASSERT_MESSAGE(e.what(), e.code() == KESTREL_ERR_IO || e.code() == KESTREL_ERR_UNKNOWN_OUTCOME);
        assert_contains(e.what(), "I/O error");
      }
    }
    CPPUNIT_ASSERT_EQUAL(uint64_t{1}, catalog_.count_images(0, all_images()));
    // The retry (the contract's answer to an unknown outcome) lands exactly once.
    CPPUNIT_ASSERT_EQUAL(uint64_t{2}, catalog_.write(0, big.ops(), big.size()));
    CPPUNIT_ASSERT_EQUAL(uint64_t{65}, catalog_.count_images(0, all_images()));
  }

 private:
  int64_t file_size(const std::string& name) const {
    struct stat st;
    return ::stat(dir_->file(name).c_str(), &st) == 0 ? static_cast<int64_t>(st.st_size) : 0;
  }

  std::unique_ptr<Poco::Data::Session> raw_session() {
    Poco::Data::SQLite::Connector::registerConnector();
    auto s = std::make_unique<Poco::Data::Session>("SQLite", dir_->file("catalog.db"));
    *s << "PRAGMA busy_timeout = 5000", now;
    return s;
  }

  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<ComponentHarness> store_;
  CatalogClient catalog_;
};

CPPUNIT_TEST_SUITE_REGISTRATION(StoreSqliteTest);

// The catalog contract on a fresh SQLite file per test.
class SqliteCatalogContractTest : public CatalogContractTest {
  CPPUNIT_TEST_SUB_SUITE(SqliteCatalogContractTest, CatalogContractTest);
  CPPUNIT_TEST_SUITE_END();

 protected:
  std::unique_ptr<CatalogBackend> make_backend() override { return make_sqlite_backend(); }
};

CPPUNIT_TEST_SUITE_REGISTRATION(SqliteCatalogContractTest);

}  // namespace store_test
}  // namespace kestrel
