/* A plugin built for ABI 1.0, as an older release of the SDK would build it:
 * it knows nothing of the 1.1 metrics and must still load and run on a 1.1
 * host. Component type test-abi-1-0 logs through the 1.0 host API. */
#include <kestrel/plugin.h>
#include <stdlib.h>
#include <string.h>

typedef struct instance {
  const kestrel_host_api* host;
  kestrel_host_ctx* ctx;
} instance;

static kestrel_result create(const kestrel_create_args* args, void** out, kestrel_status* status) {
  (void)status;
  instance* self = calloc(1, sizeof *self);
  if (!self) return KESTREL_ERR_INTERNAL;
  self->host = args->host;
  self->ctx = args->host_ctx;
  *out = self;
  return KESTREL_OK;
}
static kestrel_result start(void* inst, kestrel_status* status) {
  instance* self = inst;
  (void)status;
  self->host->log(self->ctx, KESTREL_LOG_INFO, "ABI 1.0 component started");
  return KESTREL_OK;
}
static kestrel_result stop(void* inst, uint32_t deadline_ms, kestrel_status* status) {
  (void)inst;
  (void)deadline_ms;
  (void)status;
  return KESTREL_OK;
}
static void destroy(void* inst) { free(inst); }
static const void* get_interface(void* inst, const char* name) {
  (void)inst;
  (void)name;
  return NULL;
}

/* The 1.0 layout of the ops table: every field of 1.0, nothing newer. */
static const kestrel_component_ops ops = {sizeof(kestrel_component_ops), create, start, stop, destroy, get_interface,
                                          NULL, NULL};
static const kestrel_component_desc components[] = {
    {sizeof(kestrel_component_desc), "test-abi-1-0", "a component built against ABI 1.0", NULL, 0, NULL, 0, &ops}};

KESTREL_EXPORT kestrel_result kestrel_plugin_negotiate(const kestrel_loader_info* loader, kestrel_plugin_info* out,
                                                       kestrel_status* status) {
  (void)status;
  if (loader->abi_major != 1) return KESTREL_ERR_ABI;
  out->abi_major = 1;
  out->abi_minor = 0;
  out->name = "test-abi-1-0";
  out->version = "1.0.0";
  out->description = "built for ABI 1.0";
  out->components = components;
  out->component_count = 1;
  return KESTREL_OK;
}
