// The PostgreSQL CatalogBackend (catalog_backend.h): one PgCluster per test
// process (starting one costs seconds), one new database per backend.
#include <atomic>
#include <mutex>

#include "catalog_backend.h"
#include "kestrel/test/pg_cluster.h"
#include "kestrel/test/temp_dir.h"
#include "pg_cluster_instance.h"
#include "store_postgres_component.h"

namespace kestrel {
namespace store_test {
namespace {

class PostgresBackend : public CatalogBackend {
 public:
  PostgresBackend() : cluster_(shared_pg_cluster()) {
    static std::atomic<int> counter{0};
    db_ = "catalog_" + std::to_string(++counter);
    cluster_.query("DROP DATABASE IF EXISTS " + db_ + " WITH (FORCE)", "postgres", "postgres");
    cluster_.query("CREATE DATABASE " + db_ + " OWNER kestrel", "postgres", "postgres");
  }
  ~PostgresBackend() override {
    try {
      cluster_.query("DROP DATABASE IF EXISTS " + db_ + " WITH (FORCE)", "postgres", "postgres");
    } catch (...) {
      // The cluster may have been stopped by the test; it is removed at exit anyway.
    }
  }
  const char* name() const override { return "postgres"; }
  const kestrel_component_desc& descriptor() const override { return store_postgres::component_descriptor(); }
  OptionText options() const override { return {{"conninfo", cluster_.conninfo("kestrel", db_)}}; }
  std::string data_dir() const override { return dir_.path(); }
  std::vector<std::vector<std::string>> query(const std::string& sql) const override {
    return cluster_.query(sql, "kestrel", db_);
  }
  bool counts_batches() const override { return false; }
  const std::string& database() const { return db_; }

 private:
  test::PgCluster& cluster_;
  test::TempDir dir_{"pgcatalog"};
  std::string db_;
};

}  // namespace

test::PgCluster& shared_pg_cluster() {
  static std::once_flag once;
  static std::unique_ptr<test::PgCluster> cluster;
  std::call_once(once, [] {
    test::PgCluster::Options o;
    o.name = "storepg";
    o.settings["fsync"] = "off";  // unit tests do not survive power loss; speed matters more
    cluster = std::make_unique<test::PgCluster>(o);
  });
  return *cluster;
}

std::unique_ptr<CatalogBackend> make_postgres_backend() { return std::make_unique<PostgresBackend>(); }

}  // namespace store_test
}  // namespace kestrel
