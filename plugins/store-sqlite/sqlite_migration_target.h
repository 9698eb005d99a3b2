// The shared migration runner's view of a store-sqlite writer session.
#ifndef KESTREL_STORE_SQLITE_SQLITE_MIGRATION_TARGET_H
#define KESTREL_STORE_SQLITE_SQLITE_MIGRATION_TARGET_H

#include <Poco/Data/Session.h>
#include <catalog_schema/migration_runner.h>

namespace kestrel {
namespace store_sqlite {

// Runs the runner's statements on `session` (borrowed; must outlive this).
// Transactions are BEGIN IMMEDIATE so that two processes migrating one file
// take turns. Errors are kestrel::Error (sqlite_errors.h). One thread at a time.
class SqliteMigrationTarget : public catalog_schema::MigrationTarget {
 public:
  explicit SqliteMigrationTarget(Poco::Data::Session& session) : session_(session) {}

  catalog_schema::Dialect dialect() const override { return catalog_schema::Dialect::kSqlite; }
  void begin() override;
  void commit() override;
  void rollback() noexcept override;
  void execute(const std::string& sql) override;
  int64_t query_int(const std::string& sql) override;

 private:
  Poco::Data::Session& session_;
};

}  // namespace store_sqlite
}  // namespace kestrel

#endif  // KESTREL_STORE_SQLITE_SQLITE_MIGRATION_TARGET_H
