#include "pg_options.h"

#include <map>
#include <vector>

#include "pg_conninfo.h"

namespace kestrel {
namespace store_postgres {

PgOptions parse_options(const CreateArgs& args) {
  PgOptions o;
  const std::string raw = args.get_string("conninfo");
  if (raw.empty())
    throw Error(KESTREL_ERR_INVALID, "option conninfo: empty (e.g. 'host=db1 dbname=kestrel user=kestrel')");
  std::map<std::string, std::string> kv = pg::parse("option conninfo: not a libpq connection string or URI", raw);
  const std::vector<OptionMap> nodes = args.get_maps("nodes");
  if (!nodes.empty()) {
    // The server's address comes from the node list, written once for every
    // component that reads it; the conninfo keeps the credentials.
    for (const char* key : {"host", "hostaddr", "port", "dbname"})
      if (kv.count(key))
        throw Error(KESTREL_ERR_INVALID, std::string("option conninfo: ") + key +
                                             "= is the node's, in the nodes list; leave it out here");
    const std::string name = args.is_set("node") ? args.get_string("node") : args.component_id();
    const OptionMap* node = nullptr;
    std::string names;
    for (const OptionMap& n : nodes) {
      if (n.get_string("name") == name) node = &n;
      names += (names.empty() ? "" : ", ") + n.get_string("name");
    }
    if (!node)
      throw Error(KESTREL_ERR_INVALID, "option node: no node named '" + name + "' in the nodes list (" + names +
                                           ")" + (args.is_set("node") ? "" : "; set node, or name the component after it"));
    if (!node->is_set("host") || node->get_string("host").empty())
      throw Error(KESTREL_ERR_INVALID, "option nodes: node " + name + " (" + node->where() +
                                           ") has no host: a PostgreSQL store needs its server's address");
    kv["host"] = node->get_string("host");
    kv["port"] = std::to_string(node->get_int("port"));
    kv["dbname"] = node->get_string("dbname");
  } else if (args.is_set("node")) {
    throw Error(KESTREL_ERR_INVALID, "option node: needs nodes (the list it names a node of)");
  }

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
  o.conninfo = pg::join(pg::Conninfo(kv.begin(), kv.end()));

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
