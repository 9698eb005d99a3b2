#include "pg_options.h"

#include <libpq-fe.h>

#include <map>
#include <memory>

namespace kestrel {
namespace store_postgres {
namespace {

struct OptionsFree {
  void operator()(PQconninfoOption* o) const { PQconninfoFree(o); }
};

std::string quote(const std::string& v) {
  std::string out = "'";
  for (char c : v) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

}  // namespace

PgOptions parse_options(const CreateArgs& args) {
  PgOptions o;
  const std::string raw = args.get_string("conninfo");
  if (raw.empty())
    throw Error(KESTREL_ERR_INVALID, "option conninfo: empty (e.g. 'host=db1 dbname=kestrel user=kestrel')");
  char* err = nullptr;
  std::unique_ptr<PQconninfoOption, OptionsFree> parsed(PQconninfoParse(raw.c_str(), &err));
  if (!parsed) {
    std::string why = err ? err : "out of memory";
    PQfreemem(err);
    while (!why.empty() && why.back() == '\n') why.pop_back();
    throw Error(KESTREL_ERR_INVALID, "option conninfo: not a libpq connection string or URI: " + why);
  }
  std::map<std::string, std::string> kv;
  for (PQconninfoOption* p = parsed.get(); p->keyword != nullptr; ++p)
    if (p->val != nullptr && p->val[0] != '\0') kv[p->keyword] = p->val;

  o.connect_timeout_ms = args.get_duration_ms("connect_timeout");
  if (o.connect_timeout_ms < 1000 || o.connect_timeout_ms > 3600000)
    throw Error(KESTREL_ERR_INVALID,
                "option connect_timeout: " + std::to_string(o.connect_timeout_ms) + " ms is out of range (1s to 1h)");
  o.idle_timeout_ms = args.get_duration_ms("idle_timeout");
  if (o.idle_timeout_ms < 0) throw Error(KESTREL_ERR_INVALID, "option idle_timeout: negative");
  o.statement_timeout_ms = args.get_duration_ms("statement_timeout");
  if (o.statement_timeout_ms < 0 || o.statement_timeout_ms > INT32_MAX)
    throw Error(KESTREL_ERR_INVALID, "option statement_timeout: " + std::to_string(o.statement_timeout_ms) +
                                         " ms is out of range (0 to 2^31-1 ms)");
  const int64_t pool = args.get_int("pool_size");
  if (pool < 1 || pool > 256)
    throw Error(KESTREL_ERR_INVALID, "option pool_size: " + std::to_string(pool) + " is out of range (1 to 256)");
  o.pool_size = static_cast<int>(pool);

  // libpq counts connect_timeout in whole seconds and treats 1 as 2.
  const int64_t seconds = (o.connect_timeout_ms + 999) / 1000;
  kv["connect_timeout"] = std::to_string(seconds < 2 ? 2 : seconds);
  if (kv.find("application_name") == kv.end()) kv["application_name"] = "kestrel-store-postgres";
  for (const auto& e : kv) o.conninfo += (o.conninfo.empty() ? "" : " ") + e.first + "=" + quote(e.second);

  const auto get = [&kv](const char* key, const std::string& fallback) {
    auto it = kv.find(key);
    return it == kv.end() ? fallback : it->second;
  };
  o.server = get("host", get("hostaddr", "(default socket)")) + ":" + get("port", "5432") + "/" +
             get("dbname", get("user", "?")) + " as " + get("user", "(OS user)");
  return o;
}

}  // namespace store_postgres
}  // namespace kestrel
