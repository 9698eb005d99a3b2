#include "store_options.h"

#include <climits>

namespace kestrel {
namespace store_sqlite {

StoreOptions parse_options(const CreateArgs& args) {
  StoreOptions o;
  o.path = args.is_set("path") ? args.get_string("path") : std::string("catalog.db");
  const std::vector<OptionMap> nodes = args.get_maps("nodes");
  if (!nodes.empty()) {
    // The file comes from the node list, written once for every reader.
    if (args.is_set("path"))
      throw Error(KESTREL_ERR_INVALID, "option path: with nodes, the file is the node's path in the nodes list; "
                                       "leave path out here");
    const std::string name = args.is_set("node") ? args.get_string("node") : args.component_id();
    std::string names;
    const OptionMap* node = nullptr;
    for (const OptionMap& n : nodes) {
      names += (names.empty() ? "" : ", ") + n.get_string("name");
      if (n.get_string("name") == name) node = &n;
    }
    if (!node)
      throw Error(KESTREL_ERR_INVALID, "option node: no node named '" + name + "' in the nodes list (" + names + ")" +
                                           (args.is_set("node") ? "" : "; set node, or name the component after it"));
    if (!node->is_set("path") || node->get_string("path").empty())
      throw Error(KESTREL_ERR_INVALID, "option nodes: node " + name + " has no path (its SQLite catalog file)");
    o.path = node->get_string("path");
  } else if (args.is_set("node")) {
    throw Error(KESTREL_ERR_INVALID, "option node: needs nodes (the list it names a node of)");
  }
  if (o.path.empty()) throw Error(KESTREL_ERR_INVALID, "option path: must name a file");
  if (o.path.front() != '/') {
    // The host resolves PATH options; this only guards hosts (and tests) that do not.
    const std::string dir = args.data_dir();
    if (dir.empty())
      throw Error(KESTREL_ERR_INVALID, "option path: '" + o.path + "' is relative and no data dir is set");
    o.path = dir + (dir.back() == '/' ? "" : "/") + o.path;
  }

  const std::string sync = args.get_string("synchronous");
  if (sync == "full") {
    o.synchronous_full = true;
  } else if (sync == "normal") {
    o.synchronous_full = false;
  } else {
    throw Error(KESTREL_ERR_INVALID, "option synchronous: '" + sync + "' is not one of full, normal");
  }

  o.busy_timeout_ms = args.get_duration_ms("busy_timeout");
  if (o.busy_timeout_ms < 0 || o.busy_timeout_ms > INT_MAX)
    throw Error(KESTREL_ERR_INVALID, "option busy_timeout: " + std::to_string(o.busy_timeout_ms) +
                                         " ms is out of range (0 to " + std::to_string(INT_MAX) + " ms)");

  const int64_t readers = args.get_int("readers");
  if (readers < 1 || readers > 64)
    throw Error(KESTREL_ERR_INVALID, "option readers: " + std::to_string(readers) + " is out of range (1 to 64)");
  o.readers = static_cast<int>(readers);
  return o;
}

}  // namespace store_sqlite
}  // namespace kestrel
