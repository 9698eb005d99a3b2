// store-postgres through its C catalog table on a real PostgreSQL 15
// (PgCluster): the shared catalog contract (catalog_contract_test.h), plus
// what only PostgreSQL has: connection loss mid-batch, a COMMIT whose wait
// for a synchronous standby is cancelled or cut, a read-only (fenced) server,
// wrong connection info, options.
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <cppunit/extensions/HelperMacros.h>
#include <libpq-fe.h>

#include <chrono>
#include <future>
#include <memory>
#include <thread>

#include "catalog_backend.h"
#include "catalog_contract_test.h"
#include "catalog_test_rows.h"
#include "component_harness.h"
#include "expect_error.h"
#include "kestrel/test/ports.h"
#include "kestrel/test/temp_dir.h"
#include "pg_cluster_instance.h"
#include "store_postgres_component.h"

namespace kestrel {
namespace store_test {
namespace {

using Clock = std::chrono::steady_clock;

// A libpq session the test keeps open (e.g. to hold a row lock).
class RawSession {
 public:
  explicit RawSession(const std::string& conninfo) : conn_(PQconnectdb(conninfo.c_str())) {
    if (PQstatus(conn_) != CONNECTION_OK) throw std::runtime_error(PQerrorMessage(conn_));
  }
  ~RawSession() { PQfinish(conn_); }
  RawSession(const RawSession&) = delete;
  RawSession& operator=(const RawSession&) = delete;
  void exec(const std::string& sql) {
    PGresult* r = PQexec(conn_, sql.c_str());
    const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
    const std::string err = PQresultErrorMessage(r);
    PQclear(r);
    if (!ok) throw std::runtime_error(sql + ": " + err);
  }

 private:
  PGconn* conn_;
};

// Polls `sql` (as the superuser, on database postgres) until it returns a row,
// and returns its first column; fails the test after 30 s (a hang guard).
std::string wait_for_row(const std::string& sql) {
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  while (Clock::now() < deadline) {
    auto rows = shared_pg_cluster().query(sql, "postgres", "postgres");
    if (!rows.empty()) return rows[0][0];
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CPPUNIT_FAIL("no row within 30 s from: " + sql);
  return "";
}

// Sets synchronous_standby_names to a standby that never connects for the
// scope, so every COMMIT waits for it; restores the setting at scope end.
class WaitForAbsentStandby {
 public:
  WaitForAbsentStandby() { set("'kestrel_absent_standby'", "kestrel_absent_standby"); }
  ~WaitForAbsentStandby() {
    try {
      set("''", "");
    } catch (...) {
      // The next test's setUp fails loudly if the cluster is left waiting.
    }
  }

 private:
  static void set(const std::string& value, const std::string& expect) {
    shared_pg_cluster().query("ALTER SYSTEM SET synchronous_standby_names = " + value, "postgres", "postgres");
    shared_pg_cluster().query("SELECT pg_reload_conf()", "postgres", "postgres");
    // New connections see the reloaded value once the postmaster has read it.
    wait_for_row("SELECT 1 WHERE current_setting('synchronous_standby_names') = '" + expect + "'");
  }
};

}  // namespace

// The catalog contract on a fresh database of the shared cluster per test.
class PostgresCatalogContractTest : public CatalogContractTest {
  CPPUNIT_TEST_SUB_SUITE(PostgresCatalogContractTest, CatalogContractTest);
  CPPUNIT_TEST_SUITE_END();

 protected:
  std::unique_ptr<CatalogBackend> make_backend() override { return make_postgres_backend(); }
};

CPPUNIT_TEST_SUITE_REGISTRATION(PostgresCatalogContractTest);

class StorePostgresTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(StorePostgresTest);
  CPPUNIT_TEST(testConnectionLossMidBatchIsRetryable);
  CPPUNIT_TEST(testCancelledSyncWaitIsUnknownOutcome);
  CPPUNIT_TEST(testTerminatedSyncWaitIsUnknownOutcome);
  CPPUNIT_TEST(testReadOnlyServerIsFenced);
  CPPUNIT_TEST(testStandbyReadsButRefusesWrites);
  CPPUNIT_TEST(testWrongConninfo);
  CPPUNIT_TEST(testBadOptions);
  CPPUNIT_TEST(testPositionsAreWalLsns);
  CPPUNIT_TEST(testConcurrentWritersShareThePool);
  CPPUNIT_TEST_SUITE_END();

 public:
  void setUp() override { backend_ = make_postgres_backend(); }
  void tearDown() override { backend_.reset(); }

  // A batch whose connection is killed after its first statement ran and
  // while its second waits for a row lock: retryable, nothing half-applied,
  // and the retry (on a new pooled connection) lands once.
  void testConnectionLossMidBatchIsRetryable() {
    ComponentHarness store(backend_->descriptor(), backend_->options(), backend_->data_dir());
    store.start();
    CatalogClient catalog(store.interface(KESTREL_IFACE_CATALOG_V1));
    Batch first;
    first.upsert({"http://127.0.0.1/locked.png"});
    catalog.write(0, first.ops(), first.size());

    const std::string db = backend_->options().at("conninfo");
    RawSession locker(db);
    locker.exec("BEGIN");
    locker.exec("UPDATE images SET width = 1 WHERE url = 'http://127.0.0.1/locked.png'");
    Batch b;
    b.session({"mid-batch-session"});
    b.upsert({"http://127.0.0.1/new.png"}).upsert({"http://127.0.0.1/locked.png"});
    auto result = std::async(std::launch::async, [&] {
      try {
        catalog.write(0, b.ops(), b.size());
        return Error(KESTREL_OK, "committed");
      } catch (const Error& e) {
        return e;
      }
    });
    const std::string pid = wait_for_row(
        "SELECT pid FROM pg_stat_activity WHERE application_name = 'kestrel-store-postgres'"
        " AND wait_event_type = 'Lock'");
    shared_pg_cluster().query("SELECT pg_terminate_backend(" + pid + ")", "postgres", "postgres");
    CPPUNIT_ASSERT(result.wait_for(std::chrono::seconds(30)) == std::future_status::ready);
    const Error e = result.get();
    CPPUNIT_ASSERT_EQUAL_MESSAGE(e.what(), std::string(result_name(KESTREL_ERR_UNAVAILABLE)),
                                 std::string(result_name(e.code())));
    CPPUNIT_ASSERT(e.retryable());
    assert_contains(e.what(), "connection lost");
    locker.exec("ROLLBACK");
    CPPUNIT_ASSERT_EQUAL(std::string("0"),
                         backend_->query("SELECT COUNT(*) FROM crawl_sessions").at(0).at(0));  // nothing half-applied
    CPPUNIT_ASSERT_EQUAL(uint64_t{1}, catalog.count_images(0, all_images()));
    catalog.write(0, b.ops(), b.size());  // the retry
    CPPUNIT_ASSERT_EQUAL(uint64_t{2}, catalog.count_images(0, all_images()));
    CPPUNIT_ASSERT_EQUAL(std::string("1"), backend_->query("SELECT COUNT(*) FROM crawl_sessions").at(0).at(0));
  }

  void testCancelledSyncWaitIsUnknownOutcome() { sync_wait_cut("pg_cancel_backend"); }
  void testTerminatedSyncWaitIsUnknownOutcome() { sync_wait_cut("pg_terminate_backend"); }

  // default_transaction_read_only on the database (what a fenced or demoted
  // primary looks like to a new session): FENCED, naming the server.
  void testReadOnlyServerIsFenced() {
    const std::string db = backend_->query("SELECT current_database()").at(0).at(0);
    {
      ComponentHarness migrate(backend_->descriptor(), backend_->options(), backend_->data_dir());
      migrate.start();
    }
    shared_pg_cluster().query("ALTER DATABASE " + db + " SET default_transaction_read_only = on", "postgres",
                              "postgres");
    ComponentHarness store(backend_->descriptor(), backend_->options(), backend_->data_dir());
    store.start();
    CatalogClient catalog(store.interface(KESTREL_IFACE_CATALOG_V1));
    Batch b;
    b.upsert({"http://127.0.0.1/a.png"});
    const Error e = expect_error(KESTREL_ERR_FENCED, [&] { catalog.write(0, b.ops(), b.size()); });
    assert_contains(e.what(), "127.0.0.1:" + std::to_string(shared_pg_cluster().port()));
    assert_contains(e.what(), "refuses writes");
    assert_contains(e.what(), "25006");
    CPPUNIT_ASSERT_EQUAL(uint64_t{0}, catalog.count_images(0, all_images()));  // reads still work
  }

  // A hot standby (pg_basebackup -R of the shared cluster): the store starts
  // without writing (the schema is current), reads the replicated rows, and
  // refuses writes as UNAVAILABLE (retryable: write to the primary), naming it.
  void testStandbyReadsButRefusesWrites() {
    const std::string db = backend_->query("SELECT current_database()").at(0).at(0);
    {
      ComponentHarness primary(backend_->descriptor(), backend_->options(), backend_->data_dir());
      primary.start();
      CatalogClient catalog(primary.interface(KESTREL_IFACE_CATALOG_V1));
      Batch b;
      b.upsert({"http://127.0.0.1/replicated.png"});
      catalog.write(0, b.ops(), b.size());
    }
    test::PgCluster standby(test::PgCluster::Options{"storestandby", false, {}});
    CPPUNIT_ASSERT_EQUAL(
        0, standby.run_as_postgres({test::PgCluster::bindir() + "/pg_basebackup", "-h", "127.0.0.1", "-p",
                                    std::to_string(shared_pg_cluster().port()), "-U", "postgres", "-D",
                                    standby.data_dir(), "-R", "-X", "stream", "--checkpoint=fast", "--no-sync"}));
    standby.start();
    ComponentHarness store(backend_->descriptor(), {{"conninfo", standby.conninfo("kestrel", db)}},
                           backend_->data_dir());
    store.start();
    CatalogClient catalog(store.interface(KESTREL_IFACE_CATALOG_V1));
    CPPUNIT_ASSERT_EQUAL(uint64_t{1}, catalog.count_images(0, all_images()));
    Batch b;
    b.upsert({"http://127.0.0.1/on-standby.png"});
    const Error e = expect_error(KESTREL_ERR_UNAVAILABLE, [&] { catalog.write(0, b.ops(), b.size()); });
    CPPUNIT_ASSERT(e.retryable());
    assert_contains(e.what(), "is a standby");
    assert_contains(e.what(), "127.0.0.1:" + std::to_string(standby.port()));
    Poco::JSON::Object::Ptr status = Poco::JSON::Parser().parse(store.status_json()).extract<Poco::JSON::Object::Ptr>();
    CPPUNIT_ASSERT(status->getValue<bool>("in_recovery"));
  }

  // A node of an HA catalog may be down when kestreld starts: the store
  // starts anyway, each call fails UNAVAILABLE (retryable) naming the server
  // and libpq's reason, and once the server answers the first write creates
  // the schema and lands. A wrong password is told the same way, unechoed.
  void testWrongConninfo() {
    test::PgCluster later(test::PgCluster::Options{"storelater", true, {}});
    later.stop();
    ComponentHarness down(backend_->descriptor(), {{"conninfo", later.conninfo("kestrel", "kestrel")}},
                          backend_->data_dir());
    down.start();
    CatalogClient catalog(down.interface(KESTREL_IFACE_CATALOG_V1));
    Batch b;
    b.upsert({"http://127.0.0.1/after-start.png"});
    const Error e = expect_error(KESTREL_ERR_UNAVAILABLE, [&] { catalog.write(0, b.ops(), b.size()); });
    assert_contains(e.what(), "127.0.0.1:" + std::to_string(later.port()));
    assert_contains(e.what(), "cannot connect");
    CPPUNIT_ASSERT(e.retryable());
    later.start();
    catalog.write(0, b.ops(), b.size());
    CPPUNIT_ASSERT_EQUAL(uint64_t{1}, catalog.count_images(0, all_images()));
    CPPUNIT_ASSERT_EQUAL(std::string("1"), later.query("SELECT COUNT(*) FROM images", "kestrel").at(0).at(0));

    const std::string good = backend_->options().at("conninfo");
    ComponentHarness bad_password(backend_->descriptor(), {{"conninfo", good + " password=wrong"}},
                                  backend_->data_dir());
    bad_password.start();
    CatalogClient refused(bad_password.interface(KESTREL_IFACE_CATALOG_V1));
    const Error auth = expect_error(KESTREL_ERR_UNAVAILABLE, [&] { refused.write(0, b.ops(), b.size()); });
    assert_contains(auth.what(), "password authentication failed");
    CPPUNIT_ASSERT(std::string(auth.what()).find("wrong") == std::string::npos);  // the secret is not echoed
  }

  void testBadOptions() {
    const auto create = [this](const OptionText& options) {
      ComponentHarness h(store_postgres::component_descriptor(), options, backend_->data_dir());
    };
    assert_contains(expect_error(KESTREL_ERR_INVALID,
                                 [&] {
                                   create({{"conninfo", "host=x port"}});
                                 })
                        .what(),
                    "option conninfo");
    assert_contains(expect_error(KESTREL_ERR_INVALID,
                                 [&] {
                                   create({{"conninfo", "postgresql://[::1"}});
                                 })
                        .what(),
                    "option conninfo");
    const std::string good = backend_->options().at("conninfo");
    assert_contains(expect_error(KESTREL_ERR_INVALID,
                                 [&] {
                                   create({{"conninfo", good}, {"pool_size", "0"}});
                                 })
                        .what(),
                    "pool_size: 0");
    assert_contains(expect_error(KESTREL_ERR_INVALID,
                                 [&] {
                                   create({{"conninfo", good}, {"connect_timeout", "10ms"}});
                                 })
                        .what(),
                    "connect_timeout");
    create({{"conninfo", good}, {"pool_size", "2"}, {"idle_timeout", "1s"}});  // valid ones pass
  }

  // The position is the WAL insert LSN after COMMIT: a standby that replayed
  // up to it has the batch. Here: it is at or before the server's current LSN.
  void testPositionsAreWalLsns() {
    ComponentHarness store(backend_->descriptor(), backend_->options(), backend_->data_dir());
    store.start();
    CatalogClient catalog(store.interface(KESTREL_IFACE_CATALOG_V1));
    Batch b;
    b.upsert({"http://127.0.0.1/a.png"});
    const uint64_t p1 = catalog.write(0, b.ops(), b.size());
    const uint64_t p2 = catalog.write(0, b.ops(), b.size());
    CPPUNIT_ASSERT(p2 > p1);
    const std::string diff =
        backend_->query("SELECT pg_current_wal_insert_lsn() - '0/0'::pg_lsn").at(0).at(0);  // numeric
    CPPUNIT_ASSERT(std::stoull(diff) >= p2);
  }

  // More writer threads than pooled connections: calls wait for a free one,
  // every batch commits once, and each thread's positions increase (calls
  // that overlap in time may share one: each is an upper bound of its commit).
  void testConcurrentWritersShareThePool() {
    OptionText options = backend_->options();
    options["pool_size"] = "2";
    ComponentHarness store(backend_->descriptor(), options, backend_->data_dir());
    store.start();
    CatalogClient catalog(store.interface(KESTREL_IFACE_CATALOG_V1));
    const int threads = 4, batches = 10;
    std::vector<std::future<std::vector<uint64_t>>> workers;
    for (int t = 0; t < threads; ++t)
      workers.push_back(std::async(std::launch::async, [&catalog, t] {
        std::vector<uint64_t> positions;
        for (int i = 0; i < batches; ++i) {
          Batch b;
          for (int j = 0; j < 8; ++j)
            b.upsert({"http://127.0.0.1/t" + std::to_string(t) + "/" + std::to_string(i) + "/" + std::to_string(j)});
          positions.push_back(catalog.write(0, b.ops(), b.size()));
        }
        return positions;
      }));
    std::vector<uint64_t> all;
    for (auto& w : workers) {
      CPPUNIT_ASSERT(w.wait_for(std::chrono::seconds(60)) == std::future_status::ready);
      const std::vector<uint64_t> p = w.get();
      for (size_t i = 1; i < p.size(); ++i) CPPUNIT_ASSERT(p[i] > p[i - 1]);
      all.insert(all.end(), p.begin(), p.end());
    }
    CPPUNIT_ASSERT_EQUAL(uint64_t{threads * batches * 8}, catalog.count_images(0, all_images()));
    CPPUNIT_ASSERT_EQUAL(size_t{threads * batches}, all.size());
    Poco::JSON::Object::Ptr status = Poco::JSON::Parser().parse(store.status_json()).extract<Poco::JSON::Object::Ptr>();
    CPPUNIT_ASSERT(status->getValue<int>("open_connections") <= 2);
  }

 private:
  // Writes in a thread while every COMMIT waits for an absent synchronous
  // standby, cuts the wait with `function` (pg_cancel_backend: the server
  // warns and returns; pg_terminate_backend: the connection drops), and
  // checks UNKNOWN_OUTCOME (retryable) and that the row IS committed.
  void sync_wait_cut(const std::string& function) {
    {
      // Migrate first: the migrations' own COMMITs would wait too.
      ComponentHarness migrate(backend_->descriptor(), backend_->options(), backend_->data_dir());
      migrate.start();
    }
    WaitForAbsentStandby sync;
    // Started after the reload, so every pooled connection sees the setting.
    ComponentHarness store(backend_->descriptor(), backend_->options(), backend_->data_dir());
    store.start();
    CatalogClient catalog(store.interface(KESTREL_IFACE_CATALOG_V1));
    Batch b;
    b.upsert({"http://127.0.0.1/unknown-outcome.png"});
    auto result = std::async(std::launch::async, [&] {
      try {
        catalog.write(0, b.ops(), b.size());
        return Error(KESTREL_OK, "committed");
      } catch (const Error& e) {
        return e;
      }
    });
    const std::string pid = wait_for_row(
        "SELECT pid FROM pg_stat_activity WHERE application_name = 'kestrel-store-postgres'"
        " AND wait_event = 'SyncRep'");
    shared_pg_cluster().query("SELECT " + function + "(" + pid + ")", "postgres", "postgres");
    CPPUNIT_ASSERT(result.wait_for(std::chrono::seconds(30)) == std::future_status::ready);
    const Error e = result.get();
    CPPUNIT_ASSERT_EQUAL_MESSAGE(e.what(), std::string(result_name(KESTREL_ERR_UNKNOWN_OUTCOME)),
                                 std::string(result_name(e.code())));
    CPPUNIT_ASSERT(e.retryable());
    CPPUNIT_ASSERT_EQUAL(std::string("1"), backend_
                                               ->query("SELECT COUNT(*) FROM images WHERE url ="
                                                       " 'http://127.0.0.1/unknown-outcome.png'")
                                               .at(0)
                                               .at(0));  // committed locally
  }

  std::unique_ptr<CatalogBackend> backend_;
};

CPPUNIT_TEST_SUITE_REGISTRATION(StorePostgresTest);

}  // namespace store_test
}  // namespace kestrel
