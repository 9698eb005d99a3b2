#include "pg_errors.h"

#include <kestrel/plugin.hpp>

namespace kestrel {
namespace store_postgres {
namespace {

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

bool starts_with(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

// True when the server behind `conn` is in recovery (a standby). False when
// it is not or cannot be asked.
bool in_recovery(PGconn* conn) {
  PQclear(PQexec(conn, "ROLLBACK"));
  PGresult* r = PQexec(conn, "SELECT pg_is_in_recovery()");
  bool yes = r != nullptr && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 &&
             std::string(PQgetvalue(r, 0, 0)) == "t";
  PQclear(r);
  return yes;
}

}  // namespace

std::string sqlstate(const PGresult* result) {
  const char* s = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  return s != nullptr ? s : "";
}

void throw_pg_error(PGconn* conn, const PGresult* result, const std::string& server, const std::string& context,
                    Phase phase) {
  const std::string state = sqlstate(result);
  std::string text = trimmed(result != nullptr && PQresultErrorMessage(result)[0] != '\0' ? PQresultErrorMessage(result)
                                                                                          : PQerrorMessage(conn));
  const std::string prefix = server + ": " + context + ": ";
  const std::string suffix = state.empty() ? "" : " (SQLSTATE " + state + ")";
  const bool lost = PQstatus(conn) == CONNECTION_BAD || starts_with(state, "08") || state == "57P01" ||
                    state == "57P02" || state == "57P03";
  if (lost) {
    if (phase == Phase::kCommit)
      throw Error(KESTREL_ERR_UNKNOWN_OUTCOME,
                  prefix +
                      "connection lost during COMMIT, the batch may or may not be committed (retry it: the "
                      "write is idempotent): " +
                      text + suffix,
                  true);
    throw Error(KESTREL_ERR_UNAVAILABLE, prefix + "connection lost, nothing was committed: " + text + suffix, true);
  }
  if (state == "25006") {
    if (in_recovery(conn))
      throw Error(KESTREL_ERR_UNAVAILABLE,
                  prefix + "the server is a standby (in recovery) and accepts no writes; write to the primary: " +
                      text + suffix,
                  true);
    throw Error(
        KESTREL_ERR_FENCED,
        prefix + "the server refuses writes (read-only transaction): it was fenced or demoted: " + text + suffix);
  }
  if (state == "40001" || state == "40P01" || state == "55P03" || state == "57014" ||
      (starts_with(state, "53") && state != "53100"))
    throw Error(KESTREL_ERR_UNAVAILABLE, prefix + text + suffix, true);
  if (state == "53100") throw Error(KESTREL_ERR_NO_SPACE, prefix + "disk full: " + text + suffix);
  if (starts_with(state, "23") || starts_with(state, "22")) throw Error(KESTREL_ERR_INVALID, prefix + text + suffix);
  throw Error(KESTREL_ERR_INTERNAL, prefix + text + suffix);
}

}  // namespace store_postgres
}  // namespace kestrel
