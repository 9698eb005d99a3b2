// NodeSpec: one PostgreSQL node as configured for the replicator.
//
// A node spec is a libpq keyword=value connection string (the libpq
// "Keyword/Value Connection Strings" syntax: values may be single-quoted, with
// \' and \\ escapes) with extra keys the replicator strips before connecting:
//   name=      node name (required; [A-Za-z0-9_.-]+)
//   priority=  failover priority, lower wins (default 100)
//   data_dir=  the node's data directory when it is on this machine: the
//              replicator may then run pg_ctl, pg_basebackup and pg_rewind
//   bindir=    PostgreSQL's bin folder (default: `pg_config --bindir` at build
//              time, else /usr/lib/postgresql/15/bin)
//   fence=     "stop" (pg_ctl stop; the default when data_dir is set) or
//              "sql" (roles NOLOGIN + pg_hba reject + terminate backends)
// The remaining keys must be libpq keywords (checked with PQconninfoParse);
// they should name a superuser (control queries, ALTER SYSTEM, slots).
#ifndef KESTREL_REPLICATOR_PG_NODE_SPEC_H
#define KESTREL_REPLICATOR_PG_NODE_SPEC_H

#include <kestrel/plugin.hpp>

#include <string>
#include <vector>

namespace kestrel {
namespace replicator_pg {

struct NodeSpec {
  std::string name;         // node name from name=
  int priority = 100;       // lower wins a failover
  std::string data_dir;     // absolute path when local; empty for a remote node
  std::string bindir;       // PostgreSQL's bin folder
  bool fence_by_stop = false;  // fence by stopping the server (local nodes only)
  std::string conninfo;     // the libpq part, re-quoted, extra keys removed
  std::string host;         // host= (for messages and replication conninfo), may be empty
  std::string port;         // port= (text), may be empty (libpq default 5432)
  std::string dbname;       // dbname=, may be empty
  bool local() const { return !data_dir.empty(); }
};

// Parses `text`, the value of option `option` (e.g. "standbys[1]"). Throws
// kestrel::Error(KESTREL_ERR_INVALID) naming the option and the bad key or
// value. Any thread; no I/O.
NodeSpec parse_node_spec(const std::string& option, const std::string& text);

// The nodes of a `nodes` list (ABI 1.3 list of maps: name, priority, host,
// port, dbname, data_dir, bindir, fence), each joined with `conninfo` (the
// shared libpq keywords: user, password, sslmode...), which must not carry
// host, port or dbname. Checked like parse_node_spec; messages name the
// item's file:line:column. Two nodes at one host:port are refused.
std::vector<NodeSpec> node_specs_from_list(const std::vector<OptionMap>& nodes, const std::string& conninfo);

// `conninfo` without its password= key; the password goes to *password ("" if
// none). For command lines, where the password travels in PGPASSWORD instead
// of argv (visible to every local user). Throws like parse_node_spec.
std::string without_password(const std::string& conninfo, std::string* password);

// Quotes a libpq conninfo value: 'value' with \ and ' escaped. Never fails.
std::string conninfo_quote(const std::string& value);

}  // namespace replicator_pg
}  // namespace kestrel

#endif  // KESTREL_REPLICATOR_PG_NODE_SPEC_H
