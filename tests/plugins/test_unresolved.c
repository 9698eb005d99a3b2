/* A plugin that needs a symbol nobody provides. Lazy binding would load it
 * and crash at the first call; the host's RTLD_NOW refuses it at load. */
#include <kestrel/plugin.h>

extern int kestrel_test_symbol_that_does_not_exist(void);

KESTREL_EXPORT kestrel_result kestrel_plugin_negotiate(const kestrel_loader_info* loader, kestrel_plugin_info* out,
                                                       kestrel_status* status) {
  (void)loader;
  (void)out;
  (void)status;
  return kestrel_test_symbol_that_does_not_exist() ? KESTREL_OK : KESTREL_ERR_INTERNAL;
}
