// Applies the migration list; see catalog_schema/migration_runner.h.
#include <catalog_schema/migration_runner.h>

#include <kestrel/plugin.hpp>
#include <string>

namespace kestrel {
namespace catalog_schema {
namespace {

// Shared by both dialects; created outside any migration so that the version
// can be read before the first one runs.
const char kCreateMigrationsTable[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL,"
    " applied_at BIGINT NOT NULL)";  // UTC microseconds

const char kSelectVersion[] = "SELECT MAX(version) FROM schema_migrations";

// Raised when the database is ahead of this build; passes through unprefixed.
class NewerSchemaError : public Error {
 public:
  using Error::Error;
};

[[noreturn]] void refuse_newer(int found) {
  throw NewerSchemaError(KESTREL_ERR_INVALID, "the catalog has schema version " + std::to_string(found) +
                                                  ", newer than this build knows (" + std::to_string(latest_version()) +
                                                  "): upgrade Kestrel, or point this store at another database");
}

// Runs one migration in its own transaction unless another process applied it
// first. Returns true when this call applied it.
bool apply(MigrationTarget& target, const Migration& m) {
  target.begin();
  try {
    const int found = current_version(target);
    if (found > latest_version()) refuse_newer(found);
    if (found >= m.version) {
      target.rollback();
      return false;
    }
    if (found != m.version - 1)
      throw Error(KESTREL_ERR_INTERNAL,
                  "schema version " + std::to_string(found) + " cannot step to " + std::to_string(m.version));
    for (const SchemaStatement& s : m.statements)
      if (applies(s, target.dialect())) target.execute(render(s, target.dialect()));
    // Names are static [a-z0-9_]+ text of this file's list, safe to inline.
    target.execute(expand_tokens("INSERT INTO schema_migrations (version, name, applied_at) VALUES (" +
                                     std::to_string(m.version) + ", '" + m.name + "', {{NOW_US}})",
                                 target.dialect()));
    target.commit();
    return true;
  } catch (const NewerSchemaError&) {
    target.rollback();
    throw;
  } catch (const Error& e) {
    target.rollback();
    throw Error(e.code(), "schema migration " + std::to_string(m.version) + " (" + m.name + "): " + e.what(),
                e.retryable());
  } catch (const std::exception& e) {
    target.rollback();
    throw Error(KESTREL_ERR_INTERNAL,
                "schema migration " + std::to_string(m.version) + " (" + m.name + "): " + e.what());
  }
}

}  // namespace

int current_version(MigrationTarget& target) { return static_cast<int>(target.query_int(kSelectVersion)); }

MigrationReport run_migrations(MigrationTarget& target) {
  target.execute(kCreateMigrationsTable);
  MigrationReport report;
  report.from_version = current_version(target);
  if (report.from_version > latest_version()) refuse_newer(report.from_version);
  for (const Migration& m : migrations()) {
    if (m.version <= report.from_version) continue;
    if (apply(target, m)) report.applied.push_back(m.version);
  }
  report.to_version = current_version(target);
  return report;
}

}  // namespace catalog_schema
}  // namespace kestrel
