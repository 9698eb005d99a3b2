// kestrel/plugin.hpp — header-only C++17 wrapper over kestrel/plugin.h.
//
// A plugin author writes one class per component type, derived from
// kestrel::Component and from the provider classes of the interfaces it
// offers (kestrel::CatalogProvider, kestrel::BlobStoreProvider,
// kestrel::CrawlerProvider, kestrel::ReplicatorProvider,
// kestrel::CoordinatorProvider), and one
// KESTREL_PLUGIN(...) line:
//
//   class MyStore : public kestrel::Component, public kestrel::CatalogProvider {
//    public:
//     explicit MyStore(const kestrel::CreateArgs& args);   // parse options; throw kestrel::Error
//     ...
//   };
//   static const kestrel_option_desc kOptions[] = {
//       kestrel::option("path", KESTREL_OPT_PATH, "catalog.db", "SQLite file"),
//   };
//   static const char* const kProvides[] = {KESTREL_IFACE_CATALOG_V1};
//   KESTREL_PLUGIN("store-x", "0.1.0", "An example store",
//                  kestrel::describe<MyStore>("store-x", "A catalog", kProvides, kOptions))
//
// Every exception thrown by plugin code is caught at the C boundary and turned
// into a kestrel_result plus a kestrel_status message. Client classes
// (CatalogClient, BlobStoreClient, CrawlerClient) do the reverse for callers:
// a failed C call becomes a kestrel::Error.
#ifndef KESTREL_PLUGIN_HPP
#define KESTREL_PLUGIN_HPP

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
  // provider classes this object derives from (see provider_table()).
  virtual const void* interface_table(const char* interface_name);
};

// ----- kestrel.catalog.v1 --------------------------------------------------

// Implement this to provide kestrel.catalog.v1. Any thread may call, concurrently.
class CatalogProvider {
 public:
  virtual ~CatalogProvider() = default;
  // Commits ops atomically; returns the commit position (see kestrel_catalog_v1.write).
  virtual uint64_t catalog_write(uint64_t epoch, const std::vector<kestrel_catalog_op>& ops) = 0;
  // Streams matching rows to fn (return false from fn to stop).
  virtual void catalog_read_images(uint64_t epoch, const kestrel_image_query& query,
                                   const std::function<bool(const kestrel_image_row&)>& fn) = 0;
  // crawl_sessions.id for session_key; throws Error(NOT_FOUND) when absent.
  virtual int64_t catalog_session_id(uint64_t epoch, const std::string& session_key) = 0;
  // Number of rows matching query.
  virtual uint64_t catalog_count_images(uint64_t epoch, const kestrel_image_query& query) = 0;
  // ABI 1.3: failover_events rows, newest first, at most limit (0: all). Default: UNSUPPORTED.
  virtual void catalog_read_failover_events(uint64_t /*epoch*/, uint32_t /*limit*/,
                                            const std::function<bool(int64_t, const kestrel_failover_record&)>& /*fn*/) {
    throw Error(KESTREL_ERR_UNSUPPORTED, "this catalog keeps no failover history");
  }
  // ABI 1.3: cluster_state's epoch and primary_node ("" if none). Default: UNSUPPORTED.
  virtual void catalog_cluster_state(uint64_t* /*epoch*/, std::string* /*primary*/) {
    throw Error(KESTREL_ERR_UNSUPPORTED, "this catalog does not report its cluster state");
  }

  static const kestrel_catalog_v1* table();
};

// Caller side of kestrel.catalog.v1; throws Error on failure.
class CatalogClient {
 public:
  CatalogClient() = default;
  explicit CatalogClient(const kestrel_interface& ref)
      : vt_(static_cast<const kestrel_catalog_v1*>(ref.vtable)), inst_(ref.instance) {}
  explicit operator bool() const { return vt_ != nullptr; }

  uint64_t write(uint64_t epoch, const kestrel_catalog_op* ops, size_t count) const {
    uint64_t pos = 0;
    kestrel_status st = make_status();
    check(vt_->write(inst_, epoch, ops, count, &pos, &st), st, "catalog write");
    return pos;
  }
  void read_images(uint64_t epoch, const kestrel_image_query& query,
                   const std::function<bool(const kestrel_image_row&)>& fn) const {
    kestrel_status st = make_status();
    struct Ctx {
      const std::function<bool(const kestrel_image_row&)>* fn;
      std::exception_ptr error;
    } ctx{&fn, nullptr};
    auto cb = [](void* c, const kestrel_image_row* row) -> int {
      auto* x = static_cast<Ctx*>(c);
      try {
        kestrel_image_row r = copy_in(row);
        return (*x->fn)(r) ? 0 : 1;
      } catch (...) {
        x->error = std::current_exception();
        return 1;
      }
    };
    kestrel_result rc = vt_->read_images(inst_, epoch, &query, cb, &ctx, &st);
    if (ctx.error) std::rethrow_exception(ctx.error);
    check(rc, st, "catalog read");
  }
  int64_t session_id(uint64_t epoch, const std::string& key) const {
    int64_t id = 0;
    kestrel_status st = make_status();
    check(vt_->session_id(inst_, epoch, key.c_str(), &id, &st), st, "catalog session lookup");
    return id;
  }
  uint64_t count_images(uint64_t epoch, const kestrel_image_query& query) const {
    uint64_t n = 0;
    kestrel_status st = make_status();
    check(vt_->count_images(inst_, epoch, &query, &n, &st), st, "catalog count");
    return n;
  }
  // ABI 1.3 calls: UNSUPPORTED when the store predates them.
  void read_failover_events(uint64_t epoch, uint32_t limit,
                            const std::function<bool(int64_t, const kestrel_failover_record&)>& fn) const {
    if (!KESTREL_HAS(vt_, kestrel_catalog_v1, read_failover_events) || !vt_->read_failover_events)
      throw Error(KESTREL_ERR_UNSUPPORTED, "this catalog keeps no failover history (built before SDK 1.3)");
    kestrel_status st = make_status();
    struct Ctx {
      const std::function<bool(int64_t, const kestrel_failover_record&)>* fn;
      std::exception_ptr error;
    } ctx{&fn, nullptr};
    auto cb = [](void* c, int64_t id, const kestrel_failover_record* rec) -> int {
      auto* x = static_cast<Ctx*>(c);
      try {
        kestrel_failover_record r = copy_in(rec);
        return (*x->fn)(id, r) ? 0 : 1;
      } catch (...) {
        x->error = std::current_exception();
        return 1;
      }
    };
    kestrel_result rc = vt_->read_failover_events(inst_, epoch, limit, cb, &ctx, &st);
    if (ctx.error) std::rethrow_exception(ctx.error);
    check(rc, st, "failover history read");
  }
  void cluster_state(uint64_t* epoch, std::string* primary) const {
    if (!KESTREL_HAS(vt_, kestrel_catalog_v1, cluster_state) || !vt_->cluster_state)
      throw Error(KESTREL_ERR_UNSUPPORTED, "this catalog does not report its cluster state (built before SDK 1.3)");
    char buf[256] = {0};
    kestrel_status st = make_status();
    check(vt_->cluster_state(inst_, epoch, buf, sizeof buf, &st), st, "cluster state read");
    *primary = buf;
  }

 private:
  const kestrel_catalog_v1* vt_ = nullptr;
  void* inst_ = nullptr;
};

// ----- kestrel.blobstore.v1 ------------------------------------------------

// One open upload of a provider. Owned by the provider; commit() or abort() ends it.
class BlobWriter {
 public:
  virtual ~BlobWriter() = default;
  virtual void append(const void* data, size_t length) = 0;
  // Returns the relative path of the committed blob.
  virtual std::string commit(const std::string& sha256, const std::string& extension) = 0;
  // ABI 1.2 group commit: durable only after the store's next blob_sync()
  // (plugin.h, commit_deferred). By default as durable as commit().
  virtual std::string commit_deferred(const std::string& sha256, const std::string& extension) {
    return commit(sha256, extension);
  }
  virtual void abort() noexcept = 0;
};

// Implement this to provide kestrel.blobstore.v1. Any thread may call.
class BlobStoreProvider {
 public:
  virtual ~BlobStoreProvider() = default;
  virtual std::unique_ptr<BlobWriter> blob_begin() = 0;
  virtual bool blob_exists(const std::string& path) = 0;
  virtual bool blob_remove(const std::string& path) = 0;  // false: it did not exist
  virtual std::string blob_root() = 0;
  // ABI 1.2: makes every commit_deferred so far durable. Nothing to do for a
  // store whose commit_deferred is commit.
  virtual void blob_sync() {}

  static const kestrel_blobstore_v1* table();
};

// Caller side of kestrel.blobstore.v1. An Upload aborts itself unless committed.
class BlobStoreClient {
 public:
  class Upload {
   public:
    Upload(const kestrel_blobstore_v1* vt, kestrel_blob_writer* w) : vt_(vt), w_(w) {}
    Upload(Upload&& o) noexcept : vt_(o.vt_), w_(o.w_) { o.w_ = nullptr; }
    Upload(const Upload&) = delete;
    Upload& operator=(const Upload&) = delete;
    Upload& operator=(Upload&&) = delete;
    ~Upload() { abort(); }
    void append(const void* data, size_t length) {
      kestrel_status st = make_status();
      check(vt_->append(w_, data, length, &st), st, "blob append");
    }
    std::string commit(const std::string& sha256, const std::string& extension) {
      return commit_with(vt_->commit, sha256, extension);
    }
    // Group commit (ABI 1.2): the file is durable after the store's next
    // sync(). A store older than 1.2 commits durably at once.
    std::string commit_deferred(const std::string& sha256, const std::string& extension) {
      const bool has = KESTREL_HAS(vt_, kestrel_blobstore_v1, commit_deferred) && vt_->commit_deferred;
      return commit_with(has ? vt_->commit_deferred : vt_->commit, sha256, extension);
    }
    void abort() noexcept {
      if (w_) vt_->abort(w_);
      w_ = nullptr;
    }

   private:
    using CommitFn = kestrel_result (*)(kestrel_blob_writer*, const char*, const char*, char*, size_t,
                                        kestrel_status*);
    std::string commit_with(CommitFn fn, const std::string& sha256, const std::string& extension) {
      char path[1024] = {0};
      kestrel_status st = make_status();
      kestrel_blob_writer* w = w_;
      w_ = nullptr;  // a commit frees the writer whatever the result
      check(fn(w, sha256.c_str(), extension.c_str(), path, sizeof path, &st), st, "blob commit");
      return path;
    }

    const kestrel_blobstore_v1* vt_;
    kestrel_blob_writer* w_;
  };

  BlobStoreClient() = default;
  explicit BlobStoreClient(const kestrel_interface& ref)
      : vt_(static_cast<const kestrel_blobstore_v1*>(ref.vtable)), inst_(ref.instance) {}
  explicit operator bool() const { return vt_ != nullptr; }

  Upload begin() const {
    kestrel_blob_writer* w = nullptr;
    kestrel_status st = make_status();
    check(vt_->begin(inst_, &w, &st), st, "blob begin");
    return Upload(vt_, w);
  }
  bool exists(const std::string& path) const {
    kestrel_status st = make_status();
    kestrel_result rc = vt_->exists(inst_, path.c_str(), &st);
    if (rc == KESTREL_ERR_NOT_FOUND) return false;
    check(rc, st, "blob exists");
    return true;
  }
  // Makes every commit_deferred so far durable (ABI 1.2); a no-op for an
  // older store, whose commits are all durable already. Throws kestrel::Error.
  void sync() const {
    if (!KESTREL_HAS(vt_, kestrel_blobstore_v1, sync) || !vt_->sync) return;
    kestrel_status st = make_status();
    check(vt_->sync(inst_, &st), st, "blob sync");
  }
  bool remove(const std::string& path) const {
    kestrel_status st = make_status();
    kestrel_result rc = vt_->remove(inst_, path.c_str(), &st);
    if (rc == KESTREL_ERR_NOT_FOUND) return false;
    check(rc, st, "blob remove");
    return true;
  }
  std::string root() const {
    char buf[4096] = {0};
    kestrel_status st = make_status();
    check(vt_->root(inst_, buf, sizeof buf, &st), st, "blob root");
    return buf;
  }

 private:
  const kestrel_blobstore_v1* vt_ = nullptr;
  void* inst_ = nullptr;
};

// ----- kestrel.crawler.v1 ---------------------------------------------------

// A crawl to start (kestrel_crawl_request as C++). Empty/zero fields mean
// "as configured".
struct CrawlRequest {
  std::vector<std::string> seeds;  // absolute http(s) URLs
  std::string scope;               // "site", "host" or "domain"
  uint32_t max_depth = 0;          // link depth from the seeds
  uint64_t max_pages = 0;          // HTML pages
  uint64_t max_bytes = 0;          // body bytes
  uint32_t max_seconds = 0;        // wall-clock seconds
  int32_t robots = 0;              // 1 honour robots.txt, 2 ignore it
};

// Implement this to provide kestrel.crawler.v1. Any thread may call.
class CrawlerProvider {
 public:
  virtual ~CrawlerProvider() = default;
  virtual void crawl_start(const CrawlRequest& request) = 0;
  virtual void crawl_stop() = 0;
  // true when the crawl ended (or none runs) within timeout_ms milliseconds.
  virtual bool crawl_wait(uint32_t timeout_ms) = 0;
  virtual kestrel_crawl_progress crawl_progress() = 0;
  // JSON object: counters, errors by kind, failed URLs with reasons.
  virtual std::string crawl_report() = 0;

  static const kestrel_crawler_v1* table();
};

// Caller side of kestrel.crawler.v1; throws Error on failure.
class CrawlerClient {
 public:
  CrawlerClient() = default;
  explicit CrawlerClient(const kestrel_interface& ref)
      : vt_(static_cast<const kestrel_crawler_v1*>(ref.vtable)), inst_(ref.instance) {}
  explicit operator bool() const { return vt_ != nullptr; }

  void start(const std::vector<std::string>& seeds) const {
    CrawlRequest r;
    r.seeds = seeds;
    start(r);
  }
  void start(const CrawlRequest& request) const {
    std::vector<const char*> raw;
    for (const auto& s : request.seeds) raw.push_back(s.c_str());
    kestrel_crawl_request req;
    std::memset(&req, 0, sizeof req);
    req.struct_size = sizeof req;
    req.seeds = raw.empty() ? nullptr : raw.data();
    req.seed_count = raw.size();
    req.scope = request.scope.empty() ? nullptr : request.scope.c_str();
    req.max_depth = request.max_depth;
    req.max_pages = request.max_pages;
    req.max_bytes = request.max_bytes;
    req.max_seconds = request.max_seconds;
    req.robots = request.robots;
    kestrel_status st = make_status();
    check(vt_->crawl_start(inst_, &req, &st), st, "crawl start");
  }
  void stop() const {
    kestrel_status st = make_status();
    check(vt_->crawl_stop(inst_, &st), st, "crawl stop");
  }
  bool wait(uint32_t timeout_ms) const {
    kestrel_status st = make_status();
    kestrel_result rc = vt_->crawl_wait(inst_, timeout_ms, &st);
    if (rc == KESTREL_ERR_TIMEOUT) return false;
    check(rc, st, "crawl wait");
    return true;
  }
  kestrel_crawl_progress progress() const {
    kestrel_crawl_progress p;
    std::memset(&p, 0, sizeof p);
    p.struct_size = sizeof p;
    kestrel_status st = make_status();
    check(vt_->crawl_progress(inst_, &p, &st), st, "crawl progress");
    return p;
  }
  std::string report() const {
    std::string out;
    kestrel_status st = make_status();
    check(vt_->crawl_report(inst_, &string_sink, &out, &st), st, "crawl report");
    return out;
  }

 private:
  const kestrel_crawler_v1* vt_ = nullptr;
  void* inst_ = nullptr;
};

// ----- kestrel.replicator.v1 ------------------------------------------------

// kestrel_node_status as C++ (owned strings).
struct NodeStatus {
  std::string node;
  kestrel_node_role role = KESTREL_ROLE_UNKNOWN;
  bool healthy = false;
  int32_t priority = 0;
  std::string sync_state;       // standby only
  uint64_t lsn = 0;
  uint64_t receive_lsn = 0;
  int64_t lag_bytes = 0;        // bytes
  double write_lag_seconds = 0;
  double flush_lag_seconds = 0;
  double replay_lag_seconds = 0;
  int64_t last_replay_at_us = 0;  // UTC microseconds
  std::string detail;
};

// Implement this to provide kestrel.replicator.v1 (see plugin.h for each call).
class ReplicatorProvider {
 public:
  virtual ~ReplicatorProvider() = default;
  virtual void replicator_bootstrap(const std::string& standby, bool force) = 0;
  virtual void replicator_set_mode(kestrel_replication_mode mode, bool force) = 0;
  virtual kestrel_replication_mode replicator_mode() = 0;
  virtual std::vector<NodeStatus> replicator_node_status() = 0;
  virtual void replicator_promote(const std::string& node, uint64_t epoch, uint32_t timeout_ms) = 0;
  virtual void replicator_fence(const std::string& node) = 0;
  virtual void replicator_rejoin(const std::string& node) = 0;
  // A JSON report (see kestrel_replicator_v1.check_consistency).
  virtual std::string replicator_check_consistency(const std::string& standby) = 0;
  // ABI 1.4 (see kestrel_replicator_v1.wait_replicated). The default returns
  // at once: the servers wait themselves (PostgreSQL's synchronous commit).
  virtual void replicator_wait_replicated(const std::string& /*primary*/, uint64_t /*position*/,
                                          uint32_t /*timeout_ms*/) {}
  // ABI 1.5. A JSON report (see kestrel_replicator_v1.force_sync); the
  // default is UNSUPPORTED, and the caller then rebuilds with bootstrap.
  virtual std::string replicator_force_sync(const std::string& standby) {
    throw Error(KESTREL_ERR_UNSUPPORTED, "this replicator cannot repair " + standby + " by range");
  }
  // A JSON array (see kestrel_replicator_v1.list_conflicts).
  virtual std::string replicator_list_conflicts(uint32_t /*limit*/) { return "[]"; }

  static const kestrel_replicator_v1* table();
};

// Caller side of kestrel.replicator.v1; throws Error on failure.
class ReplicatorClient {
 public:
  ReplicatorClient() = default;
  explicit ReplicatorClient(const kestrel_interface& ref)
      : vt_(static_cast<const kestrel_replicator_v1*>(ref.vtable)), inst_(ref.instance) {}
  explicit operator bool() const { return vt_ != nullptr; }

  void bootstrap(const std::string& standby, bool force = false) const {
    kestrel_status st = make_status();
    check(vt_->bootstrap(inst_, standby.c_str(), force ? 1 : 0, &st), st, "bootstrap");
  }
  void set_mode(kestrel_replication_mode mode, bool force = false) const {
    kestrel_status st = make_status();
    check(vt_->set_mode(inst_, mode, force ? 1 : 0, &st), st, "set mode");
  }
  kestrel_replication_mode mode() const {
    int32_t m = 0;
    kestrel_status st = make_status();
    check(vt_->get_mode(inst_, &m, &st), st, "get mode");
    return static_cast<kestrel_replication_mode>(m);
  }
  std::vector<NodeStatus> node_status() const {
    std::vector<NodeStatus> out;
    kestrel_status st = make_status();
    auto cb = [](void* ctx, const kestrel_node_status* raw) -> int {
      kestrel_node_status s = copy_in(raw);
      NodeStatus n;
      n.node = s.node ? s.node : "";
      n.role = static_cast<kestrel_node_role>(s.role);
      n.healthy = s.healthy != 0;
      n.priority = s.priority;
      n.sync_state = s.sync_state ? s.sync_state : "";
      n.lsn = s.lsn;
      n.receive_lsn = s.receive_lsn;
      n.lag_bytes = s.lag_bytes;
      n.write_lag_seconds = s.write_lag_seconds;
      n.flush_lag_seconds = s.flush_lag_seconds;
      n.replay_lag_seconds = s.replay_lag_seconds;
      n.last_replay_at_us = s.last_replay_at_us;
      n.detail = s.detail ? s.detail : "";
      static_cast<std::vector<NodeStatus>*>(ctx)->push_back(std::move(n));
      return 0;
    };
    check(vt_->node_status(inst_, cb, &out, &st), st, "node status");
    return out;
  }
  void promote(const std::string& node, uint64_t epoch, uint32_t timeout_ms) const {
    kestrel_status st = make_status();
    check(vt_->promote(inst_, node.c_str(), epoch, timeout_ms, &st), st, "promote");
  }
  void fence(const std::string& node) const {
    kestrel_status st = make_status();
    check(vt_->fence(inst_, node.c_str(), &st), st, "fence");
  }
  void rejoin(const std::string& node) const {
    kestrel_status st = make_status();
    check(vt_->rejoin(inst_, node.c_str(), &st), st, "rejoin");
  }
  std::string check_consistency(const std::string& standby) const {
    std::string out;
    kestrel_status st = make_status();
    check(vt_->check_consistency(inst_, standby.c_str(), &string_sink, &out, &st), st, "consistency check");
    return out;
  }
  // Returns at once when the replicator has nothing to wait for (ABI < 1.4).
  void wait_replicated(const std::string& primary, uint64_t position, uint32_t timeout_ms) const {
    if (!KESTREL_HAS(vt_, kestrel_replicator_v1, wait_replicated) || vt_->wait_replicated == nullptr) return;
    kestrel_status st = make_status();
    check(vt_->wait_replicated(inst_, primary.c_str(), position, timeout_ms, &st), st, "wait for replication");
  }
  // ABI 1.5: the JSON report; Error(KESTREL_ERR_UNSUPPORTED) when the
  // replicator cannot repair by range (ABI < 1.5, NULL, or it says so).
  std::string force_sync(const std::string& standby) const {
    if (!KESTREL_HAS(vt_, kestrel_replicator_v1, force_sync) || vt_->force_sync == nullptr)
      throw Error(KESTREL_ERR_UNSUPPORTED, "this replicator cannot repair by range");
    std::string out;
    kestrel_status st = make_status();
    check(vt_->force_sync(inst_, standby.c_str(), &string_sink, &out, &st), st, "force-sync");
    return out;
  }
  // A JSON array; "[]" when the replicator keeps no conflicts (ABI < 1.5 or NULL).
  std::string list_conflicts(uint32_t limit) const {
    if (!KESTREL_HAS(vt_, kestrel_replicator_v1, list_conflicts) || vt_->list_conflicts == nullptr) return "[]";
    std::string out;
    kestrel_status st = make_status();
    check(vt_->list_conflicts(inst_, limit, &string_sink, &out, &st), st, "list conflicts");
    return out;
  }

 private:
  const kestrel_replicator_v1* vt_ = nullptr;
  void* inst_ = nullptr;
};

// ----- kestrel.coordinator.v1 -----------------------------------------------

// The leader lease as the coordinator answered (see
// kestrel_coordinator_v1.acquire_leadership).
struct Lease {
  bool is_leader = false;
  int64_t until_us = 0;  // UTC microseconds the lease is held until; 0 when not held
};

// Implement this to provide kestrel.coordinator.v1 (see plugin.h for each call).
class CoordinatorProvider {
 public:
  virtual ~CoordinatorProvider() = default;
  virtual Lease coordinator_acquire(const std::string& member, uint32_t ttl_ms) = 0;
  virtual void coordinator_release(const std::string& member) = 0;
  // The state's JSON text ("{}" when never set) and its version (0: never set).
  virtual std::string coordinator_get_state(uint64_t* version) = 0;
  // Returns the new version; throws Error(KESTREL_ERR_CONFLICT) when the
  // version is not `expected_version`.
  virtual uint64_t coordinator_compare_and_set(uint64_t expected_version, const std::string& state_json) = 0;
  // The version once it exceeds `after_version`; throws Error(KESTREL_ERR_TIMEOUT).
  virtual uint64_t coordinator_watch(uint64_t after_version, uint32_t timeout_ms) = 0;

  static const kestrel_coordinator_v1* table();
};

// Caller side of kestrel.coordinator.v1; throws Error on failure (CONFLICT
// from compare_and_set, TIMEOUT from watch, UNAVAILABLE when unreachable).
class CoordinatorClient {
 public:
  CoordinatorClient() = default;
  explicit CoordinatorClient(const kestrel_interface& ref)
      : vt_(static_cast<const kestrel_coordinator_v1*>(ref.vtable)), inst_(ref.instance) {}
  explicit operator bool() const { return vt_ != nullptr; }

  Lease acquire(const std::string& member, uint32_t ttl_ms) const {
    int32_t leader = 0;
    Lease l;
    kestrel_status st = make_status();
    check(vt_->acquire_leadership(inst_, member.c_str(), ttl_ms, &leader, &l.until_us, &st), st,
          "acquire leadership");
    l.is_leader = leader != 0;
    return l;
  }
  void release(const std::string& member) const {
    kestrel_status st = make_status();
    check(vt_->release_leadership(inst_, member.c_str(), &st), st, "release leadership");
  }
  std::string get_state(uint64_t* version) const {
    std::string out;
    uint64_t v = 0;
    kestrel_status st = make_status();
    check(vt_->get_state(inst_, &string_sink, &out, &v, &st), st, "get cluster state");
    if (version != nullptr) *version = v;
    return out;
  }
  uint64_t compare_and_set(uint64_t expected_version, const std::string& state_json) const {
    uint64_t v = 0;
    kestrel_status st = make_status();
    check(vt_->compare_and_set_state(inst_, expected_version, state_json.c_str(), &v, &st), st,
          "compare-and-set cluster state");
    return v;
  }
  uint64_t watch(uint64_t after_version, uint32_t timeout_ms) const {
    uint64_t v = 0;
    kestrel_status st = make_status();
    check(vt_->watch_state(inst_, after_version, timeout_ms, &v, &st), st, "watch cluster state");
    return v;
  }

 private:
  const kestrel_coordinator_v1* vt_ = nullptr;
  void* inst_ = nullptr;
};

// ---------------------------------------------------------------------------
// C trampolines (instances are always Component*)
// ---------------------------------------------------------------------------

namespace detail {

template <class P>
P& as(void* instance) {
  auto* p = dynamic_cast<P*>(static_cast<Component*>(instance));
  if (!p) throw Error(KESTREL_ERR_INTERNAL, "component does not implement this interface");
  return *p;
}

}  // namespace detail

inline const kestrel_catalog_v1* CatalogProvider::table() {
  static const kestrel_catalog_v1 vt = {
      sizeof(kestrel_catalog_v1),
      [](void* inst, uint64_t epoch, const kestrel_catalog_op* ops, size_t count, uint64_t* pos,
         kestrel_status* st) {
        return detail::guard(st, [&] {
          std::vector<kestrel_catalog_op> v;
          v.reserve(count);
          for (size_t i = 0; i < count; ++i) v.push_back(element(ops, i));
          uint64_t p = detail::as<CatalogProvider>(inst).catalog_write(epoch, v);
          if (pos) *pos = p;
        });
      },
      [](void* inst, uint64_t epoch, const kestrel_image_query* q, kestrel_image_row_fn fn, void* ctx,
         kestrel_status* st) {
        return detail::guard(st, [&] {
          kestrel_image_query query = copy_in(q);
          detail::as<CatalogProvider>(inst).catalog_read_images(
              epoch, query, [&](const kestrel_image_row& row) { return fn(ctx, &row) == 0; });
        });
      },
      [](void* inst, uint64_t epoch, const char* key, int64_t* id, kestrel_status* st) {
        return detail::guard(st, [&] {
          *id = detail::as<CatalogProvider>(inst).catalog_session_id(epoch, key ? key : "");
        });
      },
      [](void* inst, uint64_t epoch, const kestrel_image_query* q, uint64_t* n, kestrel_status* st) {
        return detail::guard(st, [&] {
          kestrel_image_query query = copy_in(q);
          *n = detail::as<CatalogProvider>(inst).catalog_count_images(epoch, query);
        });
      },
      [](void* inst, uint64_t epoch, uint32_t limit, kestrel_failover_row_fn fn, void* ctx, kestrel_status* st) {
        return detail::guard(st, [&] {
          detail::as<CatalogProvider>(inst).catalog_read_failover_events(
              epoch, limit, [&](int64_t id, const kestrel_failover_record& r) { return fn(ctx, id, &r) == 0; });
        });
      },
      [](void* inst, uint64_t* epoch, char* primary, size_t capacity, kestrel_status* st) {
        return detail::guard(st, [&] {
          std::string p;
          uint64_t e = 0;
          detail::as<CatalogProvider>(inst).catalog_cluster_state(&e, &p);
          if (epoch) *epoch = e;
          if (primary && capacity) {
            const size_t n = p.size() < capacity - 1 ? p.size() : capacity - 1;
            std::memcpy(primary, p.data(), n);
            primary[n] = '\0';
          }
        });
      },
  };
  return &vt;
}

namespace detail {
// commit / commit_deferred of a provider's writer (which it frees whatever the result).
inline kestrel_result blob_commit(kestrel_blob_writer* w, bool deferred, const char* sha, const char* ext, char* path,
                                  size_t cap, kestrel_status* st) {
  std::unique_ptr<BlobWriter> owned(reinterpret_cast<BlobWriter*>(w));
  return guard(st, [&] {
    const std::string s = sha ? sha : "", e = ext ? ext : "";
    std::string p = deferred ? owned->commit_deferred(s, e) : owned->commit(s, e);
    if (p.size() + 1 > cap) throw Error(KESTREL_ERR_INVALID, "path buffer too small");
    std::memcpy(path, p.c_str(), p.size() + 1);
  });
}
}  // namespace detail

inline const kestrel_blobstore_v1* BlobStoreProvider::table() {
  // A writer handle is a heap-allocated BlobWriter owned by this plugin.
  static const kestrel_blobstore_v1 vt = {
      sizeof(kestrel_blobstore_v1),
      [](void* inst, kestrel_blob_writer** out, kestrel_status* st) {
        return detail::guard(st, [&] {
          *out = reinterpret_cast<kestrel_blob_writer*>(detail::as<BlobStoreProvider>(inst).blob_begin().release());
        });
      },
      [](kestrel_blob_writer* w, const void* data, size_t len, kestrel_status* st) {
        return detail::guard(st, [&] { reinterpret_cast<BlobWriter*>(w)->append(data, len); });
      },
      [](kestrel_blob_writer* w, const char* sha, const char* ext, char* path, size_t cap, kestrel_status* st) {
        return detail::blob_commit(w, false, sha, ext, path, cap, st);
      },
      [](kestrel_blob_writer* w) {
        std::unique_ptr<BlobWriter> owned(reinterpret_cast<BlobWriter*>(w));
        if (owned) owned->abort();
      },
      [](void* inst, const char* path, kestrel_status* st) {
        bool found = false;
        kestrel_result rc =
            detail::guard(st, [&] { found = detail::as<BlobStoreProvider>(inst).blob_exists(path ? path : ""); });
        if (rc == KESTREL_OK && !found) return set_status(st, KESTREL_ERR_NOT_FOUND, false, "no such blob");
        return rc;
      },
      [](void* inst, const char* path, kestrel_status* st) {
        bool found = false;
        kestrel_result rc =
            detail::guard(st, [&] { found = detail::as<BlobStoreProvider>(inst).blob_remove(path ? path : ""); });
        if (rc == KESTREL_OK && !found) return set_status(st, KESTREL_ERR_NOT_FOUND, false, "no such blob");
        return rc;
      },
      [](void* inst, char* root, size_t cap, kestrel_status* st) {
        return detail::guard(st, [&] {
          std::string r = detail::as<BlobStoreProvider>(inst).blob_root();
          if (r.size() + 1 > cap) throw Error(KESTREL_ERR_INVALID, "root buffer too small");
          std::memcpy(root, r.c_str(), r.size() + 1);
        });
      },
      [](kestrel_blob_writer* w, const char* sha, const char* ext, char* path, size_t cap, kestrel_status* st) {
        return detail::blob_commit(w, true, sha, ext, path, cap, st);
      },
      [](void* inst, kestrel_status* st) {
        return detail::guard(st, [&] { detail::as<BlobStoreProvider>(inst).blob_sync(); });
      },
  };
  return &vt;
}

inline const kestrel_crawler_v1* CrawlerProvider::table() {
  static const kestrel_crawler_v1 vt = {
      sizeof(kestrel_crawler_v1),
      [](void* inst, const kestrel_crawl_request* r, kestrel_status* st) {
        return detail::guard(st, [&] {
          kestrel_crawl_request req = copy_in(r);
          CrawlRequest request;
          for (size_t i = 0; i < req.seed_count; ++i) request.seeds.emplace_back(req.seeds[i] ? req.seeds[i] : "");
          request.scope = req.scope ? req.scope : "";
          request.max_depth = req.max_depth;
          request.max_pages = req.max_pages;
          request.max_bytes = req.max_bytes;
          request.max_seconds = req.max_seconds;
          request.robots = req.robots;
          detail::as<CrawlerProvider>(inst).crawl_start(request);
        });
      },
      [](void* inst, kestrel_status* st) {
        return detail::guard(st, [&] { detail::as<CrawlerProvider>(inst).crawl_stop(); });
      },
      [](void* inst, uint32_t timeout_ms, kestrel_status* st) {
        bool done = false;
        kestrel_result rc = detail::guard(st, [&] { done = detail::as<CrawlerProvider>(inst).crawl_wait(timeout_ms); });
        if (rc == KESTREL_OK && !done) return set_status(st, KESTREL_ERR_TIMEOUT, true, "crawl still running");
        return rc;
      },
      [](void* inst, kestrel_crawl_progress* p, kestrel_status* st) {
        return detail::guard(st, [&] {
          kestrel_crawl_progress full = detail::as<CrawlerProvider>(inst).crawl_progress();
          full.struct_size = sizeof full;
          copy_out(p, full);
        });
      },
      [](void* inst, kestrel_write_fn write, void* sink, kestrel_status* st) {
        return detail::guard(st, [&] {
          std::string r = detail::as<CrawlerProvider>(inst).crawl_report();
          write(sink, r.data(), r.size());
        });
      },
  };
  return &vt;
}

inline const kestrel_replicator_v1* ReplicatorProvider::table() {
  static const kestrel_replicator_v1 vt = {
      sizeof(kestrel_replicator_v1),
      [](void* inst, const char* standby, int32_t force, kestrel_status* st) {
        return detail::guard(
            st, [&] { detail::as<ReplicatorProvider>(inst).replicator_bootstrap(standby ? standby : "", force != 0); });
      },
      [](void* inst, int32_t mode, int32_t force, kestrel_status* st) {
        return detail::guard(st, [&] {
          if (mode < KESTREL_REPLICATION_ASYNC || mode > KESTREL_REPLICATION_SYNC)
            throw Error(KESTREL_ERR_INVALID, "unknown replication mode " + std::to_string(mode));
          detail::as<ReplicatorProvider>(inst).replicator_set_mode(static_cast<kestrel_replication_mode>(mode),
                                                                   force != 0);
        });
      },
      [](void* inst, int32_t* mode, kestrel_status* st) {
        return detail::guard(st, [&] { *mode = detail::as<ReplicatorProvider>(inst).replicator_mode(); });
      },
      [](void* inst, kestrel_node_status_fn fn, void* ctx, kestrel_status* st) {
        return detail::guard(st, [&] {
          for (const NodeStatus& n : detail::as<ReplicatorProvider>(inst).replicator_node_status()) {
            kestrel_node_status s;
            std::memset(&s, 0, sizeof s);
            s.struct_size = sizeof s;
            s.node = n.node.c_str();
            s.role = n.role;
            s.healthy = n.healthy ? 1 : 0;
            s.priority = n.priority;
            s.sync_state = n.sync_state.empty() ? nullptr : n.sync_state.c_str();
            s.lsn = n.lsn;
            s.receive_lsn = n.receive_lsn;
            s.lag_bytes = n.lag_bytes;
            s.write_lag_seconds = n.write_lag_seconds;
            s.flush_lag_seconds = n.flush_lag_seconds;
            s.replay_lag_seconds = n.replay_lag_seconds;
            s.last_replay_at_us = n.last_replay_at_us;
            s.detail = n.detail.empty() ? nullptr : n.detail.c_str();
            if (fn(ctx, &s) != 0) break;
          }
        });
      },
      [](void* inst, const char* node, uint64_t epoch, uint32_t timeout_ms, kestrel_status* st) {
        return detail::guard(
            st, [&] { detail::as<ReplicatorProvider>(inst).replicator_promote(node ? node : "", epoch, timeout_ms); });
      },
      [](void* inst, const char* node, kestrel_status* st) {
        return detail::guard(st, [&] { detail::as<ReplicatorProvider>(inst).replicator_fence(node ? node : ""); });
      },
      [](void* inst, const char* node, kestrel_status* st) {
        return detail::guard(st, [&] { detail::as<ReplicatorProvider>(inst).replicator_rejoin(node ? node : ""); });
      },
      [](void* inst, const char* standby, kestrel_write_fn write, void* sink, kestrel_status* st) {
        return detail::guard(st, [&] {
          std::string r = detail::as<ReplicatorProvider>(inst).replicator_check_consistency(standby ? standby : "");
          write(sink, r.data(), r.size());
        });
      },
      [](void* inst, const char* primary, uint64_t position, uint32_t timeout_ms, kestrel_status* st) {
        return detail::guard(st, [&] {
          detail::as<ReplicatorProvider>(inst).replicator_wait_replicated(primary ? primary : "", position, timeout_ms);
        });
      },
      [](void* inst, const char* standby, kestrel_write_fn write, void* sink, kestrel_status* st) {
        return detail::guard(st, [&] {
          std::string r = detail::as<ReplicatorProvider>(inst).replicator_force_sync(standby ? standby : "");
          write(sink, r.data(), r.size());
        });
      },
      [](void* inst, uint32_t limit, kestrel_write_fn write, void* sink, kestrel_status* st) {
        return detail::guard(st, [&] {
          std::string r = detail::as<ReplicatorProvider>(inst).replicator_list_conflicts(limit);
          write(sink, r.data(), r.size());
        });
      },
  };
  return &vt;
}

inline const kestrel_coordinator_v1* CoordinatorProvider::table() {
  static const kestrel_coordinator_v1 vt = {
      sizeof(kestrel_coordinator_v1),
      [](void* inst, const char* member, uint32_t ttl_ms, int32_t* is_leader, int64_t* until_us,
         kestrel_status* st) {
        return detail::guard(st, [&] {
          const Lease l = detail::as<CoordinatorProvider>(inst).coordinator_acquire(member ? member : "", ttl_ms);
          if (is_leader) *is_leader = l.is_leader ? 1 : 0;
          if (until_us) *until_us = l.until_us;
        });
      },
      [](void* inst, const char* member, kestrel_status* st) {
        return detail::guard(st, [&] { detail::as<CoordinatorProvider>(inst).coordinator_release(member ? member : ""); });
      },
      [](void* inst, kestrel_write_fn write, void* sink, uint64_t* version, kestrel_status* st) {
        return detail::guard(st, [&] {
          uint64_t v = 0;
          const std::string s = detail::as<CoordinatorProvider>(inst).coordinator_get_state(&v);
          if (version) *version = v;
          write(sink, s.data(), s.size());
        });
      },
      [](void* inst, uint64_t expected, const char* json, uint64_t* new_version, kestrel_status* st) {
        return detail::guard(st, [&] {
          const uint64_t v = detail::as<CoordinatorProvider>(inst).coordinator_compare_and_set(expected, json ? json : "");
          if (new_version) *new_version = v;
        });
      },
      [](void* inst, uint64_t after, uint32_t timeout_ms, uint64_t* version, kestrel_status* st) {
        return detail::guard(st, [&] {
          const uint64_t v = detail::as<CoordinatorProvider>(inst).coordinator_watch(after, timeout_ms);
          if (version) *version = v;
        });
      },
  };
  return &vt;
}

inline const void* Component::interface_table(const char* name) {
  if (std::strcmp(name, KESTREL_IFACE_CATALOG_V1) == 0 && dynamic_cast<CatalogProvider*>(this))
    return CatalogProvider::table();
  if (std::strcmp(name, KESTREL_IFACE_BLOBSTORE_V1) == 0 && dynamic_cast<BlobStoreProvider*>(this))
    return BlobStoreProvider::table();
  if (std::strcmp(name, KESTREL_IFACE_CRAWLER_V1) == 0 && dynamic_cast<CrawlerProvider*>(this))
    return CrawlerProvider::table();
  if (std::strcmp(name, KESTREL_IFACE_REPLICATOR_V1) == 0 && dynamic_cast<ReplicatorProvider*>(this))
    return ReplicatorProvider::table();
  if (std::strcmp(name, KESTREL_IFACE_COORDINATOR_V1) == 0 && dynamic_cast<CoordinatorProvider*>(this))
    return CoordinatorProvider::table();
  return nullptr;
}

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

#endif  // KESTREL_PLUGIN_HPP
