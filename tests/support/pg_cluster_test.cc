// Tests of PgCluster against a real PostgreSQL 15: initdb, start, query as
// both roles, stop/restart, an empty data dir for pg_basebackup, cleanup.
#include "kestrel/test/pg_cluster.h"

#include <cppunit/extensions/HelperMacros.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <stdexcept>
#include <string>

using kestrel::test::PgCluster;

class PgClusterTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(PgClusterTest);
  CPPUNIT_TEST(lifecycle);
  CPPUNIT_TEST(uninitialized_and_standby);
  CPPUNIT_TEST_SUITE_END();

 public:
  // One cluster through its whole life: configured settings, roles, errors
  // with SQLSTATE, stop/restart keeping data, destructor removing everything.
  void lifecycle() {
    std::string data;
    int port = 0;
    {
      PgCluster::Options o;
      o.name = "pgself";
      o.settings["work_mem"] = "'8MB'";
      PgCluster pg(o);
      data = pg.data_dir();
      port = pg.port();
      CPPUNIT_ASSERT(pg.running());
      CPPUNIT_ASSERT_EQUAL(std::string("127.0.0.1"), pg.host());
      CPPUNIT_ASSERT_EQUAL("host=127.0.0.1 port=" + std::to_string(port) +
                               " user=kestrel password=kestrel dbname=kestrel connect_timeout=5",
                           pg.conninfo());
      auto v = pg.query("SHOW server_version_num");
      CPPUNIT_ASSERT(std::stoi(v.at(0).at(0)) >= 150000);
      CPPUNIT_ASSERT_EQUAL(std::string("on"), pg.query("SHOW data_checksums").at(0).at(0));
      CPPUNIT_ASSERT_EQUAL(std::string("replica"), pg.query("SHOW wal_level").at(0).at(0));
      CPPUNIT_ASSERT_EQUAL(std::string("8MB"), pg.query("SHOW work_mem").at(0).at(0));
      // The application role owns its database and can create tables there.
      pg.query("CREATE TABLE t (id int primary key, s text)", "kestrel");
      pg.query("INSERT INTO t VALUES (1, 'a'), (2, NULL)", "kestrel");
      auto rows = pg.query("SELECT id, s FROM t ORDER BY id", "kestrel");
      CPPUNIT_ASSERT_EQUAL(std::size_t(2), rows.size());
      CPPUNIT_ASSERT_EQUAL(std::string("a"), rows[0][1]);
      CPPUNIT_ASSERT_EQUAL(std::string(""), rows[1][1]);
      // The error names the SQLSTATE (23505 unique_violation).
      try {
        pg.query("INSERT INTO t VALUES (1, 'dup')", "kestrel");
        CPPUNIT_FAIL("duplicate key accepted");
      } catch (const std::runtime_error& e) {
        CPPUNIT_ASSERT(std::string(e.what()).find("23505") != std::string::npos);
      }
      // A wrong password is refused (scram-sha-256, never trust).
      CPPUNIT_ASSERT_THROW(pg.query("SELECT 1", "nobody"), std::runtime_error);
      pg.stop();
      CPPUNIT_ASSERT(!pg.running());
      CPPUNIT_ASSERT_THROW(pg.query("SELECT 1"), std::runtime_error);
      pg.start();
      CPPUNIT_ASSERT(pg.running());
      CPPUNIT_ASSERT_EQUAL(std::string("2"), pg.query("SELECT count(*) FROM t", "kestrel").at(0).at(0));
      CPPUNIT_ASSERT_EQUAL(0, pg.run_as_postgres({PgCluster::bindir() + "/pg_controldata", pg.data_dir()}));
      CPPUNIT_ASSERT(pg.run_as_postgres({"false"}) != 0);
    }
    // The destructor stopped the server (immediate) and removed the folder.
    struct stat st;
    const char* keep = std::getenv("KESTREL_KEEP_TEMP");
    if (!(keep && std::string(keep) == "1")) CPPUNIT_ASSERT(::stat(data.c_str(), &st) != 0);
    (void)port;
  }

  // initialize=false gives an empty, owned data dir that pg_basebackup -R
  // fills; the standby starts on its own port and replays the primary's rows.
  void uninitialized_and_standby() {
    PgCluster primary(PgCluster::Options{"pgprim", true, {}});
    PgCluster standby(PgCluster::Options{"pgstby", false, {}});
    CPPUNIT_ASSERT(!standby.running());
    CPPUNIT_ASSERT(primary.port() != standby.port());
    primary.query("CREATE TABLE r (id int)", "kestrel");
    primary.query("INSERT INTO r VALUES (7)", "kestrel");
    int rc = standby.run_as_postgres({PgCluster::bindir() + "/pg_basebackup", "-h", "127.0.0.1", "-p",
                                      std::to_string(primary.port()), "-U", "postgres", "-D", standby.data_dir(), "-R",
                                      "-X", "stream", "--checkpoint=fast", "--no-sync"});
    CPPUNIT_ASSERT_EQUAL(0, rc);
    standby.start();
    CPPUNIT_ASSERT(standby.running());
    CPPUNIT_ASSERT_EQUAL(std::string("t"), standby.query("SELECT pg_is_in_recovery()").at(0).at(0));
    CPPUNIT_ASSERT_EQUAL(std::string("7"), standby.query("SELECT id FROM r", "kestrel").at(0).at(0));
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(PgClusterTest);
