#include "pg_connection.h"

#include <kestrel/plugin.hpp>

namespace kestrel {
namespace store_postgres {

PgConnection::PgConnection(const PgOptions& options) : server_(options.server) {
  conn_.reset(PQconnectdb(options.conninfo.c_str()));
  if (!conn_ || PQstatus(conn_.get()) != CONNECTION_OK) {
    std::string why = conn_ ? PQerrorMessage(conn_.get()) : "out of memory";
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    throw Error(KESTREL_ERR_UNAVAILABLE, "cannot connect to PostgreSQL " + server_ + ": " + why, true);
  }
  PQsetNoticeReceiver(conn_.get(), &PgConnection::receive_notice, this);
  exec("SET statement_timeout = " + std::to_string(options.statement_timeout_ms), "setting statement_timeout");
}

void PgConnection::receive_notice(void* self, const PGresult* result) {
  auto* me = static_cast<PgConnection*>(self);
  const char* sev = PQresultErrorField(result, PG_DIAG_SEVERITY_NONLOCALIZED);
  const char* state = PQresultErrorField(result, PG_DIAG_SQLSTATE);
  const char* msg = PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY);
  me->notices_.push_back({sev ? sev : "", state ? state : "", msg ? msg : ""});
}

std::vector<PgNotice> PgConnection::take_notices() {
  std::vector<PgNotice> out;
  out.swap(notices_);
  return out;
}

PgResult PgConnection::exec(const std::string& sql, const std::string& context, Phase phase) {
  PgResult r(PQexec(conn_.get(), sql.c_str()));
  const ExecStatusType st = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) throw_pg_error(conn_.get(), r.get(), server_, context, phase);
  return r;
}

PgResult PgConnection::exec_params(const std::string& sql, const std::vector<const char*>& params,
                                   const std::string& context) {
  PgResult r(PQexecParams(conn_.get(), sql.c_str(), static_cast<int>(params.size()), nullptr, params.data(), nullptr,
                          nullptr, 0));
  const ExecStatusType st = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) throw_pg_error(conn_.get(), r.get(), server_, context);
  return r;
}

void PgConnection::rollback() noexcept {
  if (PQstatus(conn_.get()) != CONNECTION_OK) return;
  // A query still running (a reader that stopped without draining): read
  // what is left, bounded by statement_timeout, so the connection is idle.
  if (PQtransactionStatus(conn_.get()) == PQTRANS_ACTIVE)
    while (PGresult* rest = PQgetResult(conn_.get())) PQclear(rest);
  const PGTransactionStatusType st = PQtransactionStatus(conn_.get());
  if (st == PQTRANS_INTRANS || st == PQTRANS_INERROR) PQclear(PQexec(conn_.get(), "ROLLBACK"));
}

}  // namespace store_postgres
}  // namespace kestrel
