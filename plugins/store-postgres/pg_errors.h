// Turns a failed libpq call into kestrel::Error with the code the catalog
// contract promises (plugin.h, kestrel_catalog_v1), read from the SQLSTATE.
#ifndef KESTREL_STORE_POSTGRES_PG_ERRORS_H
#define KESTREL_STORE_POSTGRES_PG_ERRORS_H

#include <libpq-fe.h>

#include <string>

namespace kestrel {
namespace store_postgres {

// Where the failure happened; decides how a lost connection is reported.
enum class Phase {
  kOther,   // anything before COMMIT: the transaction is certainly rolled back
  kCommit,  // the COMMIT itself: it may have committed (UNKNOWN_OUTCOME)
};

// Throws kestrel::Error for a failed statement on `conn` (`result` may be
// NULL when libpq returned none). The message is "<server>: <context>:
// <server's message> (SQLSTATE xxxxx)". Classes:
//   connection lost (CONNECTION_BAD, 08xxx, 57P01-57P03 shutdown)
//                 -> kOther: UNAVAILABLE retryable; kCommit: UNKNOWN_OUTCOME retryable
//   25006 read-only transaction -> on a server in recovery: UNAVAILABLE
//                 retryable ("is a standby"); else FENCED ("refuses writes")
//   40001 serialization failure, 40P01 deadlock, 55P03 lock not available,
//   57014 canceled (statement_timeout), 53xxx resources (except 53100)
//                 -> UNAVAILABLE retryable
//   53100 disk full -> NO_SPACE;  23xxx integrity, 22xxx data -> INVALID
//   anything else -> INTERNAL
// May run ROLLBACK and one query on `conn` to tell a standby from a fenced
// primary. Any thread holding `conn` exclusively.
[[noreturn]] void throw_pg_error(PGconn* conn, const PGresult* result, const std::string& server,
                                 const std::string& context, Phase phase = Phase::kOther);

// The SQLSTATE of `result`, or "" when there is none.
std::string sqlstate(const PGresult* result);

}  // namespace store_postgres
}  // namespace kestrel

#endif  // KESTREL_STORE_POSTGRES_PG_ERRORS_H
