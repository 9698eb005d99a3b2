/* A shared library that exports a function, but not kestrel_plugin_negotiate. */
#include <kestrel/plugin.h>

KESTREL_EXPORT int not_a_kestrel_plugin(void) { return 42; }
