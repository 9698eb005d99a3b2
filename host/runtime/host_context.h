// kestrel_host_ctx: what a plugin's opaque host context points to, and the
// services behind kestrel_host_api (host/runtime/host_api.cc).
//
// One context per component instance, owned by the ComponentRuntime and
// valid from create() to destroy(). The services are the runtime's and
// outlive every context.
#ifndef KESTREL_HOST_RUNTIME_HOST_CONTEXT_H_
#define KESTREL_HOST_RUNTIME_HOST_CONTEXT_H_

#include <kestrel/plugin.h>

#include <memory>
#include <string>

#include "runtime/event_bus.h"
#include "runtime/process_service.h"
#include "runtime/state_store.h"

namespace Poco {
class Logger;
}

namespace kestrel::host {

class ComponentRuntime;
struct ComponentConfig;

// The node-wide services a runtime offers its components (ABI 1.3).
struct HostServices {
  explicit HostServices(const std::string& data_dir) : state(data_dir + "/host-state.db") {}
  EventBus events;
  StateStore state;  // <data_dir>/host-state.db, opened on first use
  ProcessService processes;
};

// The host's function table (static, process lifetime), filled in host_api.cc.
const kestrel_host_api* host_api_table();

}  // namespace kestrel::host

struct kestrel_host_ctx {
  kestrel::host::ComponentRuntime* runtime = nullptr;
  const kestrel::host::ComponentConfig* config = nullptr;  // the component's validated config
  Poco::Logger* logger = nullptr;                          // named after the component id
  kestrel::host::HostServices* services = nullptr;         // the runtime's
};

#endif  // KESTREL_HOST_RUNTIME_HOST_CONTEXT_H_
