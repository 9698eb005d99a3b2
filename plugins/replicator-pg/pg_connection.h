// PgConnection: one libpq connection to one node, for control queries.
//
// Owns the PGconn (closed by the destructor). Not thread-safe: one thread at
// a time per object; open one per call. Every failure throws kestrel::Error
// naming the node: KESTREL_ERR_UNAVAILABLE (retryable) when the node cannot be
// reached, KESTREL_ERR_INVALID for a rejected login, otherwise the query's
// error with its SQLSTATE.
#ifndef KESTREL_REPLICATOR_PG_PG_CONNECTION_H
#define KESTREL_REPLICATOR_PG_PG_CONNECTION_H

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

struct pg_conn;

namespace kestrel {
namespace replicator_pg {

// Rows of a result as text; SQL NULL reads as "".
using Rows = std::vector<std::vector<std::string>>;

class PgConnection {
 public:
  // Connects with `conninfo` (libpq keyword/value) within connect_timeout_ms
  // milliseconds (rounded up to whole seconds, as libpq counts them).
  PgConnection(const std::string& node, const std::string& conninfo, int64_t connect_timeout_ms);
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // Runs one statement with text parameters ($1, $2...) and returns its rows.
  Rows query(const std::string& sql, const std::vector<std::string>& params = {});
  // The first column of the first row ("" when none).
  std::string value(const std::string& sql, const std::vector<std::string>& params = {});
  // Runs a statement, ignoring rows.
  void exec(const std::string& sql, const std::vector<std::string>& params = {}) { query(sql, params); }

  // SQL-quoted identifier / literal through libpq's escaping.
  std::string ident(const std::string& name);
  std::string literal(const std::string& text);

  const std::string& node() const { return node_; }

 private:
  std::string node_;
  std::unique_ptr<pg_conn, void (*)(pg_conn*)> conn_;
};

// The numeric value of an LSN "X/Y" (bytes into the WAL); 0 for "". Throws
// kestrel::Error(KESTREL_ERR_INTERNAL) on a malformed LSN.
uint64_t parse_lsn(const std::string& text);

// Integer / double value of a text cell; 0 for "".
int64_t to_int(const std::string& text);
double to_double(const std::string& text);

}  // namespace replicator_pg
}  // namespace kestrel

#endif  // KESTREL_REPLICATOR_PG_PG_CONNECTION_H
