/* A plugin that claims ABI CLAIM_MAJOR.CLAIM_MINOR and provides nothing: the
 * host must refuse it by its version alone. */
#include <kestrel/plugin.h>
#include <string.h>

KESTREL_EXPORT kestrel_result kestrel_plugin_negotiate(const kestrel_loader_info* loader, kestrel_plugin_info* out,
                                                       kestrel_status* status) {
  (void)loader;
  (void)status;
  out->abi_major = CLAIM_MAJOR;
  out->abi_minor = CLAIM_MINOR;
  out->name = "test-bad-abi";
  out->version = "9.9.9";
  out->description = "claims an ABI the host does not support";
  out->components = NULL;
  out->component_count = 0;
  return KESTREL_OK;
}
