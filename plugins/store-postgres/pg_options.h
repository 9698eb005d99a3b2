// Parsed, checked options of one store-postgres instance.
#ifndef KESTREL_STORE_POSTGRES_PG_OPTIONS_H
#define KESTREL_STORE_POSTGRES_PG_OPTIONS_H

#include <cstdint>
#include <kestrel/plugin.hpp>
#include <string>

namespace kestrel {
namespace store_postgres {

struct PgOptions {
  std::string conninfo;                  // key='value' form, connect_timeout and application_name set; holds secrets
  std::string server;                    // "host:port/dbname as user", for messages; never the password
  int pool_size = 8;                     // most open connections, 1..256
  int64_t idle_timeout_ms = 60000;       // milliseconds an idle connection is kept
  int64_t connect_timeout_ms = 5000;     // milliseconds per connection attempt and per wait for a pooled one
  int64_t statement_timeout_ms = 30000;  // milliseconds; 0: no limit
};

// Reads and checks the options of `args`. The conninfo (key=value string or
// postgres:// URI) is parsed with libpq's own parser, so a malformed one is
// refused here, before anything connects. Throws
// kestrel::Error(KESTREL_ERR_INVALID) naming the option and the reason
// (never echoing the password). Control thread; no network.
PgOptions parse_options(const CreateArgs& args);

}  // namespace store_postgres
}  // namespace kestrel

#endif  // KESTREL_STORE_POSTGRES_PG_OPTIONS_H
