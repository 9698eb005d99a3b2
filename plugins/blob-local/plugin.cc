// kestrel-blob-local.so: exports kestrel_plugin_negotiate, nothing else.
#include <kestrel/plugin.hpp>

#include "blob_local_component.h"

KESTREL_PLUGIN("blob-local", "0.1.0", "Content-addressed image files in a local folder",
               kestrel::blob_local::component_descriptor())
