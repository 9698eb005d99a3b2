// libpq wrapper (see pg_connection.h).
#include "pg_connection.h"

#include <kestrel/plugin.hpp>
#include <libpq-fe.h>

#include <cinttypes>
#include <cstdio>
#include <cstdlib>

namespace kestrel {
namespace replicator_pg {
namespace {

// libpq's message on one line (it continues lines with "\n\t"), for logs
// and health lines that are read one line at a time.
std::string trimmed(const char* s) {
  std::string out;
  for (const char* p = s ? s : ""; *p; ++p) {
    if (*p == '\n' || *p == '\t') {
      if (!out.empty() && out.back() != ' ') out += ' ';
    } else {
      out += *p;
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

}  // namespace

PgConnection::PgConnection(const std::string& node, const std::string& conninfo, int64_t connect_timeout_ms)
    : node_(node), conn_(nullptr, PQfinish) {
  const int64_t seconds = connect_timeout_ms <= 0 ? 5 : (connect_timeout_ms + 999) / 1000;
  // Keys given later win, so a connect_timeout in conninfo still applies.
  const std::string full = "connect_timeout=" + std::to_string(seconds) + " " + conninfo;
  conn_.reset(PQconnectdb(full.c_str()));
  if (!conn_) throw Error(KESTREL_ERR_INTERNAL, "node " + node_ + ": libpq could not allocate a connection");
  if (PQstatus(conn_.get()) != CONNECTION_OK) {
    const std::string why = trimmed(PQerrorMessage(conn_.get()));
    const bool auth = why.find("authentication") != std::string::npos || why.find("password") != std::string::npos ||
                      why.find("does not exist") != std::string::npos || why.find("pg_hba") != std::string::npos;
    if (auth)
      throw Error(KESTREL_ERR_INVALID, "node " + node_ + ": login refused: " + why +
                                           " (fix user/password in conninfo, the node's dbname, or its pg_hba.conf)");
    throw Error(KESTREL_ERR_UNAVAILABLE,
                "node " + node_ + ": cannot connect: " + why +
                    " (check the node's host and port in the nodes list, and that the server is running)",
                true);
  }
}

PgConnection::~PgConnection() = default;

Rows PgConnection::query(const std::string& sql, const std::vector<std::string>& params) {
  std::vector<const char*> values;
  for (const auto& p : params) values.push_back(p.c_str());
  std::unique_ptr<PGresult, void (*)(PGresult*)> res(
      PQexecParams(conn_.get(), sql.c_str(), static_cast<int>(values.size()), nullptr,
                   values.empty() ? nullptr : values.data(), nullptr, nullptr, 0),
      PQclear);
  const ExecStatusType st = res ? PQresultStatus(res.get()) : PGRES_FATAL_ERROR;
  if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
    if (PQstatus(conn_.get()) != CONNECTION_OK)
      throw Error(KESTREL_ERR_UNAVAILABLE,
                  "node " + node_ + ": connection lost: " + trimmed(PQerrorMessage(conn_.get())), true);
    const char* state = res ? PQresultErrorField(res.get(), PG_DIAG_SQLSTATE) : nullptr;
    const std::string msg = res ? trimmed(PQresultErrorMessage(res.get())) : trimmed(PQerrorMessage(conn_.get()));
    throw Error(KESTREL_ERR_UNAVAILABLE,
                "node " + node_ + ": " + msg + " (SQLSTATE " + (state ? state : "?") + ")",
                state != nullptr && std::string(state).compare(0, 2, "08") == 0);
  }
  Rows rows;
  const int n = PQntuples(res.get());
  const int m = PQnfields(res.get());
  rows.reserve(static_cast<size_t>(n));
  for (int r = 0; r < n; ++r) {
    std::vector<std::string> row;
    row.reserve(static_cast<size_t>(m));
    for (int c = 0; c < m; ++c)
      row.emplace_back(PQgetisnull(res.get(), r, c) ? "" : PQgetvalue(res.get(), r, c));
    rows.push_back(std::move(row));
  }
  return rows;
}

std::string PgConnection::value(const std::string& sql, const std::vector<std::string>& params) {
  Rows rows = query(sql, params);
  return rows.empty() || rows[0].empty() ? std::string() : rows[0][0];
}

std::string PgConnection::ident(const std::string& name) {
  std::unique_ptr<char, void (*)(void*)> q(PQescapeIdentifier(conn_.get(), name.c_str(), name.size()), PQfreemem);
  if (!q) throw Error(KESTREL_ERR_INVALID, "node " + node_ + ": cannot quote identifier " + name);
  return q.get();
}

std::string PgConnection::literal(const std::string& text) {
  std::unique_ptr<char, void (*)(void*)> q(PQescapeLiteral(conn_.get(), text.c_str(), text.size()), PQfreemem);
  if (!q) throw Error(KESTREL_ERR_INVALID, "node " + node_ + ": cannot quote a literal");
  return q.get();
}

uint64_t parse_lsn(const std::string& text) {
  if (text.empty()) return 0;
  unsigned int hi = 0, lo = 0;
  char tail = 0;
  if (std::sscanf(text.c_str(), "%X/%X%c", &hi, &lo, &tail) != 2)
    throw Error(KESTREL_ERR_INTERNAL, "malformed LSN \"" + text + "\"");
  return (static_cast<uint64_t>(hi) << 32) | lo;
}

int64_t to_int(const std::string& text) { return text.empty() ? 0 : std::strtoll(text.c_str(), nullptr, 10); }
double to_double(const std::string& text) { return text.empty() ? 0.0 : std::strtod(text.c_str(), nullptr); }

}  // namespace replicator_pg
}  // namespace kestrel
