// catalog_schema/migration_runner.h — applies the shared migration list to
// one database through a small backend-neutral interface.
//
// Contract: run_migrations() creates schema_migrations if needed, refuses a
// database whose schema is newer than latest_version(), then applies every
// missing migration in its own transaction together with its
// schema_migrations row. It re-reads the version inside each transaction, so
// two processes migrating the same database at once apply each migration once.
// Running it again on an up-to-date database changes nothing.
#ifndef KESTREL_CATALOG_SCHEMA_MIGRATION_RUNNER_H
#define KESTREL_CATALOG_SCHEMA_MIGRATION_RUNNER_H

#include <catalog_schema/migrations.h>

#include <cstdint>
#include <string>
#include <vector>

namespace kestrel {
namespace catalog_schema {

// One database connection as the runner sees it. Implemented by each store on
// its own driver. Every method throws kestrel::Error on failure, with the code
// the store wants its caller to see (e.g. UNAVAILABLE+retryable when busy).
// Used from one thread at a time.
class MigrationTarget {
 public:
  virtual ~MigrationTarget() = default;

  // The dialect statements are rendered for.
  virtual Dialect dialect() const = 0;

  // Starts a transaction that excludes other writers until commit/rollback
  // (SQLite: BEGIN IMMEDIATE; PostgreSQL: BEGIN plus a lock on
  // schema_migrations or an advisory lock).
  virtual void begin() = 0;
  virtual void commit() = 0;
  // Ends the open transaction, if any, discarding it. Must not throw.
  virtual void rollback() noexcept = 0;

  // Runs one statement that returns no rows.
  virtual void execute(const std::string& sql) = 0;

  // Runs a query and returns the first column of its first row as an
  // integer; 0 when there is no row or the value is NULL.
  virtual int64_t query_int(const std::string& sql) = 0;
};

// What run_migrations() did.
struct MigrationReport {
  int from_version = 0;      // schema version found (0: fresh database)
  int to_version = 0;        // schema version now (latest_version())
  std::vector<int> applied;  // versions applied by this call, in order
};

// Brings `target` to latest_version(). Throws kestrel::Error:
//   KESTREL_ERR_INVALID when the database's version is newer than this build
//   knows (message names both versions); otherwise the target's own error,
//   prefixed with the migration's version and name. A failed migration is
//   rolled back whole; earlier ones stay applied.
MigrationReport run_migrations(MigrationTarget& target);

// The schema version recorded in `target` (0 when schema_migrations is empty).
// Requires schema_migrations to exist.
int current_version(MigrationTarget& target);

}  // namespace catalog_schema
}  // namespace kestrel

#endif  // KESTREL_CATALOG_SCHEMA_MIGRATION_RUNNER_H
