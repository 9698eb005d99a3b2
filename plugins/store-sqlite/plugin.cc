// kestrel-store-sqlite.so: exports kestrel_plugin_negotiate, nothing else.
#include <kestrel/plugin.hpp>

#include "store_sqlite_component.h"

KESTREL_PLUGIN("store-sqlite", "0.1.0", "Image catalog in one SQLite file (WAL)",
               kestrel::store_sqlite::component_descriptor())
