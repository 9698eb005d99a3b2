// The catalog migration runner's view of one PostgreSQL connection, and the
// locked migration every component that opens a catalog database runs
// (store-postgres at start, replicator-changelog on a PostgreSQL standby).
#ifndef KESTREL_STORE_POSTGRES_PG_MIGRATION_TARGET_H
#define KESTREL_STORE_POSTGRES_PG_MIGRATION_TARGET_H

#include <catalog_schema/migration_runner.h>

#include "pg_connection.h"

namespace kestrel {
namespace store_postgres {

// Borrows `conn` (owned by the caller, who keeps it alive and uses it from
// one thread). Errors: kestrel::Error from PgConnection (throw_pg_error).
class PgMigrationTarget : public catalog_schema::MigrationTarget {
 public:
  explicit PgMigrationTarget(PgConnection& conn) : conn_(conn) {}
  catalog_schema::Dialect dialect() const override { return catalog_schema::Dialect::kPostgres; }
  void begin() override;
  void commit() override;
  void rollback() noexcept override;
  void execute(const std::string& sql) override;
  int64_t query_int(const std::string& sql) override;

 private:
  PgConnection& conn_;
};

// Brings the database of `conn` to the latest catalog schema under one
// session advisory lock shared by every Kestrel component, so two of them
// starting at once migrate one after the other. Throws kestrel::Error
// (run_migrations'; the lock is released on every path).
catalog_schema::MigrationReport migrate_locked(PgConnection& conn);

}  // namespace store_postgres
}  // namespace kestrel

#endif  // KESTREL_STORE_POSTGRES_PG_MIGRATION_TARGET_H
