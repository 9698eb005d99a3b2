// The SQLite CatalogBackend (catalog_backend.h).
#include "catalog_backend.h"
#include "kestrel/test/sqlite_query.h"
#include "kestrel/test/temp_dir.h"
#include "store_sqlite_component.h"

namespace kestrel {
namespace store_test {
namespace {

class SqliteBackend : public CatalogBackend {
 public:
  const char* name() const override { return "sqlite"; }
  const kestrel_component_desc& descriptor() const override { return store_sqlite::component_descriptor(); }
  OptionText options() const override { return {{"path", "catalog.db"}, {"readers", "2"}}; }
  std::string data_dir() const override { return dir_.path(); }
  std::vector<std::vector<std::string>> query(const std::string& sql) const override {
    return test::sqlite_query(dir_.file("catalog.db"), sql);
  }
  bool counts_batches() const override { return true; }

 private:
  test::TempDir dir_{"catalog"};
};

}  // namespace

std::unique_ptr<CatalogBackend> make_sqlite_backend() { return std::make_unique<SqliteBackend>(); }

}  // namespace store_test
}  // namespace kestrel
