// The host's service table (kestrel_host_api): the C functions plugins call
// back into, each a thin adapter from the C ABI to a host service. Every
// adapter checks its pointers, never throws (exceptions become a result and
// a status message) and follows plugin.h's thread rules.
#include <cstdlib>

#include <Poco/Logger.h>

#include <kestrel/plugin.hpp>

#include "config/component_graph.h"
#include "runtime/component_runtime.h"
#include "runtime/host_context.h"
#include "runtime/metrics_registry.h"

namespace kestrel::host {
namespace {

// Runs fn, turning a kestrel::Error or any exception into a result + status.
template <class Fn>
kestrel_result adapt(kestrel_status* status, Fn&& fn) noexcept {
  try {
    return fn();
  } catch (const Error& e) {
    return set_status(status, e.code(), e.retryable(), e.what());
  } catch (const std::exception& e) {
    return set_status(status, KESTREL_ERR_INTERNAL, false, e.what());
  } catch (...) {
    return set_status(status, KESTREL_ERR_INTERNAL, false, "unknown exception");
  }
}

bool usable(const kestrel_host_ctx* ctx) { return ctx && ctx->config && ctx->services; }
const std::string& owner(const kestrel_host_ctx* ctx) { return ctx->config->id; }

// ---- 1.0: logging and lookup ----

void host_log(kestrel_host_ctx* ctx, kestrel_log_level level, const char* message) {
  if (!ctx || !ctx->logger || !message) return;
  Poco::Logger& log = *ctx->logger;
  switch (level) {
    case KESTREL_LOG_TRACE: log.trace(message); break;
    case KESTREL_LOG_DEBUG: log.debug(message); break;
    case KESTREL_LOG_INFO: log.information(message); break;
    case KESTREL_LOG_WARNING: log.warning(message); break;
    default: log.error(message); break;
  }
}

// `option_name` is "name" (a REF option) or "name[i]" (item i of a REF_LIST).
kestrel_result host_lookup(kestrel_host_ctx* ctx, const char* option_name, const char* interface_name,
                           kestrel_interface* out, kestrel_status* status) {
  if (!ctx || !ctx->config || !option_name || !interface_name || !out)
    return set_status(status, KESTREL_ERR_INVALID, false, "lookup: null argument");
  std::string name = option_name;
  long index = -1;
  const size_t bracket = name.find('[');
  if (bracket != std::string::npos && name.size() > bracket + 2 && name.back() == ']') {
    char* end = nullptr;
    index = std::strtol(name.c_str() + bracket + 1, &end, 10);
    if (end != name.c_str() + name.size() - 1 || index < 0)
      return set_status(status, KESTREL_ERR_INVALID, false, ("lookup: bad item index in '" + name + "'").c_str());
    name.resize(bracket);
  }
  const OptionValue* v = ctx->config->value(name);
  if (!v)
    return set_status(status, KESTREL_ERR_INVALID, false,
                      ("lookup: '" + name + "' is not an option of this component").c_str());
  const bool list = v->type == KESTREL_OPT_REF_LIST;
  if ((v->type != KESTREL_OPT_REF && !list) || (index >= 0) != list)
    return set_status(status, KESTREL_ERR_INVALID, false,
                      ("lookup: option '" + std::string(option_name) + "' is not " +
                       (list ? "an item of a reference list (use name[i])" : "a reference"))
                          .c_str());
  const std::string target = list ? (static_cast<size_t>(index) < v->list.size() ? v->list[index] : "") : v->text;
  if (!v->is_set || target.empty())
    return set_status(status, KESTREL_ERR_NOT_FOUND, false,
                      ("lookup: option '" + std::string(option_name) + "' is not set").c_str());
  return adapt(status, [&] {
    kestrel_interface ref = ctx->runtime->interface_of(target, interface_name);
    copy_out(out, ref);
    return KESTREL_OK;
  });
}

// ---- 1.1: metrics ----

kestrel_metric* host_metric_register(kestrel_host_ctx* ctx, int32_t type, const char* name, const char* help,
                                     const char* labels, const double* buckets, size_t bucket_count,
                                     kestrel_status* status) {
  if (!ctx || !ctx->config || !name) {
    set_status(status, KESTREL_ERR_INVALID, false, "metric_register: null argument");
    return nullptr;
  }
  std::string error;
  kestrel_metric* m = MetricsRegistry::global().add(
      ctx->config->id, type, name, help ? help : "", labels ? labels : "",
      buckets ? std::vector<double>(buckets, buckets + bucket_count) : std::vector<double>(), &error);
  if (!m) set_status(status, KESTREL_ERR_INVALID, false, error.c_str());
  return m;
}

// ---- 1.3: events ----

kestrel_result host_event_publish(kestrel_host_ctx* ctx, const char* topic, const char* json, kestrel_status* status) {
  if (!usable(ctx) || !topic || !json) return set_status(status, KESTREL_ERR_INVALID, false, "event_publish: null argument");
  return adapt(status, [&] {
    std::string error;
    if (!ctx->services->events.publish(topic, owner(ctx), json, &error)) throw Error(KESTREL_ERR_INVALID, error);
    return KESTREL_OK;
  });
}

kestrel_subscription* host_event_subscribe(kestrel_host_ctx* ctx, const char* topic, uint32_t queue_capacity,
                                           kestrel_event_fn fn, void* fn_ctx, kestrel_status* status) {
  if (!usable(ctx) || !topic || !fn) {
    set_status(status, KESTREL_ERR_INVALID, false, "event_subscribe: null argument");
    return nullptr;
  }
  std::string error;
  const EventBus::Id id = ctx->services->events.subscribe(
      owner(ctx), topic, queue_capacity,
      [fn, fn_ctx](const Event& e) { fn(fn_ctx, e.topic.c_str(), e.source.c_str(), e.json.c_str(), e.json.size()); },
      &error);
  if (id == 0) set_status(status, KESTREL_ERR_INVALID, false, error.c_str());
  // The handle is the id, never a pointer: a handle used after the host
  // ended its subscription (at the component's stop) is simply unknown.
  return reinterpret_cast<kestrel_subscription*>(static_cast<uintptr_t>(id));
}

void host_event_unsubscribe(kestrel_subscription* subscription) {
  EventBus::unsubscribe(static_cast<EventBus::Id>(reinterpret_cast<uintptr_t>(subscription)));
}

uint64_t host_event_dropped(const kestrel_subscription* subscription) {
  return EventBus::dropped(static_cast<EventBus::Id>(reinterpret_cast<uintptr_t>(subscription)));
}

// ---- 1.3: key-value store ----

kestrel_result host_kv_get(kestrel_host_ctx* ctx, const char* key, kestrel_write_fn sink_fn, void* sink,
                           uint64_t* version, kestrel_status* status) {
  if (!usable(ctx) || !key) return set_status(status, KESTREL_ERR_INVALID, false, "kv_get: null argument");
  return adapt(status, [&] {
    std::optional<StateStore::Entry> e = ctx->services->state.get(owner(ctx), key);
    if (!e) return set_status(status, KESTREL_ERR_NOT_FOUND, false, ("kv_get: no key '" + std::string(key) + "'").c_str());
    if (version) *version = e->version;
    if (sink_fn) sink_fn(sink, e->value.data(), e->value.size());
    return KESTREL_OK;
  });
}

kestrel_result host_kv_put(kestrel_host_ctx* ctx, const char* key, const void* value, size_t length,
                           uint64_t* version, kestrel_status* status) {
  if (!usable(ctx) || !key || (!value && length)) return set_status(status, KESTREL_ERR_INVALID, false, "kv_put: null argument");
  return adapt(status, [&] {
    const uint64_t v = ctx->services->state.put(owner(ctx), key, std::string(static_cast<const char*>(value), length));
    if (version) *version = v;
    return KESTREL_OK;
  });
}

kestrel_result host_kv_compare_and_set(kestrel_host_ctx* ctx, const char* key, uint64_t expected_version,
                                       const void* value, size_t length, uint64_t* version, kestrel_status* status) {
  if (!usable(ctx) || !key || (!value && length))
    return set_status(status, KESTREL_ERR_INVALID, false, "kv_compare_and_set: null argument");
  return adapt(status, [&] {
    uint64_t v = 0;
    const bool ok = ctx->services->state.compare_and_set(owner(ctx), key, expected_version,
                                                         std::string(static_cast<const char*>(value), length), &v);
    if (version) *version = v;
    if (!ok)
      return set_status(status, KESTREL_ERR_CONFLICT, true,
                        ("kv_compare_and_set: key '" + std::string(key) + "' is at version " + std::to_string(v) +
                         ", not " + std::to_string(expected_version))
                            .c_str());
    return KESTREL_OK;
  });
}

kestrel_result host_kv_delete(kestrel_host_ctx* ctx, const char* key, kestrel_status* status) {
  if (!usable(ctx) || !key) return set_status(status, KESTREL_ERR_INVALID, false, "kv_delete: null argument");
  return adapt(status, [&] {
    if (!ctx->services->state.remove(owner(ctx), key))
      return set_status(status, KESTREL_ERR_NOT_FOUND, false, ("kv_delete: no key '" + std::string(key) + "'").c_str());
    return KESTREL_OK;
  });
}

kestrel_result host_kv_list(kestrel_host_ctx* ctx, const char* prefix, kestrel_kv_fn fn, void* fn_ctx,
                            kestrel_status* status) {
  if (!usable(ctx) || !fn) return set_status(status, KESTREL_ERR_INVALID, false, "kv_list: null argument");
  return adapt(status, [&] {
    ctx->services->state.list(owner(ctx), prefix ? prefix : "", [&](const std::string& k, const StateStore::Entry& e) {
      return fn(fn_ctx, k.c_str(), e.value.data(), e.value.size(), e.version) == 0;
    });
    return KESTREL_OK;
  });
}

// ---- 1.3: processes ----

kestrel_result host_process_run(kestrel_host_ctx* ctx, const kestrel_process_request* raw, kestrel_write_fn sink_fn,
                                void* sink, kestrel_process_result* out, kestrel_status* status) {
  if (!usable(ctx) || !raw || !out) return set_status(status, KESTREL_ERR_INVALID, false, "process_run: null argument");
  return adapt(status, [&] {
    const kestrel_process_request r = copy_in(raw);
    ProcessService::Request req;
    for (size_t i = 0; i < r.argc; ++i) {
      if (!r.argv || !r.argv[i]) throw Error(KESTREL_ERR_INVALID, "process_run: argv[" + std::to_string(i) + "] is NULL");
      req.argv.emplace_back(r.argv[i]);
    }
    for (size_t i = 0; i < r.env_count; ++i)
      if (r.env && r.env[i]) req.env.emplace_back(r.env[i]);
    req.run_as = r.run_as ? r.run_as : "";
    req.working_dir = r.working_dir ? r.working_dir : "";
    req.timeout_ms = r.timeout_ms;
    req.output_limit = r.output_limit;
    const ProcessService::Result res = ctx->services->processes.run(
        owner(ctx), req, [&](const char* data, size_t n) {
          if (sink_fn) sink_fn(sink, data, n);
        });
    kestrel_process_result full;
    std::memset(&full, 0, sizeof full);
    full.struct_size = sizeof full;
    full.exit_code = res.exit_code;
    full.timed_out = res.timed_out ? 1 : 0;
    full.cancelled = res.cancelled ? 1 : 0;
    full.output_truncated = res.output_truncated ? 1 : 0;
    full.output_bytes = res.output_bytes;
    full.duration_ms = res.duration_ms;
    full.pid = res.pid;
    copy_out(out, full);
    return KESTREL_OK;
  });
}

// One slot per line, in plugin.h's order (nginx's style).
const kestrel_host_api kHostApi = {
    sizeof(kestrel_host_api),     // struct_size
    KESTREL_ABI_MAJOR,            // abi_major
    KESTREL_ABI_MINOR,            // abi_minor
    &host_log,                    // log                 1.0, any thread
    &host_lookup,                 // lookup              1.0, control thread
    &host_metric_register,        // metric_register     1.1, control thread
    &MetricsRegistry::add_value,  // metric_add          1.1, any thread
    &MetricsRegistry::set_value,  // metric_set          1.1, any thread
    &MetricsRegistry::observe,    // metric_observe      1.1, any thread
    &host_event_publish,          // event_publish       1.3, any thread
    &host_event_subscribe,        // event_subscribe     1.3, control thread
    &host_event_unsubscribe,      // event_unsubscribe   1.3, any thread
    &host_event_dropped,          // event_dropped       1.3, any thread
    &host_kv_get,                 // kv_get              1.3, any thread
    &host_kv_put,                 // kv_put              1.3, any thread
    &host_kv_compare_and_set,     // kv_compare_and_set  1.3, any thread
    &host_kv_delete,              // kv_delete           1.3, any thread
    &host_kv_list,                // kv_list             1.3, any thread
    &host_process_run,            // process_run         1.3, any thread
};

}  // namespace

const kestrel_host_api* host_api_table() { return &kHostApi; }

}  // namespace kestrel::host
