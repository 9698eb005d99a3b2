#include "sqlite_migration_target.h"

#include <Poco/Nullable.h>

#include "sqlite_errors.h"

namespace kestrel {
namespace store_sqlite {

using namespace Poco::Data::Keywords;

void SqliteMigrationTarget::begin() { execute("BEGIN IMMEDIATE"); }

void SqliteMigrationTarget::commit() {
  try {
    session_ << "COMMIT", now;
  } catch (...) {
    rethrow_translated("COMMIT", Phase::kCommit);
  }
}

void SqliteMigrationTarget::rollback() noexcept {
  try {
    session_ << "ROLLBACK", now;
  } catch (...) {
    // No transaction was open (e.g. BEGIN failed): nothing to undo.
  }
}

void SqliteMigrationTarget::execute(const std::string& sql) {
  try {
    session_ << sql, now;
  } catch (...) {
    rethrow_translated(sql.substr(0, 60));
  }
}

int64_t SqliteMigrationTarget::query_int(const std::string& sql) {
  try {
    Poco::Nullable<Poco::Int64> value;
    session_ << sql, into(value), now;
    return value.isNull() ? 0 : value.value();
  } catch (...) {
    rethrow_translated(sql.substr(0, 60));
  }
}

}  // namespace store_sqlite
}  // namespace kestrel
