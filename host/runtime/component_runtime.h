// ComponentRuntime: creates, starts, stops and destroys the components of a
// validated ComponentGraph, and serves the host API (kestrel_host_api) the
// plugins call back into.
//
// Lifecycle (DESIGN §2-3): create every component (options checked by the
// plugin: no threads, no I/O), start them in graph order (a component after
// those it references), stop them in reverse order, destroy them. All of it
// runs on the control thread; a plugin's host calls (log) may come from any
// thread.
#ifndef KESTREL_HOST_RUNTIME_COMPONENT_RUNTIME_H_
#define KESTREL_HOST_RUNTIME_COMPONENT_RUNTIME_H_

#include <kestrel/plugin.h>

#include <memory>
#include <string>
#include <vector>

#include "config/component_graph.h"
#include "config/config_document.h"

// The per-component context handed to plugins (opaque to them).
struct kestrel_host_ctx;

namespace kestrel::host {

struct HostServices;

class ComponentRuntime {
 public:
  enum class State { kNew, kCreated, kStarted, kStopped, kFailed };

  // `graph` must be free of errors. Nothing is created until create_all().
  ComponentRuntime(ComponentGraph graph, NodeSettings node, std::string config_dir);
  // Stops (5 s deadline each) and destroys whatever is still alive.
  ~ComponentRuntime();
  ComponentRuntime(const ComponentRuntime&) = delete;
  ComponentRuntime& operator=(const ComponentRuntime&) = delete;

  // Calls every component's create. Returns false with one message per
  // failure ("component 'x' (type t, plugin file.so): reason") in *errors;
  // components that were created stay created.
  bool create_all(std::vector<std::string>* errors);

  // Starts the created components in graph order. On the first failure,
  // stops those already started (reverse order) and returns false with *error.
  bool start_all(std::string* error);

  // Stops started components in reverse order; each gets `deadline_ms`
  // milliseconds. Failures are logged, never thrown. Idempotent.
  void stop_all(uint32_t deadline_ms);

  // Destroys every created component (stopping first if needed). Idempotent.
  void destroy_all();

  // Ids of components whose type provides `interface_name`, in graph order.
  std::vector<std::string> providers_of(const std::string& interface_name) const;

  // The interface `interface_name` of started component `id`. Throws
  // kestrel::Error when the component is not started or lacks it.
  kestrel_interface interface_of(const std::string& id, const std::string& interface_name) const;

  // The component's status_json, or "" when it has none.
  std::string status_json(const std::string& id) const;

  // The service table given to every plugin (static, process lifetime).
  static const kestrel_host_api* host_api();

  // The node's services (events, state store, processes), for the host's
  // own parts (the HA manager publishes events). Valid as long as *this.
  HostServices& services() { return *services_; }

  // The host context of component `id` (what its plugin passes to every
  // host_api call), or nullptr; for the host's built-in components and tests.
  kestrel_host_ctx* context_of(const std::string& id) const;

 private:
  struct Instance;
  Instance* find(const std::string& id) const;
  // After a component's stop (or failed start): no more processes, its
  // running ones killed, its event subscriptions ended.
  void end_services(Instance& inst);

  ComponentGraph graph_;
  NodeSettings node_;
  std::string config_dir_;
  std::unique_ptr<HostServices> services_;            // outlives every instance's context
  std::vector<std::unique_ptr<Instance>> instances_;  // graph order
};

}  // namespace kestrel::host

#endif  // KESTREL_HOST_RUNTIME_COMPONENT_RUNTIME_H_
