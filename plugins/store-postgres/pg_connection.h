// PgConnection: one PostgreSQL connection on libpq, so that errors keep their
// SQLSTATE, a COMMIT's warnings are seen and rows stream one at a time.
//
// Why not Poco Data PostgreSQL (1.11, Debian 12), which the plan named: its
// SessionHandle never PQfinish()es a connection that failed to open or that
// the server closed (disconnect() only finishes a CONNECTION_OK handle), so a
// store retrying a dead or restarted primary leaks ~50 KiB per attempt (LSan
// reports it in store_postgres_test); it also drops the SQLSTATE, fetches
// whole results and hides NOTICE/WARNING messages.
#ifndef KESTREL_STORE_POSTGRES_PG_CONNECTION_H
#define KESTREL_STORE_POSTGRES_PG_CONNECTION_H

#include <libpq-fe.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "pg_errors.h"
#include "pg_options.h"

namespace kestrel {
namespace store_postgres {

struct PgResultClear {
  void operator()(PGresult* r) const { PQclear(r); }
};
using PgResult = std::unique_ptr<PGresult, PgResultClear>;

// A notice or warning the server sent (NOTICE, WARNING...).
struct PgNotice {
  std::string severity;  // "WARNING", "NOTICE"... (non-localized)
  std::string sqlstate;
  std::string message;
};

// Owns the connection (closed by the destructor). One thread at a time.
class PgConnection {
 public:
  // Connects (PQconnectdb, bounded by the conninfo's connect_timeout) and
  // sets statement_timeout.
  // Throws kestrel::Error(UNAVAILABLE, retryable) naming the server, e.g.
  // "cannot connect to PostgreSQL 127.0.0.1:1/kestrel as kestrel: connection
  // refused...".
  explicit PgConnection(const PgOptions& options);
  ~PgConnection() = default;
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // Runs `sql` (simple protocol; several statements allowed, the last
  // result is returned). Throws via throw_pg_error with `context`.
  PgResult exec(const std::string& sql, const std::string& context, Phase phase = Phase::kOther);
  // Runs one statement with text parameters ($1...; NULL pointer = SQL NULL).
  PgResult exec_params(const std::string& sql, const std::vector<const char*>& params, const std::string& context);

  // Ends an open transaction, if any; never throws.
  void rollback() noexcept;
  // True once the connection is unusable (the pool drops it).
  bool broken() const { return PQstatus(conn_.get()) != CONNECTION_OK; }
  // Returns and forgets the notices received since the last call.
  std::vector<PgNotice> take_notices();

  PGconn* raw() const { return conn_.get(); }
  const std::string& server() const { return server_; }

  // When the pool last handed it back (steady clock).
  std::chrono::steady_clock::time_point last_used;

 private:
  static void receive_notice(void* self, const PGresult* result);

  struct Finish {
    void operator()(PGconn* c) const { PQfinish(c); }
  };
  std::unique_ptr<PGconn, Finish> conn_;
  std::string server_;
  std::vector<PgNotice> notices_;
};

}  // namespace store_postgres
}  // namespace kestrel

#endif  // KESTREL_STORE_POSTGRES_PG_CONNECTION_H
