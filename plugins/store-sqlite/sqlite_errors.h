// Turns Poco Data SQLite exceptions into kestrel::Error with the code the
// catalog contract promises (plugin.h, kestrel_catalog_v1).
#ifndef KESTREL_STORE_SQLITE_SQLITE_ERRORS_H
#define KESTREL_STORE_SQLITE_SQLITE_ERRORS_H

#include <string>

namespace kestrel {
namespace store_sqlite {

// Where the failure happened; decides how an I/O error is reported.
enum class Phase {
  kOther,   // anything before COMMIT
  kCommit,  // the COMMIT itself: an I/O error may have committed (UNKNOWN_OUTCOME)
};

// Call only inside a catch block. Rethrows the exception in flight as
// kestrel::Error, its message prefixed with `context`:
//   locked/busy (another writer held the lock past busy_timeout)
//                          -> KESTREL_ERR_UNAVAILABLE, retryable
//   disk full              -> KESTREL_ERR_NO_SPACE
//   constraint violation   -> KESTREL_ERR_INVALID
//   I/O error at COMMIT    -> KESTREL_ERR_UNKNOWN_OUTCOME, retryable
//   other I/O, corrupt or unreadable file -> KESTREL_ERR_IO
//   anything else          -> KESTREL_ERR_INTERNAL
// A kestrel::Error in flight is rethrown unchanged. Any thread.
[[noreturn]] void rethrow_translated(const std::string& context, Phase phase = Phase::kOther);

}  // namespace store_sqlite
}  // namespace kestrel

#endif  // KESTREL_STORE_SQLITE_SQLITE_ERRORS_H
