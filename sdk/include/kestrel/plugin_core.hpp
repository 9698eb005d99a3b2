// kestrel/plugin_core.hpp — the core of the header-only C++17 wrapper over
// kestrel/plugin.h: errors and status, size-versioned structs, options and
// CreateArgs, Host and metrics, Component, the interface dispatch, describe()
// and KESTREL_PLUGIN. It names no interface: each lives in its own header
// under kestrel/iface/ (provider, client and C trampolines together), and
// kestrel/plugin.hpp includes the core and all of them (see its comment).
#ifndef KESTREL_PLUGIN_CORE_HPP
#define KESTREL_PLUGIN_CORE_HPP

#include <kestrel/plugin.h>

#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <exception>
#include <functional>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace kestrel {

// ---------------------------------------------------------------------------
// Errors and status
// ---------------------------------------------------------------------------

// An error with a kestrel_result code. Thrown by plugin code and by clients.
class Error : public std::runtime_error {
 public:
  Error(kestrel_result code, const std::string& message, bool retryable = false)
      : std::runtime_error(message), code_(code), retryable_(retryable) {}
  kestrel_result code() const noexcept { return code_; }
  bool retryable() const noexcept { return retryable_; }

 private:
  kestrel_result code_;
  bool retryable_;
};

// Returns a short English name for a result code ("ok", "unavailable"...).
inline const char* result_name(int code) noexcept {
  switch (code) {
    case KESTREL_OK: return "ok";
    case KESTREL_ERR_INVALID: return "invalid";
    case KESTREL_ERR_NOT_FOUND: return "not found";
    case KESTREL_ERR_IO: return "I/O error";
    case KESTREL_ERR_UNAVAILABLE: return "unavailable";
    case KESTREL_ERR_FENCED: return "fenced";
    case KESTREL_ERR_UNKNOWN_OUTCOME: return "unknown outcome";
    case KESTREL_ERR_ABI: return "ABI mismatch";
    case KESTREL_ERR_CANCELLED: return "cancelled";
    case KESTREL_ERR_NO_SPACE: return "no space";
    case KESTREL_ERR_TIMEOUT: return "timeout";
    case KESTREL_ERR_UNSUPPORTED: return "unsupported";
    case KESTREL_ERR_INTERNAL: return "internal error";
    case KESTREL_ERR_CONFLICT: return "conflict";
    case KESTREL_ERR_BUSY: return "busy";
    default: return "unknown result";
  }
}

// The name of a kestrel_crawl_state ("running", "finished"...).
inline const char* crawl_state_name(int state) noexcept {
  switch (state) {
    case KESTREL_CRAWL_IDLE: return "idle";
    case KESTREL_CRAWL_RUNNING: return "running";
    case KESTREL_CRAWL_STOPPING: return "stopping";
    case KESTREL_CRAWL_FINISHED: return "finished";
    case KESTREL_CRAWL_STOPPED: return "stopped";
    case KESTREL_CRAWL_FAILED: return "failed";
    default: return "unknown";
  }
}

// A caller-side status, zeroed, with struct_size set.
inline kestrel_status make_status() noexcept {
  kestrel_status s;
  std::memset(&s, 0, sizeof s);
  s.struct_size = sizeof s;
  return s;
}

// Fills a caller's status (may be NULL) and returns `code`. Never throws.
inline kestrel_result set_status(kestrel_status* status, kestrel_result code, bool retryable,
                                 const char* message) noexcept {
  if (status != nullptr && KESTREL_HAS(status, kestrel_status, message)) {
    status->code = code;
    status->retryable = retryable ? 1 : 0;
    std::snprintf(status->message, sizeof status->message, "%s", message ? message : "");
  }
  return code;
}

// Throws kestrel::Error when `code` is not KESTREL_OK; `what` prefixes the message.
inline void check(kestrel_result code, const kestrel_status& status, const char* what) {
  if (code == KESTREL_OK) return;
  std::string msg = what;
  msg += ": ";
  msg += status.message[0] ? status.message : result_name(code);
  throw Error(code, msg, status.retryable != 0);
}

// ---------------------------------------------------------------------------
// Size-versioned structs (plugin.h's rules), for both sides of the ABI
// ---------------------------------------------------------------------------

// Copies a received size-versioned struct into a zeroed T of our own size.
template <class T>
T copy_in(const T* src) noexcept {
  T out;
  std::memset(&out, 0, sizeof out);
  if (src != nullptr) {
    size_t n = src->struct_size < sizeof(T) ? src->struct_size : sizeof(T);
    std::memcpy(&out, src, n);
  }
  out.struct_size = sizeof(T);
  return out;
}

// Element i of an array of size-versioned structs, strided by the sender's size.
template <class T>
T element(const T* base, size_t i) noexcept {
  const uint32_t stride = base->struct_size;
  return copy_in(reinterpret_cast<const T*>(reinterpret_cast<const char*>(base) + i * stride));
}

// Writes our full struct `src` into a caller's `dst`, only the fields that fit.
template <class T>
void copy_out(T* dst, const T& src) noexcept {
  uint32_t size = dst->struct_size;
  size_t n = size < sizeof(T) ? size : sizeof(T);
  std::memcpy(dst, &src, n);
  dst->struct_size = size;
}

// A kestrel_write_fn appending to the std::string* `sink`.
inline int string_sink(void* sink, const char* data, size_t length) {
  static_cast<std::string*>(sink)->append(data, length);
  return 0;
}

namespace detail {

// Runs `fn` and converts any exception into a result + status.
template <class Fn>
kestrel_result guard(kestrel_status* status, Fn&& fn) noexcept {
  try {
    fn();
    return KESTREL_OK;
  } catch (const Error& e) {
    return set_status(status, e.code(), e.retryable(), e.what());
  } catch (const std::bad_alloc&) {
    return set_status(status, KESTREL_ERR_INTERNAL, true, "out of memory");
  } catch (const std::exception& e) {
    return set_status(status, KESTREL_ERR_INTERNAL, false, e.what());
  } catch (...) {
    return set_status(status, KESTREL_ERR_INTERNAL, false, "unknown exception");
  }
}

}  // namespace detail

// ---------------------------------------------------------------------------
// Options and host services
// ---------------------------------------------------------------------------

// Builds an option descriptor for a static option table.
constexpr kestrel_option_desc option(const char* name, kestrel_option_type type, const char* default_value,
                                     const char* description, uint32_t flags = 0,
                                     const char* interface_name = nullptr) {
  return kestrel_option_desc{sizeof(kestrel_option_desc), name, static_cast<uint32_t>(type), flags,
                             default_value, interface_name, description, nullptr, 0};
}

// A reference option: `name` must name a component providing `interface_name`.
constexpr kestrel_option_desc reference(const char* name, const char* interface_name, const char* default_id,
                                        const char* description) {
  return option(name, KESTREL_OPT_REF, default_id, description, default_id ? 0u : KESTREL_OPTION_REQUIRED,
                interface_name);
}

// A list of maps (ABI 1.3): each item is checked against `fields` (scalar
// options or string lists; KESTREL_OPTION_REQUIRED and _UNIQUE apply per
// item). `fields` must be static, like every option table.
template <size_t N>
constexpr kestrel_option_desc map_list(const char* name, const kestrel_option_desc (&fields)[N],
                                       const char* description, uint32_t flags = 0) {
  return kestrel_option_desc{sizeof(kestrel_option_desc), name, static_cast<uint32_t>(KESTREL_OPT_MAP_LIST),
                             flags, nullptr, nullptr, description, fields, N};
}

// Typed getters over a set of validated values (a component's options, or
// the fields of one item of a list of maps). Views of host memory: valid only
// during the constructor. Each getter throws Error(KESTREL_ERR_INVALID) when
// `name` is not in the schema.
class OptionReader {
 public:
  bool is_set(const char* name) const { return find(name).is_set != 0; }
  std::string get_string(const char* name) const {
    const auto& v = find(name);
    return v.text ? v.text : "";
  }
  int64_t get_int(const char* name) const { return find(name).integer; }
  double get_double(const char* name) const { return find(name).real; }
  bool get_bool(const char* name) const { return find(name).integer != 0; }
  int64_t get_duration_ms(const char* name) const { return find(name).integer; }
  uint64_t get_size_bytes(const char* name) const { return static_cast<uint64_t>(find(name).integer); }
  std::vector<std::string> get_list(const char* name) const {
    const auto& v = find(name);
    std::vector<std::string> out;
    for (size_t i = 0; i < v.list_count; ++i) out.emplace_back(v.list[i] ? v.list[i] : "");
    return out;
  }

 protected:
  const kestrel_option_value& find(const char* name) const {
    for (const auto& v : values_)
      if (v.name && std::strcmp(v.name, name) == 0) return v;
    throw Error(KESTREL_ERR_INVALID, std::string("option '") + name + "' is not in this schema");
  }
  std::vector<kestrel_option_value> values_;
};

// One item of a list of maps: its fields by name, and where it was written.
class OptionMap : public OptionReader {
 public:
  explicit OptionMap(const kestrel_option_map& raw) : where_(raw.where ? raw.where : "") {
    for (size_t i = 0; i < raw.field_count; ++i) values_.push_back(element(raw.fields, i));
  }
  // "file:line:column" of the item, for messages.
  const std::string& where() const { return where_; }

 private:
  std::string where_;
};

// One daemon per server, the rule every reader of a `nodes:` list applies:
// when `this_node` (the daemon's node.name) names one of `nodes`, only that
// node is on this machine (its data_dir is used; the others' are another
// server's, in a file all servers share); otherwise every node's data_dir
// is on this machine (one daemon manages them all). Pure.
inline bool node_on_this_machine(const std::vector<OptionMap>& nodes, const std::string& name,
                                 const std::string& this_node) {
  for (const OptionMap& n : nodes)
    if (n.get_string("name") == this_node) return name == this_node;
  return true;
}

// What a component's constructor receives: validated options and host services.
// Valid only during the constructor, except host(), which lives as long as the
// component.
class CreateArgs : public OptionReader {
 public:
  explicit CreateArgs(const kestrel_create_args* raw) : raw_(copy_in(raw)) {
    for (size_t i = 0; i < raw_.option_count; ++i) values_.push_back(element(raw_.options, i));
  }
  std::string component_id() const { return raw_.component_id ? raw_.component_id : ""; }
  std::string node_name() const { return raw_.node_name ? raw_.node_name : ""; }
  std::string data_dir() const { return raw_.data_dir ? raw_.data_dir : ""; }
  std::string config_dir() const { return raw_.config_dir ? raw_.config_dir : ""; }
  const kestrel_host_api* host() const { return raw_.host; }
  kestrel_host_ctx* host_ctx() const { return raw_.host_ctx; }

  // The items of a list of maps (ABI 1.3), in the config's order; empty when
  // unset or when the host predates ABI 1.3 (copy_in zeroed item_count).
  std::vector<OptionMap> get_maps(const char* name) const {
    const auto& v = find(name);
    std::vector<OptionMap> out;
    for (size_t i = 0; i < v.item_count; ++i) out.emplace_back(element(v.items, i));
    return out;
  }

 private:
  kestrel_create_args raw_;
};

// One metric series (ABI 1.1). A default-constructed or unregistered Metric
// ignores every call, so instrumented code needs no checks. Any thread.
class Metric {
 public:
  Metric() = default;
  Metric(const kestrel_host_api* api, kestrel_metric* m) : api_(api), m_(m) {}
  explicit operator bool() const { return m_ != nullptr; }
  void add(double v) const {  // counter: v >= 0; gauge: any sign
    if (m_) api_->metric_add(m_, v);
  }
  void set(double v) const {  // gauge
    if (m_) api_->metric_set(m_, v);
  }
  void observe(double v) const {  // histogram
    if (m_) api_->metric_observe(m_, v);
  }

 private:
  const kestrel_host_api* api_ = nullptr;
  kestrel_metric* m_ = nullptr;
};

// The host's services for one component. Cheap to copy.
class Host {
 public:
  Host() = default;
  explicit Host(const CreateArgs& args) : api_(args.host()), ctx_(args.host_ctx()) {}

  // Logs one line with the component id prefixed. Any thread.
  void log(kestrel_log_level level, const std::string& message) const {
    if (api_ && KESTREL_HAS(api_, kestrel_host_api, log) && api_->log) api_->log(ctx_, level, message.c_str());
  }
  void logf(kestrel_log_level level, const char* fmt, ...) const __attribute__((format(printf, 3, 4))) {
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    log(level, buf);
  }

  // True when the host offers metrics (ABI >= 1.1).
  bool has_metrics() const {
    return api_ && KESTREL_HAS(api_, kestrel_host_api, metric_observe) && api_->metric_register;
  }

  // Registers a metric series (see kestrel_host_api.metric_register). Throws
  // Error on a bad name or a type clash; returns an inert Metric when the
  // host has no metrics. Control thread.
  Metric metric(kestrel_metric_type type, const std::string& name, const std::string& help,
                const std::string& labels = std::string(), const std::vector<double>& buckets = {}) const {
    if (!has_metrics()) return Metric();
    kestrel_status st = make_status();
    kestrel_metric* m = api_->metric_register(ctx_, type, name.c_str(), help.c_str(), labels.c_str(),
                                              buckets.empty() ? nullptr : buckets.data(), buckets.size(), &st);
    if (!m) check(st.code ? static_cast<kestrel_result>(st.code) : KESTREL_ERR_INVALID, st, name.c_str());
    return Metric(api_, m);
  }

  // Resolves reference option `option_name` to interface `interface_name`.
  // Throws Error on failure. Control thread, from start() on.
  kestrel_interface lookup(const char* option_name, const char* interface_name) const {
    if (!api_ || !KESTREL_HAS(api_, kestrel_host_api, lookup) || !api_->lookup)
      throw Error(KESTREL_ERR_UNSUPPORTED, "host has no interface lookup");
    kestrel_interface out;
    std::memset(&out, 0, sizeof out);
    out.struct_size = sizeof out;
    kestrel_status st = make_status();
    check(api_->lookup(ctx_, option_name, interface_name, &out, &st), st, option_name);
    return out;
  }

 private:
  const kestrel_host_api* api_ = nullptr;
  kestrel_host_ctx* ctx_ = nullptr;
};

// ---------------------------------------------------------------------------
// Components
// ---------------------------------------------------------------------------

// Base of every component instance. The constructor parses options and throws
// kestrel::Error on bad input; it must not start threads or touch the network.
class Component {
 public:
  virtual ~Component() = default;
  // Opens resources, starts threads. Control thread.
  virtual void start() {}
  // Stops within deadline_ms milliseconds. Control thread. Must not throw for
  // a clean stop; a throw is reported and the host goes on stopping others.
  virtual void stop(uint32_t /*deadline_ms*/) {}
  // Cheap liveness check; throw Error when unhealthy. Any thread.
  virtual void health() {}
  // A JSON object describing the instance; empty: unsupported. Any thread.
  virtual std::string status_json() { return std::string(); }
  // The C function table for `interface_name`, or nullptr. Default: the
  // provider classes this object derives from (see "Interface dispatch").
  virtual const void* interface_table(const char* interface_name);
};

// ---------------------------------------------------------------------------
// Interface dispatch
// ---------------------------------------------------------------------------
//
// Each interface header (kestrel/iface/*.hpp) declares its interface once, in
// its provider class: `static constexpr const char* interface_name` and
// `static const <table>* table()`, and ends with one InterfaceRegistration of
// that class. Everything here is derived from those, so the core names no
// interface and adding one (kestrel.backup.v1, ...) touches only its own
// header (and the umbrella's #include list, to be in kestrel/plugin.hpp).
//
// Two ways to use it:
//  - Provides<P...> (new code): the bases, the table lookup and describe()'s
//    provides list all come from P..., checked at compile time.
//  - Component plus provider bases and an explicit provides array (older
//    code, unchanged): Component::interface_table walks the registered
//    interfaces and cross-casts, as the strcmp + dynamic_cast chain did.

namespace detail {

// The SDK's one cross-cast. Instances cross the C ABI as Component*, and a
// provider class is a sibling base of Component, so only dynamic_cast finds it.
template <class P>
P* provider_cast(Component* component) noexcept {
  return dynamic_cast<P*>(component);
}

// The provider P of an instance, for P's C trampolines.
template <class P>
P& as(void* instance) {
  auto* p = provider_cast<P>(static_cast<Component*>(instance));
  if (!p) throw Error(KESTREL_ERR_INTERNAL, "component does not implement this interface");
  return *p;
}

// One interface known to this module (.so or executable): every interface
// header included anywhere in it adds one, through InterfaceRegistration.
struct InterfaceEntry {
  const char* name;
  const void* (*table_of)(Component*);  // P::table() when the component derives from P, else nullptr
  const InterfaceEntry* next;
};

// Head of the list. Constant-initialized (nullptr), so it is valid before any
// registration runs, whatever order the files' initializers run in.
inline const InterfaceEntry* interface_list = nullptr;

// An inline variable of this type at the end of each interface header links
// P into the list during static initialization (before main, or during
// dlopen for a plugin): one entry per module, however many files include it.
template <class P>
class InterfaceRegistration {
 public:
  InterfaceRegistration() noexcept : entry_{P::interface_name, &table_of, interface_list} { interface_list = &entry_; }
  InterfaceRegistration(const InterfaceRegistration&) = delete;
  InterfaceRegistration& operator=(const InterfaceRegistration&) = delete;

 private:
  static const void* table_of(Component* c) noexcept { return provider_cast<P>(c) ? P::table() : nullptr; }
  InterfaceEntry entry_;
};

// True for the types derived from Provides<...> (see describe()).
template <class T, class = void>
struct declares_provides : std::false_type {};
template <class T>
struct declares_provides<T, std::void_t<decltype(T::provided_interfaces)>> : std::true_type {};

}  // namespace detail

// The default: the table of the interface registered under `name` when this
// object derives from its provider. Provides<> overrides it with its own list.
inline const void* Component::interface_table(const char* name) {
  for (const detail::InterfaceEntry* e = detail::interface_list; e != nullptr; e = e->next)
    if (std::strcmp(name, e->name) == 0) return e->table_of(this);
  return nullptr;
}

// A component providing the interfaces of the provider classes P... (for
// example Provides<CatalogProvider>). It is a Component and derives from
// each P, so listing the interfaces here is the one declaration: the table
// lookup below and describe()'s provides list both come from P..., and can
// not drift from the bases.
template <class... P>
class Provides : public Component, public P... {
  static_assert(sizeof...(P) > 0, "Provides<> needs at least one provider class");

 public:
  // The interface names, in the order of P... (the host treats the first as
  // the component's main interface).
  static constexpr const char* const provided_interfaces[] = {P::interface_name...};

  // P::table() for the first P named `name`; no cast, P... are our bases.
  // Override it to add a table of your own, falling back to this one.
  const void* interface_table(const char* name) override {
    const void* table = nullptr;
    (void)((std::strcmp(name, P::interface_name) == 0 && (table = P::table(), true)) || ...);
    return table;
  }
};

namespace detail {

template <class T>
const kestrel_component_ops* ops_for() {
  static const kestrel_component_ops ops = {
      sizeof(kestrel_component_ops),
      [](const kestrel_create_args* args, void** instance, kestrel_status* st) {
        *instance = nullptr;
        return guard(st, [&] {
          CreateArgs a(args);
          std::unique_ptr<Component> c(new T(a));
          *instance = c.release();
        });
      },
      [](void* inst, kestrel_status* st) { return guard(st, [&] { static_cast<Component*>(inst)->start(); }); },
      [](void* inst, uint32_t deadline_ms, kestrel_status* st) {
        return guard(st, [&] { static_cast<Component*>(inst)->stop(deadline_ms); });
      },
      [](void* inst) { delete static_cast<Component*>(inst); },
      [](void* inst, const char* name) -> const void* {
        try {
          return static_cast<Component*>(inst)->interface_table(name ? name : "");
        } catch (...) {
          return nullptr;
        }
      },
      [](void* inst, kestrel_status* st) { return guard(st, [&] { static_cast<Component*>(inst)->health(); }); },
      [](void* inst, kestrel_write_fn write, void* sink, kestrel_status* st) {
        return guard(st, [&] {
          std::string j = static_cast<Component*>(inst)->status_json();
          if (j.empty()) throw Error(KESTREL_ERR_UNSUPPORTED, "no status");
          write(sink, j.data(), j.size());
        });
      },
  };
  return &ops;
}

inline kestrel_result negotiate(const kestrel_loader_info* loader, kestrel_plugin_info* out, kestrel_status* st,
                                const char* name, const char* version, const char* description,
                                const kestrel_component_desc* components, size_t count) noexcept {
  if (loader == nullptr || out == nullptr) return set_status(st, KESTREL_ERR_INVALID, false, "null argument");
  // minor + 1 > max rather than minor > max: with minor 0 the latter trips -Wtype-limits.
  if (loader->abi_major != KESTREL_ABI_MAJOR || uint64_t{KESTREL_ABI_MINOR} + 1 > uint64_t{loader->abi_minor_max} + 1) {
    char msg[256];
    std::snprintf(msg, sizeof msg, "plugin %s needs ABI %d.%d; host offers %u.%u-%u.%u", name, KESTREL_ABI_MAJOR,
                  KESTREL_ABI_MINOR, loader->abi_major, loader->abi_minor_min, loader->abi_major,
                  loader->abi_minor_max);
    return set_status(st, KESTREL_ERR_ABI, false, msg);
  }
  kestrel_plugin_info info;
  std::memset(&info, 0, sizeof info);
  info.struct_size = sizeof info;
  info.abi_major = KESTREL_ABI_MAJOR;
  info.abi_minor = KESTREL_ABI_MINOR;
  info.name = name;
  info.version = version;
  info.description = description;
  info.components = components;
  info.component_count = count;
  copy_out(out, info);
  return KESTREL_OK;
}

}  // namespace detail

// Describes component type T for KESTREL_PLUGIN. `provides` and `options`
// must be static arrays.
template <class T, size_t NP, size_t NO>
kestrel_component_desc describe(const char* type, const char* description, const char* const (&provides)[NP],
                                const kestrel_option_desc (&options)[NO]) {
  return kestrel_component_desc{sizeof(kestrel_component_desc), type, description, provides, NP, options, NO,
                                detail::ops_for<T>()};
}

// A component type without options.
template <class T, size_t NP>
kestrel_component_desc describe(const char* type, const char* description, const char* const (&provides)[NP]) {
  return kestrel_component_desc{sizeof(kestrel_component_desc), type, description, provides, NP, nullptr, 0,
                                detail::ops_for<T>()};
}

// Describes T, derived from Provides<P...>: its provides list is
// T::provided_interfaces, so it can not drift from T's bases.
template <class T, size_t NO>
kestrel_component_desc describe(const char* type, const char* description, const kestrel_option_desc (&options)[NO]) {
  static_assert(detail::declares_provides<T>::value,
                "describe() without a provides list needs T derived from kestrel::Provides<...>");
  return kestrel_component_desc{sizeof(kestrel_component_desc), type, description, T::provided_interfaces,
                                sizeof(T::provided_interfaces) / sizeof(T::provided_interfaces[0]), options, NO,
                                detail::ops_for<T>()};
}

// The same, without options.
template <class T>
kestrel_component_desc describe(const char* type, const char* description) {
  static_assert(detail::declares_provides<T>::value,
                "describe() without a provides list needs T derived from kestrel::Provides<...>");
  return kestrel_component_desc{sizeof(kestrel_component_desc), type, description, T::provided_interfaces,
                                sizeof(T::provided_interfaces) / sizeof(T::provided_interfaces[0]), nullptr, 0,
                                detail::ops_for<T>()};
}

}  // namespace kestrel

// Defines the plugin's one exported symbol. The variadic arguments are
// kestrel_component_desc values (see kestrel::describe).
#define KESTREL_PLUGIN(NAME, VERSION, DESCRIPTION, ...)                                                    \
  extern "C" KESTREL_EXPORT kestrel_result kestrel_plugin_negotiate(                                       \
      const kestrel_loader_info* loader, kestrel_plugin_info* out, kestrel_status* status) {               \
    static const kestrel_component_desc components[] = {__VA_ARGS__};                                      \
    return ::kestrel::detail::negotiate(loader, out, status, NAME, VERSION, DESCRIPTION, components,       \
                                        sizeof(components) / sizeof(components[0]));                       \
  }

#endif  // KESTREL_PLUGIN_CORE_HPP
