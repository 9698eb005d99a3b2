// kestrel-store-postgres.so: exports kestrel_plugin_negotiate, nothing else.
#include <kestrel/plugin.hpp>

#include "store_postgres_component.h"

KESTREL_PLUGIN("store-postgres", "0.1.0", "Image catalog in a PostgreSQL database",
               kestrel::store_postgres::component_descriptor())
