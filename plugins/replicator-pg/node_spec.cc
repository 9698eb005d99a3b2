// Nodes from the `nodes` list (see node_spec.h). Connection strings are
// parsed and built by pg-common (libpq's own parser), never by hand.
#include "node_spec.h"

#include <kestrel/plugin.hpp>

#include <cctype>
#include <limits>
#include <map>
#include <utility>

#include "pg_conninfo.h"

namespace kestrel {
namespace replicator_pg {
namespace {

#ifndef KESTREL_PG_BINDIR
#define KESTREL_PG_BINDIR "/usr/lib/postgresql/15/bin"
#endif

[[noreturn]] void bad(const std::string& option, const std::string& why) {
  throw Error(KESTREL_ERR_INVALID, "option " + option + ": " + why);
}

bool valid_name(const std::string& n) {
  if (n.empty() || n.size() > 50) return false;
  for (char c : n)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') return false;
  return true;
}

// The shared keywords of `conninfo`, none of them a node's own.
std::map<std::string, std::string> shared_keywords(const std::string& conninfo) {
  std::map<std::string, std::string> kv;
  try {
    kv = pg::parse("option conninfo", conninfo);
  } catch (const Error& e) {
    throw Error(KESTREL_ERR_INVALID, std::string(e.what()) +
                                         " (libpq keywords shared by every node: user, password, sslmode...; "
                                         "name, priority, host, port, dbname, data_dir, bindir and fence are "
                                         "each node's, in the nodes list)");
  }
  for (const char* key : {"host", "hostaddr", "port", "dbname"})
    if (kv.count(key))
      bad("conninfo", std::string(key) + "= belongs to each node of the nodes list, not to the shared conninfo");
  return kv;
}

NodeSpec node_spec(const OptionMap& n, const std::string& option, const std::map<std::string, std::string>& shared,
                   bool on_this_machine) {
  NodeSpec spec;
  spec.name = n.get_string("name");
  if (!valid_name(spec.name))
    bad(option, "name \"" + spec.name + "\" is not a node name (letters, digits, _ - .; 1-50 chars)");
  const int64_t priority = n.get_int("priority");
  if (priority < std::numeric_limits<int>::min() || priority > std::numeric_limits<int>::max())
    bad(option, "node " + spec.name + ": priority " + std::to_string(priority) + " is out of range");
  spec.priority = static_cast<int>(priority);
  spec.host = n.get_string("host");
  if (spec.host.empty()) bad(option, "node " + spec.name + ": host is empty");
  const int64_t port = n.get_int("port");
  if (port < 1 || port > 65535)
    bad(option, "node " + spec.name + ": port " + std::to_string(port) + " is out of range (1 to 65535)");
  spec.port = std::to_string(port);
  spec.dbname = n.get_string("dbname");
  if (spec.dbname.empty()) bad(option, "node " + spec.name + ": dbname is empty");
  if (n.is_set("data_dir")) {
    spec.data_dir = n.get_string("data_dir");
    if (spec.data_dir.empty() || spec.data_dir[0] != '/')
      bad(option, "node " + spec.name + ": data_dir \"" + spec.data_dir + "\" must be an absolute path");
    if (!on_this_machine) spec.data_dir.clear();  // another server's, in a file all servers share
  }
  spec.bindir = n.is_set("bindir") ? n.get_string("bindir") : std::string(KESTREL_PG_BINDIR);
  const std::string fence = n.is_set("fence") ? n.get_string("fence") : std::string();
  if (!fence.empty() && fence != "stop" && fence != "sql")
    bad(option, "node " + spec.name + ": fence \"" + fence + "\" must be stop or sql");
  if (fence == "stop" && !spec.local() && on_this_machine)
    bad(option, "node " + spec.name + ": fence: stop needs data_dir (the server must be on this machine)");
  spec.fence_by_stop = fence.empty() ? spec.local() : fence == "stop" && spec.local();
  pg::Conninfo pairs = {{"host", spec.host}, {"port", spec.port}, {"dbname", spec.dbname}};
  pairs.insert(pairs.end(), shared.begin(), shared.end());
  spec.conninfo = pg::join(pairs);
  return spec;
}

}  // namespace

std::vector<NodeSpec> node_specs_from_list(const std::vector<OptionMap>& nodes, const std::string& conninfo,
                                           const std::string& this_node) {
  const std::map<std::string, std::string> shared = shared_keywords(conninfo);
  std::vector<NodeSpec> out;
  for (size_t i = 0; i < nodes.size(); ++i) {
    const std::string option = "nodes[" + std::to_string(i) + "] (" + nodes[i].where() + ")";
    const bool here = node_on_this_machine(nodes, nodes[i].get_string("name"), this_node);
    NodeSpec spec = node_spec(nodes[i], option, shared, here);
    for (const NodeSpec& other : out) {
      if (other.name == spec.name)
        bad(option, "node name \"" + spec.name + "\" is used twice (every node needs its own name)");
      if (other.host == spec.host && other.port == spec.port)
        bad(option, "node " + spec.name + " is at " + spec.host + ":" + spec.port + ", the address of node " +
                        other.name + ": each node needs its own server");
    }
    out.push_back(std::move(spec));
  }
  return out;
}

}  // namespace replicator_pg
}  // namespace kestrel
