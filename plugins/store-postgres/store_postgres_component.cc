// Option table of store-postgres; it doubles as the documentation of the options.
#include "store_postgres_component.h"

#include <kestrel/plugin.hpp>

#include "pg_store.h"

namespace kestrel {
namespace store_postgres {
namespace {

// The fields of a shared `nodes` list this store reads (the ha-catalog's,
// "nodes: catalog"); the same defaults as the replicator's.
const kestrel_option_desc kNodeFields[] = {
    option("name", KESTREL_OPT_STRING, nullptr, "node name", KESTREL_OPTION_REQUIRED | KESTREL_OPTION_UNIQUE),
    // Not required of every item: a list may also hold SQLite nodes
    // (replicator-changelog's PostgreSQL standbys); this store's own node
    // must have it (parse_options).
    option("host", KESTREL_OPT_STRING, nullptr, "the server's host name or address (required on this store's node)"),
    option("port", KESTREL_OPT_INT, "5432", "the server's TCP port"),
    option("dbname", KESTREL_OPT_STRING, "kestrel", "the catalog database"),
};

const kestrel_option_desc kOptions[] = {
    option("conninfo", KESTREL_OPT_STRING, nullptr,
           "libpq connection string or URI (host, port, dbname, user, password...); with nodes, only what is not "
           "the node's address (user, password, sslmode...); may carry a password, so use ${env:NAME}",
           KESTREL_OPTION_REQUIRED | KESTREL_OPTION_SECRET),
    kestrel::map_list("nodes", kNodeFields,
                      "the id of the component holding the nodes list (nodes: catalog), or the list itself: the "
                      "server is the node named by `node`"),
    option("node", KESTREL_OPT_STRING, nullptr, "with nodes: the node this store opens (default: the component id)"),
    option("pool_size", KESTREL_OPT_INT, "8", "most connections open at once (1-256); calls beyond it wait"),
    option("idle_timeout", KESTREL_OPT_DURATION, "60s", "a connection unused this long is closed"),
    option("connect_timeout", KESTREL_OPT_DURATION, "5s",
           "deadline of one connection attempt (whole seconds, at least 2 as libpq requires), and of the wait for a "
           "free pooled connection"),
    option("statement_timeout", KESTREL_OPT_DURATION, "30s",
           "server-side limit of one statement (SET statement_timeout); 0 disables it"),
};

}  // namespace

const kestrel_component_desc& component_descriptor() {
  static const kestrel_component_desc desc =
      describe<PgStore>("store-postgres", "Image catalog in a PostgreSQL database", kOptions);
  return desc;
}

}  // namespace store_postgres
}  // namespace kestrel
