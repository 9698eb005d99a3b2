#include "sqlite_session.h"

#include <Poco/Data/SQLite/Connector.h>

#include <mutex>

#include "sqlite_errors.h"

namespace kestrel {
namespace store_sqlite {

using namespace Poco::Data::Keywords;

std::unique_ptr<Poco::Data::Session> open_session(const StoreOptions& options, Role role) {
  static std::once_flag registered;
  std::call_once(registered, [] { Poco::Data::SQLite::Connector::registerConnector(); });
  const char* what = role == Role::kWriter ? "writer" : "reader";
  try {
    auto session = std::make_unique<Poco::Data::Session>(Poco::Data::SQLite::Connector::KEY, options.path);
    *session << "PRAGMA busy_timeout = " << options.busy_timeout_ms, now;
    if (role == Role::kWriter) {
      std::string mode;
      *session << "PRAGMA journal_mode = WAL", into(mode), now;
      if (mode != "wal")
        throw Error(KESTREL_ERR_IO, "cannot switch " + options.path + " to WAL mode (journal_mode is " + mode + ")");
      *session << (options.synchronous_full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL"), now;
      *session << "PRAGMA foreign_keys = ON", now;
    } else {
      *session << "PRAGMA query_only = ON", now;
    }
    return session;
  } catch (...) {
    rethrow_translated(std::string("opening ") + what + " connection to " + options.path);
  }
}

}  // namespace store_sqlite
}  // namespace kestrel
