// Option table of store-sqlite; it doubles as the documentation of the options.
#include "store_sqlite_component.h"

#include <kestrel/plugin.hpp>

#include "sqlite_store.h"

namespace kestrel {
namespace store_sqlite {
namespace {

// A node of the cluster's `nodes` list, for a store that reads its file
// from there (nodes: catalog): only the keys this store needs.
const kestrel_option_desc kNodeFields[] = {
    option("name", KESTREL_OPT_STRING, nullptr, "node name", KESTREL_OPTION_REQUIRED | KESTREL_OPTION_UNIQUE),
    option("path", KESTREL_OPT_PATH, nullptr, "the node's SQLite catalog file"),
};

const kestrel_option_desc kOptions[] = {
    option("path", KESTREL_OPT_PATH, nullptr,
           "SQLite catalog file (default: catalog.db); relative paths are resolved against the node's data dir; "
           "with nodes, the node's path instead"),
    map_list("nodes", kNodeFields,
             "the id of the component holding the nodes list (nodes: catalog), or the list itself: the file is "
             "the path of the node named by `node`"),
    option("node", KESTREL_OPT_STRING, nullptr, "with nodes: the node this store opens (default: the component id)"),
    option("synchronous", KESTREL_OPT_STRING, "full",
           "full: an acknowledged write survives power loss; normal: it survives a crash of the process only"),
    option("busy_timeout", KESTREL_OPT_DURATION, "5s",
           "how long a write waits for another process's lock, and a read for a free reader connection"),
    option("readers", KESTREL_OPT_INT, "4", "reader connections (1-64), so reads never wait behind writes"),
};

}  // namespace

const kestrel_component_desc& component_descriptor() {
  static const kestrel_component_desc desc =
      describe<SqliteStore>("store-sqlite", "Image catalog in one SQLite file (WAL)", kOptions);
  return desc;
}

}  // namespace store_sqlite
}  // namespace kestrel
