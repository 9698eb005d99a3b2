// CatalogBackend: where the catalog contract tests run their store — a fresh
// SQLite file, or a fresh database on a shared PostgreSQL 15 cluster — so
// that one set of tests checks that both stores behave the same.
#ifndef KESTREL_TESTS_UNIT_STORE_CATALOG_BACKEND_H
#define KESTREL_TESTS_UNIT_STORE_CATALOG_BACKEND_H

#include <kestrel/plugin.h>

#include <memory>
#include <string>
#include <vector>

#include "component_harness.h"

namespace kestrel {
namespace store_test {

// One empty catalog. Owns its file or database (dropped with the backend
// object where the database outlives it is not needed). One thread.
class CatalogBackend {
 public:
  virtual ~CatalogBackend() = default;
  // "sqlite" or "postgres", for messages.
  virtual const char* name() const = 0;
  // The component type to run.
  virtual const kestrel_component_desc& descriptor() const = 0;
  // Options that point the store at this backend's empty catalog.
  virtual OptionText options() const = 0;
  // The data dir handed to the component (a temp folder).
  virtual std::string data_dir() const = 0;
  // Runs SQL on the catalog behind the store's back (its own connection) and
  // returns the rows as text (NULL -> ""). Throws std::runtime_error.
  virtual std::vector<std::vector<std::string>> query(const std::string& sql) const = 0;
  // True when commit positions count batches (1, 2, 3...); false when they
  // are WAL positions (only increasing).
  virtual bool counts_batches() const = 0;
};

// A new SQLite catalog file (catalog.db) in a new temp folder.
std::unique_ptr<CatalogBackend> make_sqlite_backend();

// A new database (owned by role kestrel) on the process's shared PgCluster,
// started on first use (label `postgres`); the cluster stops at exit.
std::unique_ptr<CatalogBackend> make_postgres_backend();

}  // namespace store_test
}  // namespace kestrel

#endif  // KESTREL_TESTS_UNIT_STORE_CATALOG_BACKEND_H
