#include "sqlite_errors.h"

#include <Poco/Data/SQLite/SQLiteException.h>

#include <catalog_schema/replicated_tables.h>
#include <kestrel/plugin.hpp>

namespace kestrel {
namespace store_sqlite {

void rethrow_translated(const std::string& context, Phase phase) {
  namespace sq = Poco::Data::SQLite;
  const std::string prefix = context + ": ";
  try {
    throw;
  } catch (const Error&) {
    throw;
  } catch (const sq::DBLockedException& e) {
    throw Error(KESTREL_ERR_UNAVAILABLE, prefix + "database is locked by another writer: " + e.displayText(), true);
  } catch (const sq::TableLockedException& e) {
    throw Error(KESTREL_ERR_UNAVAILABLE, prefix + "table is locked: " + e.displayText(), true);
  } catch (const sq::DatabaseFullException& e) {
    throw Error(KESTREL_ERR_NO_SPACE, prefix + "disk full: " + e.displayText());
  } catch (const sq::ConstraintViolationException& e) {
    // A standby's or fenced file's guard trigger (migration 3): the writer
    // must go to the primary of the current epoch; retryable for the router.
    if (e.displayText().find(catalog_schema::kReadOnlyMessage) != std::string::npos)
      throw Error(KESTREL_ERR_FENCED, prefix + catalog_schema::kReadOnlyMessage, true);
    throw Error(KESTREL_ERR_INVALID, prefix + e.displayText());
  } catch (const sq::IOErrorException& e) {
    if (phase == Phase::kCommit)
      throw Error(KESTREL_ERR_UNKNOWN_OUTCOME,
                  prefix + "I/O error during COMMIT, the batch may or may not be committed: " + e.displayText(), true);
    throw Error(KESTREL_ERR_IO, prefix + "I/O error: " + e.displayText());
  } catch (const sq::CorruptImageException& e) {
    throw Error(KESTREL_ERR_IO, prefix + "database file is corrupt or not a database: " + e.displayText());
  } catch (const sq::CantOpenDBFileException& e) {
    throw Error(KESTREL_ERR_IO, prefix + "cannot open the database file: " + e.displayText());
  } catch (const sq::ReadOnlyException& e) {
    throw Error(KESTREL_ERR_IO, prefix + "database is read-only: " + e.displayText());
  } catch (const sq::DBAccessDeniedException& e) {
    throw Error(KESTREL_ERR_IO, prefix + "access denied: " + e.displayText());
  } catch (const sq::NoMemoryException& e) {
    throw Error(KESTREL_ERR_INTERNAL, prefix + "out of memory: " + e.displayText(), true);
  } catch (const Poco::Exception& e) {
    throw Error(KESTREL_ERR_INTERNAL, prefix + e.displayText());
  } catch (const std::exception& e) {
    throw Error(KESTREL_ERR_INTERNAL, prefix + e.what());
  }
}

}  // namespace store_sqlite
}  // namespace kestrel
