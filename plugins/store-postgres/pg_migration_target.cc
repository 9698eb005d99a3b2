#include "pg_migration_target.h"

#include <cstdlib>

namespace kestrel {
namespace store_postgres {
namespace {

// Any constant will do; it only has to be the same for every component.
const char kMigrationLock[] = "7240531017";

}  // namespace

void PgMigrationTarget::begin() { conn_.exec("BEGIN", "BEGIN"); }
void PgMigrationTarget::commit() { conn_.exec("COMMIT", "COMMIT", Phase::kCommit); }
void PgMigrationTarget::rollback() noexcept { conn_.rollback(); }
void PgMigrationTarget::execute(const std::string& sql) { conn_.exec(sql, sql.substr(0, 60)); }

int64_t PgMigrationTarget::query_int(const std::string& sql) {
  PgResult r = conn_.exec(sql, sql);
  if (PQntuples(r.get()) == 0 || PQgetisnull(r.get(), 0, 0)) return 0;
  return std::strtoll(PQgetvalue(r.get(), 0, 0), nullptr, 10);
}

catalog_schema::MigrationReport migrate_locked(PgConnection& conn) {
  conn.exec(std::string("SELECT pg_advisory_lock(") + kMigrationLock + ")", "taking the migration lock");
  catalog_schema::MigrationReport report;
  try {
    PgMigrationTarget target(conn);
    report = catalog_schema::run_migrations(target);
  } catch (...) {
    conn.rollback();
    PQclear(PQexec(conn.raw(), (std::string("SELECT pg_advisory_unlock(") + kMigrationLock + ")").c_str()));
    throw;
  }
  conn.exec(std::string("SELECT pg_advisory_unlock(") + kMigrationLock + ")", "releasing the migration lock");
  return report;
}

}  // namespace store_postgres
}  // namespace kestrel
