// Opening Poco Data SQLite sessions configured for the catalog.
#ifndef KESTREL_STORE_SQLITE_SQLITE_SESSION_H
#define KESTREL_STORE_SQLITE_SQLITE_SESSION_H

#include <Poco/Data/Session.h>

#include <memory>

#include "store_options.h"

namespace kestrel {
namespace store_sqlite {

enum class Role {
  kWriter,  // WAL, synchronous per options, foreign keys enforced
  kReader,  // query_only: a bug cannot write through it
};

// Opens options.path (created if absent by the writer) and applies the
// per-connection PRAGMAs for `role`, busy_timeout included. The writer also
// switches the file to WAL, so open it before any reader. Throws
// kestrel::Error (sqlite_errors.h). The session is used by one thread at a
// time; any thread may open one.
std::unique_ptr<Poco::Data::Session> open_session(const StoreOptions& options, Role role);

}  // namespace store_sqlite
}  // namespace kestrel

#endif  // KESTREL_STORE_SQLITE_SQLITE_SESSION_H
