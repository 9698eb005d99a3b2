// NodeSpec: one PostgreSQL node as the replicator uses it, made from one item
// of the `nodes` list (plugin.cc's node fields: the list the ha-catalog and
// the stores read too, "nodes: catalog") and the shared `conninfo`:
//   name       node name (required; [A-Za-z0-9_.-]+, 1-50 characters)
//   priority   failover priority, lower wins (default 100)
//   host, port, dbname   the server (port 5432 and dbname kestrel by default)
//   data_dir   the node's data directory when it is on this machine: the
//              replicator may then run pg_ctl, pg_basebackup and pg_rewind
//   bindir     PostgreSQL's bin folder (default: KESTREL_PG_BINDIR, which no
//              build file defines yet, so /usr/lib/postgresql/15/bin)
//   fence      "stop" (pg_ctl stop; the default when data_dir is set) or
//              "sql" (roles NOLOGIN + pg_hba reject + terminate backends)
// `conninfo` holds the libpq keywords every node shares (checked with
// libpq's own parser); they should name a superuser (control queries, ALTER
// SYSTEM, slots). The server's address is the node's: host, hostaddr, port
// and dbname are refused there.
#ifndef KESTREL_REPLICATOR_PG_NODE_SPEC_H
#define KESTREL_REPLICATOR_PG_NODE_SPEC_H

#include <kestrel/plugin.hpp>

#include <string>
#include <vector>

namespace kestrel {
namespace replicator_pg {

struct NodeSpec {
  std::string name;         // node name
  int priority = 100;       // lower wins a failover
  std::string data_dir;     // absolute path when local; empty for a remote node
  std::string bindir;       // PostgreSQL's bin folder
  bool fence_by_stop = false;  // fence by stopping the server (local nodes only)
  std::string conninfo;     // libpq keyword/value string: host, port, dbname, then the shared keywords
  std::string host;         // for messages and the replication conninfo
  std::string port;         // (text)
  std::string dbname;
  bool local() const { return !data_dir.empty(); }
};

// The nodes of a `nodes` list (ABI 1.3 list of maps), each joined with
// `conninfo`. Throws kestrel::Error(KESTREL_ERR_INVALID) naming the option
// (items as "nodes[i] (file:line:column)") and the bad key or value: a bad
// name, port, data_dir or fence, a malformed conninfo or one carrying the
// node's keys, two nodes at one host:port. Any thread; no I/O.
// One daemon per server: when `this_node` (the daemon's node.name) names one
// of the nodes, only that node's data_dir is on this machine; the others'
// are ignored (the file may be the one all servers share) and those nodes
// are reached by address, fenced with SQL.
std::vector<NodeSpec> node_specs_from_list(const std::vector<OptionMap>& nodes, const std::string& conninfo,
                                           const std::string& this_node = std::string());

}  // namespace replicator_pg
}  // namespace kestrel

#endif  // KESTREL_REPLICATOR_PG_NODE_SPEC_H
