/*
 * kestrel/plugin.h — the stable C ABI between the Kestrel host and its plugins.
 *
 * Rules (DESIGN §2):
 *  - Only C types cross this boundary: no C++ classes, no exceptions, no STL.
 *  - Every struct starts with `uint32_t struct_size` (sizeof of the sender's
 *    struct). Fields are only ever appended. A receiver copies into a zeroed
 *    struct of its own size, so tail fields it does not know read as zero; use
 *    KESTREL_HAS() before touching a field or callback that a later minor added.
 *  - An array of such structs is strided by its first element's struct_size,
 *    never by the reader's sizeof (the sender may be newer or older).
 *  - A struct a caller passes to be filled (progress, plugin info) carries
 *    the caller's struct_size; the callee writes only fields that fit and
 *    leaves struct_size as it is.
 *  - Memory is freed by the side that allocated it. Pointers handed to a call
 *    are borrowed for the duration of that call unless a comment says otherwise.
 *  - Results are kestrel_result codes; details go into a caller-owned
 *    kestrel_status.
 *  - Threads: lifecycle calls (negotiate, create, start, stop, destroy) come
 *    from the host's single control thread. Plugins start threads only in
 *    start() and join them in stop(). Plugins never call exit(), fork() or
 *    install signal handlers. Plugins are never unloaded while the process lives.
 *
 * ABI versions: a plugin built for major M minor m loads on a host whose major
 * is M and whose minor is >= m. Minor versions only append fields.
 *   1.0  negotiate, component descriptors with option schemas, logging and
 *        interface lookup; kestrel.catalog.v1, kestrel.blobstore.v1,
 *        kestrel.crawler.v1.
 *   1.1  metrics in kestrel_host_api (counters, gauges, histograms);
 *        crawl scope and limits in kestrel_crawl_request;
 *        kestrel.replicator.v1.
 *   1.2  group commit in kestrel.blobstore.v1 (commit_deferred, sync).
 *   1.3  option type KESTREL_OPT_MAP_LIST (a list of maps with a nested
 *        schema, kestrel_option_desc.fields, kestrel_option_value.items)
 *        and KESTREL_OPT_REF_LIST (a list of references);
 *        host services: events (publish/subscribe), a durable key-value
 *        store per component, a process service; result codes
 *        KESTREL_ERR_CONFLICT and KESTREL_ERR_BUSY.
 */
#ifndef KESTREL_PLUGIN_H
#define KESTREL_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KESTREL_ABI_MAJOR 1 /* incompatible changes bump this */
#define KESTREL_ABI_MINOR 6 /* appended fields / functions bump this */

/* Exported from a plugin: only the negotiate symbol is visible. */
#if defined(_WIN32)
#define KESTREL_EXPORT __declspec(dllexport)
#else
#define KESTREL_EXPORT __attribute__((visibility("default")))
#endif

/* True when a struct received with `struct_size` (ptr->struct_size) is large
 * enough to hold `member`, i.e. the sender knew that field. */
#define KESTREL_HAS(ptr, type, member) \
  ((ptr) != NULL && (ptr)->struct_size >= offsetof(type, member) + sizeof(((type*)0)->member))

/* ------------------------------------------------------------------------ */
/* Results and status                                                       */
/* ------------------------------------------------------------------------ */

/* One meaning per code. */
typedef enum kestrel_result {
  KESTREL_OK = 0,                /* success */
  KESTREL_ERR_INVALID = 1,       /* bad argument, option or input; do not retry as is */
  KESTREL_ERR_NOT_FOUND = 2,     /* the thing asked for does not exist */
  KESTREL_ERR_IO = 3,            /* local I/O failed (file, disk) */
  KESTREL_ERR_UNAVAILABLE = 4,   /* backend down or busy; retryable */
  KESTREL_ERR_FENCED = 5,        /* caller's epoch is older than the store's: writes refused */
  KESTREL_ERR_UNKNOWN_OUTCOME = 6, /* commit may or may not have happened; retry the idempotent write */
  KESTREL_ERR_ABI = 7,           /* ABI versions do not match */
  KESTREL_ERR_CANCELLED = 8,     /* stopped by a stop request or a deadline */
  KESTREL_ERR_NO_SPACE = 9,      /* disk or quota full */
  KESTREL_ERR_TIMEOUT = 10,      /* a wait ran out; the operation goes on */
  KESTREL_ERR_UNSUPPORTED = 11,  /* this component does not implement that call */
  KESTREL_ERR_INTERNAL = 12,     /* a bug: an exception or invariant broke inside the callee */
  /* ---- ABI 1.3 (an older peer never returns these; treat unknown codes as failures) ---- */
  KESTREL_ERR_CONFLICT = 13,     /* a compare-and-set lost: the value's version is not the one expected */
  KESTREL_ERR_BUSY = 14          /* the operation is already running (a crawl, a failover); retry after it ends */
} kestrel_result;

#define KESTREL_STATUS_MESSAGE_MAX 512 /* bytes in kestrel_status.message, NUL included */

/* Details of a failed call. Owned by the caller; the callee fills it on failure
 * and leaves it untouched on success. */
typedef struct kestrel_status {
  uint32_t struct_size;                       /* sizeof(kestrel_status) of the caller */
  int32_t code;                               /* a kestrel_result; KESTREL_OK when unset */
  int32_t retryable;                          /* 1: the same call may succeed later */
  char message[KESTREL_STATUS_MESSAGE_MAX];   /* UTF-8, NUL-terminated, truncated to fit */
} kestrel_status;

/* ------------------------------------------------------------------------ */
/* Host services (kestrel_host_api)                                         */
/* ------------------------------------------------------------------------ */

typedef enum kestrel_log_level {
  KESTREL_LOG_TRACE = 0,
  KESTREL_LOG_DEBUG = 1,
  KESTREL_LOG_INFO = 2,
  KESTREL_LOG_WARNING = 3,
  KESTREL_LOG_ERROR = 4
} kestrel_log_level;

/* Streams text (UTF-8, not NUL-terminated) to a caller's sink. Returns 0 to
 * go on, non-zero to stop early. */
typedef int (*kestrel_write_fn)(void* sink, const char* data, size_t length);

/* Opaque per-component handle the host gives to create(); valid until destroy(). */
typedef struct kestrel_host_ctx kestrel_host_ctx;

/* A reference to an interface another component provides: its function table
 * (e.g. a const kestrel_catalog_v1*) and the instance to pass to it. Both are
 * owned by the providing component and valid from start() to stop(). */
typedef struct kestrel_interface {
  uint32_t struct_size;   /* sizeof(kestrel_interface) */
  const void* vtable;     /* the interface's function table; starts with struct_size */
  void* instance;         /* first argument of every function in vtable */
} kestrel_interface;

/* Metric types (ABI 1.1), as in Prometheus. */
typedef enum kestrel_metric_type {
  KESTREL_METRIC_COUNTER = 1,   /* only goes up (e.g. bytes_total) */
  KESTREL_METRIC_GAUGE = 2,     /* goes up and down (e.g. replication lag) */
  KESTREL_METRIC_HISTOGRAM = 3  /* observations counted in buckets (e.g. request seconds) */
} kestrel_metric_type;

/* One metric series (a name plus a label set). Owned by the host, valid for
 * the process lifetime; never freed by the plugin. */
typedef struct kestrel_metric kestrel_metric;

/* ---- ABI 1.3: events ----
 * Topics are dotted lower-case names ([a-z0-9_.]+). Published by the host and
 * by plugins; the payload is one JSON object (UTF-8), whose fields each topic
 * documents here. Topics in use:
 *   failover         {"id","kind","from","to","reason","automatic","succeeded","epoch_before","epoch_after",
 *                     "started_at_us","finished_at_us","duration_ms","lost_bytes","write_pause_ms","detail"}
 *                    (published by the ha-catalog, source its component id; also when it failed)
 *   switchover       the same fields, kind "switchover"
 *   node_down        {"node","role","consecutive_failures","error"}
 *   node_up          {"node","role","response_ms"}
 *   split_brain      {"nodes":[...], "detail"}
 *   blob_stored      {"path","sha256","bytes"}               (a file became durable)
 *   backup_finished  {"node","kind","name","bytes","sha256","result"}
 *   restore_drill_failed {"node","name","error"}
 * A subscriber's callback runs on a delivery thread the host owns for that
 * subscription (never on the publisher's thread), one event at a time, in
 * publish order per publisher. Each subscription has a bounded queue: when it
 * is full the newest event is dropped for that subscriber alone and counted
 * (kestrel_events_dropped_total{component,topic}), so a slow subscriber never
 * blocks a publisher nor the other subscribers. */

/* Receives one event. `source` is the publishing component's id ("host" for
 * the host itself); `json` (length bytes, NUL-terminated) and `source` are
 * borrowed for the call. Runs on the subscription's delivery thread. */
typedef void (*kestrel_event_fn)(void* ctx, const char* topic, const char* source, const char* json,
                                 size_t length);

/* One subscription. Owned by the host; ended by event_unsubscribe, or by the
 * host right after the subscribing component's stop() returns. */
typedef struct kestrel_subscription kestrel_subscription;

/* ---- ABI 1.3: durable key-value store ----
 * One namespace per component id, kept in the node's state database
 * (<data_dir>/host-state.db, SQLite, synchronous=FULL; a file of its own, so
 * that no plugin's long transaction in another file ever blocks it): a put that returned OK
 * survives a crash of the process or the machine. Keys: UTF-8, 1-1024 bytes;
 * values: bytes, at most 16 MiB. Every successful put, compare-and-set or
 * delete of a key gives it a new version, larger than any version any key of
 * the node ever had (as etcd's mod_revision): a version is never reused, not
 * even after a delete. */

/* Receives one entry of a list: key (NUL-terminated), value (length bytes),
 * version. Borrowed for the call. Return 0 to go on, non-zero to stop. */
typedef int (*kestrel_kv_fn)(void* ctx, const char* key, const void* value, size_t length, uint64_t version);

/* ---- ABI 1.3: process service ----
 * Plugins never fork (DESIGN §2): a command runs through the host, which
 * starts it in a process group of its own, captures its output, kills the
 * whole group (SIGTERM, then SIGKILL after 2 s) on timeout or when the
 * calling component stops, and reaps it. */

/* A command to run. Borrowed for the call. */
typedef struct kestrel_process_request {
  uint32_t struct_size;        /* sizeof(kestrel_process_request) */
  const char* const* argv;     /* argv[0]: an absolute path, or a name searched in PATH; NULL-free */
  size_t argc;                 /* entries in argv, at least 1 */
  const char* const* env;      /* "NAME=value" entries added to the host's environment (replacing a
                                  variable of the same name), e.g. PGPASSWORD; NULL: none */
  size_t env_count;            /* entries in env */
  const char* run_as;          /* user name to run as (the host must be root); NULL or "": the host's user */
  const char* working_dir;     /* absolute folder to run in; NULL or "": "/" */
  uint32_t timeout_ms;         /* milliseconds before the group is killed; 0: no timeout (still killed at stop) */
  uint64_t output_limit;       /* bytes of stdout+stderr (interleaved) passed to the sink; the rest is
                                  counted and dropped; 0: 64 KiB */
} kestrel_process_request;

/* How a command ended. The caller passes it zeroed with its struct_size. */
typedef struct kestrel_process_result {
  uint32_t struct_size;        /* sizeof(kestrel_process_result) of the caller */
  int32_t exit_code;           /* exit status 0-255; 128+N when killed by signal N; -1 if it never ran */
  int32_t timed_out;           /* 1: killed after timeout_ms */
  int32_t cancelled;           /* 1: killed because the calling component stops */
  int32_t output_truncated;    /* 1: the command wrote more than output_limit bytes */
  uint64_t output_bytes;       /* bytes the command wrote to stdout+stderr in all */
  uint64_t duration_ms;        /* milliseconds from start to reaped */
  int64_t pid;                 /* the process id it had (its process group id too) */
} kestrel_process_result;

/* The host's service table. Owned by the host, valid for the process lifetime. */
typedef struct kestrel_host_api {
  uint32_t struct_size;   /* sizeof(kestrel_host_api) of the host */
  uint32_t abi_major;     /* the host's ABI major */
  uint32_t abi_minor;     /* the host's ABI minor */

  /* Writes one log line prefixed with the component's id. `message` is UTF-8,
   * borrowed. Any thread may call. */
  void (*log)(kestrel_host_ctx* ctx, kestrel_log_level level, const char* message);

  /* Resolves the reference option `option_name` of the calling component (a
   * KESTREL_OPT_REF option; "name[i]" for item i, 0-based, of a KESTREL_OPT_REF_LIST
   * option, ABI 1.3) to the interface `interface_name` of the referenced
   * component. Returns KESTREL_ERR_NOT_FOUND if the option (or item) is unset, or
   * KESTREL_ERR_INVALID if the component does not provide that interface.
   * Control thread only, from start() on (the provider is started first). */
  kestrel_result (*lookup)(kestrel_host_ctx* ctx, const char* option_name, const char* interface_name,
                           kestrel_interface* out, kestrel_status* status);

  /* ---- ABI 1.1: metrics (check with KESTREL_HAS before use) ---- */

  /* Registers one series, or returns the one already registered with the
   * same name and labels. `name`: Prometheus style [a-zA-Z_:][a-zA-Z0-9_:]*,
   * with its unit as suffix (_bytes, _seconds, _total for counters); the
   * host prefixes nothing and adds the label component="<id>". `labels`:
   * extra labels as Prometheus text without braces, e.g. standby="b" (NULL
   * or "" for none). `help`: one line. `buckets`: ascending upper bounds for
   * a histogram (NULL: the host's default 0.005 .. 10 seconds). Returns NULL
   * and fills status on a bad name or labels, or when the name is already
   * registered with another type. Control thread (create/start). */
  kestrel_metric* (*metric_register)(kestrel_host_ctx* ctx, int32_t type, const char* name, const char* help,
                                     const char* labels, const double* buckets, size_t bucket_count,
                                     kestrel_status* status);
  /* Counter: adds value (>= 0; negative values are ignored). Gauge: adds
   * value (may be negative). Any thread; never blocks. */
  void (*metric_add)(kestrel_metric* metric, double value);
  /* Gauge: sets value. Any thread; never blocks. */
  void (*metric_set)(kestrel_metric* metric, double value);
  /* Histogram: records one observation. Any thread; never blocks. */
  void (*metric_observe)(kestrel_metric* metric, double value);

  /* ---- ABI 1.3: events, key-value store, processes (check with KESTREL_HAS) ---- */

  /* Publishes `json` (one JSON object, UTF-8, NUL-terminated; copied) on
   * `topic` to every current subscriber of it. Never blocks: a subscriber
   * whose queue is full loses this event (counted). KESTREL_ERR_INVALID on a
   * bad topic name. Any thread. */
  kestrel_result (*event_publish)(kestrel_host_ctx* ctx, const char* topic, const char* json, kestrel_status* status);

  /* Subscribes `fn(fn_ctx, ...)` to `topic` ("*": every topic). The host
   * keeps up to `queue_capacity` undelivered events for it (0: 1024). Returns
   * the subscription, or NULL with status filled. Control thread, from
   * start() on. */
  kestrel_subscription* (*event_subscribe)(kestrel_host_ctx* ctx, const char* topic, uint32_t queue_capacity,
                                           kestrel_event_fn fn, void* fn_ctx, kestrel_status* status);

  /* Ends a subscription: waits for a running callback to return, drops what
   * is queued, frees it. `fn` is never called again after it returns. Never
   * call it from the subscription's own callback. Any thread; NULL is a no-op. */
  void (*event_unsubscribe)(kestrel_subscription* subscription);

  /* Events dropped so far for this subscription (its queue was full). Any thread. */
  uint64_t (*event_dropped)(const kestrel_subscription* subscription);

  /* Reads `key`: writes its value to `sink` (one call; not NUL-terminated)
   * and its version to *version (may be NULL). KESTREL_ERR_NOT_FOUND when
   * absent; KESTREL_ERR_IO when the state database fails. Any thread. */
  kestrel_result (*kv_get)(kestrel_host_ctx* ctx, const char* key, kestrel_write_fn sink_fn, void* sink,
                           uint64_t* version, kestrel_status* status);

  /* Writes `key` = value (length bytes, copied), durable on return; sets
   * *version (may be NULL) to its new version. Any thread. */
  kestrel_result (*kv_put)(kestrel_host_ctx* ctx, const char* key, const void* value, size_t length,
                           uint64_t* version, kestrel_status* status);

  /* Compare-and-set: writes `key` = value only if its version is
   * `expected_version` (0: only if the key does not exist). KESTREL_ERR_CONFLICT
   * otherwise, with *version set to the current version (0: absent). On
   * success *version is the new version. Atomic across threads and
   * processes sharing the data dir. Any thread. */
  kestrel_result (*kv_compare_and_set)(kestrel_host_ctx* ctx, const char* key, uint64_t expected_version,
                                       const void* value, size_t length, uint64_t* version, kestrel_status* status);

  /* Deletes `key` (KESTREL_ERR_NOT_FOUND if absent), durable on return. Any thread. */
  kestrel_result (*kv_delete)(kestrel_host_ctx* ctx, const char* key, kestrel_status* status);

  /* Streams every key starting with `prefix` ("" for all), in key order
   * (bytewise), to fn. Any thread. */
  kestrel_result (*kv_list)(kestrel_host_ctx* ctx, const char* prefix, kestrel_kv_fn fn, void* fn_ctx,
                            kestrel_status* status);

  /* Runs a command (see kestrel_process_request) and waits for it to end.
   * Its output goes to `sink_fn(sink, ...)` (may be NULL) as it arrives, up
   * to output_limit bytes, on the calling thread. Returns KESTREL_OK when it
   * ran, whatever its exit code (read *result); KESTREL_ERR_INVALID for a bad
   * request (empty argv, unknown user, run_as without root);
   * KESTREL_ERR_NOT_FOUND when argv[0] cannot be executed; KESTREL_ERR_CANCELLED
   * when the component is stopping. Blocks the calling thread: call it from
   * the component's own threads or from a blocking interface call, from
   * start() on. Any thread. */
  kestrel_result (*process_run)(kestrel_host_ctx* ctx, const kestrel_process_request* request,
                                kestrel_write_fn sink_fn, void* sink, kestrel_process_result* result,
                                kestrel_status* status);
} kestrel_host_api;

/* ------------------------------------------------------------------------ */
/* Options: the schema is data                                              */
/* ------------------------------------------------------------------------ */

typedef enum kestrel_option_type {
  KESTREL_OPT_STRING = 1,      /* UTF-8 text */
  KESTREL_OPT_INT = 2,         /* signed 64-bit integer */
  KESTREL_OPT_DOUBLE = 3,      /* double */
  KESTREL_OPT_BOOL = 4,        /* true/false (YAML 1.2 core: true, false) */
  KESTREL_OPT_DURATION = 5,    /* "250ms", "5s", "2m", "1h" or a bare number of seconds; delivered in milliseconds */
  KESTREL_OPT_SIZE = 6,        /* "512", "64KiB", "10MiB", "1GiB" (also kB/MB/GB = 1000^n); delivered in bytes */
  KESTREL_OPT_STRING_LIST = 7, /* a YAML sequence of strings (a single string is a list of one) */
  KESTREL_OPT_REF = 8,         /* the id of another component that must provide `interface` */
  KESTREL_OPT_PATH = 9,        /* a file path; relative paths are resolved against the node's data dir */
  /* ---- ABI 1.3 ---- */
  KESTREL_OPT_MAP_LIST = 10,   /* a YAML sequence of maps, each checked against the nested schema
                                  `fields` (scalar types and STRING_LIST only). Written in place, or as
                                  the id of another component whose option of the same name holds the
                                  list ("nodes: catalog"): one list, read by several components; a key
                                  of a shared list must be known to at least one of its readers */
  KESTREL_OPT_REF_LIST = 11    /* a YAML sequence of component ids, each of which must provide
                                  `interface`; delivered as a list; lookup() takes "name[i]" (0-based).
                                  Each target starts before the referring component */
} kestrel_option_type;

#define KESTREL_OPTION_REQUIRED 0x1u /* the config must set it; no default */
#define KESTREL_OPTION_SECRET 0x2u   /* never logged nor shown by the admin API */
#define KESTREL_OPTION_UNIQUE 0x4u   /* ABI 1.3, a field of a MAP_LIST: no two items may have the same value */

/* One option of a component type. Static data owned by the plugin. */
typedef struct kestrel_option_desc {
  uint32_t struct_size;        /* sizeof(kestrel_option_desc) */
  const char* name;            /* key in the component's YAML map, [a-z0-9_]+ */
  uint32_t type;               /* a kestrel_option_type */
  uint32_t flags;              /* KESTREL_OPTION_* bits */
  const char* default_value;   /* default in config syntax ("5s", "true", "a,b" for lists); NULL: none.
                                  MAP_LIST: NULL (an unset list is empty) */
  const char* interface_name;  /* KESTREL_OPT_REF and _REF_LIST only: the interface the targets must provide */
  const char* description;     /* one line for --help and docs: what it is and its unit */
  /* ---- ABI 1.3 ---- */
  const struct kestrel_option_desc* fields; /* MAP_LIST only: the schema of one item (an array strided by
                                               its first element's struct_size); else NULL */
  size_t field_count;          /* entries in fields */
} kestrel_option_desc;

struct kestrel_option_value;

/* One item of a MAP_LIST value (ABI 1.3). Owned by the host, valid only
 * during create(). */
typedef struct kestrel_option_map {
  uint32_t struct_size;                       /* sizeof(kestrel_option_map) */
  const struct kestrel_option_value* fields;  /* one per field of the nested schema, in schema order,
                                                 defaults applied (as for options) */
  size_t field_count;                         /* entries in fields */
  const char* where;                          /* "file:line:column" of the item, for messages */
} kestrel_option_map;

/* One validated option value handed to create(). Owned by the host, valid
 * only during create(): copy what you keep. Every option of the schema is
 * present, defaults applied; `is_set` says whether the config named it. */
typedef struct kestrel_option_value {
  uint32_t struct_size;      /* sizeof(kestrel_option_value) */
  const char* name;          /* the option's name */
  uint32_t type;             /* its kestrel_option_type */
  int32_t is_set;            /* 1: given by the config (or its default); 0: no value at all */
  const char* text;          /* STRING, REF (component id), PATH (absolute); else the source text */
  int64_t integer;           /* INT; BOOL as 0/1; DURATION in ms; SIZE in bytes */
  double real;               /* DOUBLE */
  const char* const* list;   /* STRING_LIST items, UTF-8 */
  size_t list_count;         /* number of items in list */
  /* ---- ABI 1.3 ---- */
  const kestrel_option_map* items; /* MAP_LIST items, in the config's order */
  size_t item_count;         /* number of items */
} kestrel_option_value;

/* ------------------------------------------------------------------------ */
/* Components                                                               */
/* ------------------------------------------------------------------------ */

/* What create() receives. Owned by the host, valid only during create(),
 * except `host` and `host_ctx`, which live until destroy(). */
typedef struct kestrel_create_args {
  uint32_t struct_size;                 /* sizeof(kestrel_create_args) of the host */
  const char* component_id;             /* id from the config, e.g. "catalog" */
  const char* node_name;                /* node.name from the config */
  const char* data_dir;                 /* node data dir, absolute, exists */
  const char* config_dir;               /* folder of the config file, absolute */
  const kestrel_option_value* options;  /* one entry per schema option, in schema order */
  size_t option_count;                  /* number of entries in options */
  const kestrel_host_api* host;         /* host services */
  kestrel_host_ctx* host_ctx;           /* pass to every host service call */
} kestrel_create_args;


/* A component type's operations. Static data owned by the plugin. */
typedef struct kestrel_component_ops {
  uint32_t struct_size; /* sizeof(kestrel_component_ops) */

  /* Parses and checks options, allocates the instance: no threads, no network,
   * no files written. On failure returns non-OK, fills status, sets *instance
   * to NULL. Control thread. */
  kestrel_result (*create)(const kestrel_create_args* args, void** instance, kestrel_status* status);

  /* Opens resources and starts threads. Components it references are started
   * before it. Control thread. */
  kestrel_result (*start)(void* instance, kestrel_status* status);

  /* Stops threads and closes resources within deadline_ms milliseconds
   * (in-flight work is finished or abandoned safely: no half-written record or
   * file). Called once for every successful start(), in reverse start order.
   * Control thread. */
  kestrel_result (*stop)(void* instance, uint32_t deadline_ms, kestrel_status* status);

  /* Frees the instance. Cannot fail. Control thread. */
  void (*destroy)(void* instance);

  /* Returns the function table of interface `interface_name` (one of the
   * descriptor's `provides`), or NULL. The table is static, owned by the plugin.
   * Any thread. */
  const void* (*get_interface)(void* instance, const char* interface_name);

  /* Optional (may be NULL): a cheap liveness check. Any thread. */
  kestrel_result (*health)(void* instance, kestrel_status* status);

  /* Optional (may be NULL): writes a JSON object describing the instance's
   * state to `sink`. Any thread. */
  kestrel_result (*status_json)(void* instance, kestrel_write_fn write, void* sink, kestrel_status* status);
} kestrel_component_ops;

/* Describes one component type. Static data owned by the plugin. */
typedef struct kestrel_component_desc {
  uint32_t struct_size;                   /* sizeof(kestrel_component_desc) */
  const char* type;                       /* type name used in config, e.g. "store-sqlite"; unique per host */
  const char* description;                /* one line */
  const char* const* provides;            /* interface names it provides, e.g. "kestrel.catalog.v1" */
  size_t provides_count;                  /* number of entries in provides */
  const kestrel_option_desc* options;     /* its option schema */
  size_t option_count;                    /* number of entries in options */
  const kestrel_component_ops* ops;       /* its operations */
} kestrel_component_desc;

/* ------------------------------------------------------------------------ */
/* Negotiation                                                              */
/* ------------------------------------------------------------------------ */

/* What the host offers. Owned by the host, valid during negotiate. */
typedef struct kestrel_loader_info {
  uint32_t struct_size;              /* sizeof(kestrel_loader_info) of the host */
  uint32_t abi_major;                /* the only major the host accepts */
  uint32_t abi_minor_min;            /* oldest minor the host accepts (usually 0) */
  uint32_t abi_minor_max;            /* newest minor the host implements */
  const char* host_version;          /* Kestrel's release, e.g. "0.1.0" */
  const kestrel_host_api* host;      /* the service table, valid for the process lifetime */
} kestrel_loader_info;

/* What the plugin answers. The host passes a zeroed struct with its own
 * struct_size; the plugin fills only the fields that fit (KESTREL_HAS). All
 * pointers are static data of the plugin, valid for the process lifetime. */
typedef struct kestrel_plugin_info {
  uint32_t struct_size;                         /* set by the host */
  uint32_t abi_major;                           /* ABI major the plugin was built for */
  uint32_t abi_minor;                           /* ABI minor the plugin was built for */
  const char* name;                             /* plugin name, e.g. "store-sqlite" */
  const char* version;                          /* plugin release */
  const char* description;                      /* one line */
  const kestrel_component_desc* components;     /* component types it provides */
  size_t component_count;                       /* number of entries in components */
} kestrel_plugin_info;

/* The one symbol a plugin exports. Returns KESTREL_OK and fills `out`, or an
 * error (e.g. KESTREL_ERR_ABI when the host's range excludes the plugin) with
 * `status` saying why. Called once, from the control thread, right after load. */
typedef kestrel_result (*kestrel_plugin_negotiate_fn)(const kestrel_loader_info* loader, kestrel_plugin_info* out,
                                                     kestrel_status* status);
#define KESTREL_NEGOTIATE_SYMBOL "kestrel_plugin_negotiate"

/* ------------------------------------------------------------------------ */
/* Interface kestrel.catalog.v1 — the image catalog                         */
/* ------------------------------------------------------------------------ */

#define KESTREL_IFACE_CATALOG_V1 "kestrel.catalog.v1"

/* One row of `images` as written by a caller (DESIGN §6). Strings are UTF-8,
 * borrowed for the call; NULL means SQL NULL. */
typedef struct kestrel_image_record {
  uint32_t struct_size;          /* sizeof(kestrel_image_record) */
  const char* url;               /* absolute normalized URL of the image; the upsert key; required */
  const char* source_url;        /* page that referenced it first */
  const char* filename;          /* last path segment of url, percent-decoded */
  const char* file_path;         /* path relative to the blob store's root */
  uint64_t file_size;            /* bytes */
  uint32_t width;                /* pixels */
  uint32_t height;               /* pixels */
  const char* format;            /* "png", "jpeg", "gif" or "webp" */
  const char* mime_type;         /* e.g. "image/png", derived from the sniffed format */
  const char* md5;               /* lower-case hex, 32 chars */
  const char* sha256;            /* lower-case hex, 64 chars */
  const char* etag;              /* HTTP ETag as received */
  const char* last_modified;     /* HTTP Last-Modified as received */
  int64_t category_id;           /* categories.id, 0 for none */
  int64_t crawl_session_id;      /* crawl_sessions.id, 0 for none */
  int64_t fetched_at_us;         /* UTC microseconds since the Unix epoch; sets updated_at (and created_at on insert); 0: now */
} kestrel_image_record;

/* One row of `images` as read back. Borrowed for the callback only. */
typedef struct kestrel_image_row {
  uint32_t struct_size;          /* sizeof(kestrel_image_row) */
  int64_t id;                    /* images.id */
  const kestrel_image_record* record; /* the columns; record->fetched_at_us is updated_at */
  int64_t created_at_us;         /* UTC microseconds */
  int64_t updated_at_us;         /* UTC microseconds */
} kestrel_image_row;

/* Filters for reading images; zero/NULL fields do not filter. */
typedef struct kestrel_image_query {
  uint32_t struct_size;          /* sizeof(kestrel_image_query) */
  const char* url;               /* exact url */
  const char* sha256;            /* exact content hash */
  const char* format;            /* exact format */
  int64_t crawl_session_id;      /* exact session */
  uint32_t min_width;            /* width >= this */
  int64_t after_id;              /* id > this (keyset paging) */
  uint32_t limit;                /* at most this many rows; 0: no limit */
} kestrel_image_query;

/* Crawl session states. */
typedef enum kestrel_session_state {
  KESTREL_SESSION_RUNNING = 1,
  KESTREL_SESSION_FINISHED = 2,
  KESTREL_SESSION_STOPPED = 3,   /* stopped by request before the frontier was empty */
  KESTREL_SESSION_FAILED = 4
} kestrel_session_state;

/* A crawl_sessions row. Strings borrowed for the call. */
typedef struct kestrel_session_record {
  uint32_t struct_size;          /* sizeof(kestrel_session_record) */
  const char* session_key;       /* caller-made unique key (a UUID); the upsert key; required */
  const char* node_name;         /* node that ran it */
  const char* seeds_json;        /* JSON array of seed URLs */
  int32_t state;                 /* a kestrel_session_state */
  int64_t started_at_us;         /* UTC microseconds */
  int64_t finished_at_us;        /* UTC microseconds; 0 while running */
  uint64_t pages;                /* HTML pages fetched */
  uint64_t images;               /* images stored */
  uint64_t bytes;                /* bytes downloaded (bodies, after decoding) */
  uint64_t errors;               /* failed fetches of all kinds */
  const char* errors_json;       /* JSON object: error kind -> count */
} kestrel_session_record;

/* Called once per row; return 0 to go on, non-zero to stop. Any thread the
 * caller of the read runs on. */
typedef int (*kestrel_image_row_fn)(void* ctx, const kestrel_image_row* row);

/* Operation kinds inside one write batch. */
typedef enum kestrel_catalog_op_kind {
  KESTREL_OP_UPSERT_IMAGE = 1,   /* insert or update the images row keyed by image.url */
  KESTREL_OP_DELETE_IMAGE = 2,   /* delete the images row keyed by image.url (no-op if absent) */
  KESTREL_OP_UPSERT_SESSION = 3, /* insert or update the crawl_sessions row keyed by session.session_key */
  KESTREL_OP_RECORD_FAILOVER = 4 /* ABI 1.3: insert or update the failover_events row keyed by
                                    failover.event_key (the HA catalog's history) */
} kestrel_catalog_op_kind;

/* One failover or switchover, as the HA catalog records it in
 * `failover_events` (DESIGN §6). Strings borrowed for the call. ABI 1.3. */
typedef struct kestrel_failover_record {
  uint32_t struct_size;          /* sizeof(kestrel_failover_record) */
  const char* event_key;         /* caller-made unique key (a UUID); the upsert key; required */
  const char* kind;              /* "failover" or "switchover" */
  const char* from_node;         /* the primary before; NULL if none was known */
  const char* to_node;           /* the node promoted; required */
  const char* reason;            /* why: "primary down: ...", the operator's --reason... */
  int32_t automatic;             /* 1: decided by the health monitor; 0: asked by an operator */
  int32_t succeeded;             /* 1: the new primary accepted writes; 0: it failed (detail says why) */
  uint64_t epoch_before;         /* cluster epoch before */
  uint64_t epoch_after;          /* cluster epoch after (epoch_before + 1 on success) */
  int64_t started_at_us;         /* UTC microseconds: the fault was confirmed / the request arrived */
  int64_t finished_at_us;        /* UTC microseconds: the new primary accepted writes, or the attempt ended */
  int64_t lost_bytes;            /* WAL bytes the new primary lacked of the old one's last known position;
                                    0: none; -1: unknown */
  int64_t write_pause_ms;        /* milliseconds writes were held (switchover); -1: not measured */
  const char* detail;            /* a human note, or NULL */
} kestrel_failover_record;

/* Called once per failover_events row, newest first; return 0 to go on.
 * `id` is failover_events.id. Borrowed for the callback only. */
typedef int (*kestrel_failover_row_fn)(void* ctx, int64_t id, const kestrel_failover_record* record);

/* One operation of a batch. */
typedef struct kestrel_catalog_op {
  uint32_t struct_size;                   /* sizeof(kestrel_catalog_op) */
  int32_t kind;                           /* a kestrel_catalog_op_kind */
  const kestrel_image_record* image;      /* for *_IMAGE */
  const kestrel_session_record* session;  /* for *_SESSION */
  /* ---- ABI 1.3 ---- */
  const kestrel_failover_record* failover; /* for KESTREL_OP_RECORD_FAILOVER */
} kestrel_catalog_op;

/* The catalog contract. Every call carries the caller's epoch (0 until the HA
 * catalog exists); a store that knows a higher epoch refuses writes with
 * KESTREL_ERR_FENCED. Retryable failures set status.retryable. All functions
 * may be called from any thread, concurrently. */
typedef struct kestrel_catalog_v1 {
  uint32_t struct_size; /* sizeof(kestrel_catalog_v1) */

  /* Commits `count` operations atomically (all or none) and sets
   * *commit_position to the store's commit sequence after this batch (an LSN
   * on PostgreSQL): it never goes backwards for one caller, and is at or past
   * the end of this batch's commit; two writes that overlap in time may get
   * the same position. Idempotent:
   * replaying the same batch leaves the same rows. KESTREL_ERR_UNKNOWN_OUTCOME
   * when the commit may have happened. */
  kestrel_result (*write)(void* instance, uint64_t epoch, const kestrel_catalog_op* ops, size_t count,
                          uint64_t* commit_position, kestrel_status* status);

  /* Streams the images matching `query` in id order to `fn`. No memory
   * crosses: rows are borrowed for each callback. */
  kestrel_result (*read_images)(void* instance, uint64_t epoch, const kestrel_image_query* query,
                                kestrel_image_row_fn fn, void* ctx, kestrel_status* status);

  /* Returns in *session_id the crawl_sessions.id for `session_key`
   * (KESTREL_ERR_NOT_FOUND if none). */
  kestrel_result (*session_id)(void* instance, uint64_t epoch, const char* session_key, int64_t* session_id,
                               kestrel_status* status);

  /* Sets *count to the number of rows in `images` matching `query` (limit and
   * after_id ignored). */
  kestrel_result (*count_images)(void* instance, uint64_t epoch, const kestrel_image_query* query, uint64_t* count,
                                 kestrel_status* status);

  /* ---- ABI 1.3 (check with KESTREL_HAS) ---- */

  /* Streams at most `limit` failover_events rows (0: all), newest first, to
   * `fn`. Any thread. */
  kestrel_result (*read_failover_events)(void* instance, uint64_t epoch, uint32_t limit, kestrel_failover_row_fn fn,
                                         void* ctx, kestrel_status* status);

  /* Fills *epoch with the highest epoch this store has recorded
   * (cluster_state.epoch) and writes cluster_state.primary_node (NUL-terminated,
   * "" if none) into primary[0..capacity). Any thread. */
  kestrel_result (*cluster_state)(void* instance, uint64_t* epoch, char* primary, size_t capacity,
                                  kestrel_status* status);
} kestrel_catalog_v1;

/* ------------------------------------------------------------------------ */
/* Interface kestrel.blobstore.v1 — image files                             */
/* ------------------------------------------------------------------------ */

#define KESTREL_IFACE_BLOBSTORE_V1 "kestrel.blobstore.v1"

/* An open upload. Owned by the blob store; ended by exactly one of commit or abort. */
typedef struct kestrel_blob_writer kestrel_blob_writer;

/* Content-addressed file store. All functions may be called from any thread;
 * one writer is used by one thread at a time. */
typedef struct kestrel_blobstore_v1 {
  uint32_t struct_size; /* sizeof(kestrel_blobstore_v1) */

  /* Opens a new upload to a temporary file. */
  kestrel_result (*begin)(void* instance, kestrel_blob_writer** writer, kestrel_status* status);

  /* Appends `length` bytes. KESTREL_ERR_NO_SPACE when the disk is full (the
   * writer must still be aborted). */
  kestrel_result (*append)(kestrel_blob_writer* writer, const void* data, size_t length, kestrel_status* status);

  /* Verifies that the bytes hash to `sha256` (lower-case hex), fsyncs, renames
   * to the content address (an existing identical file is kept), fsyncs the
   * directory, and writes the path relative to the store root, NUL-terminated,
   * into path[0..path_capacity). Frees the writer whatever the result. */
  kestrel_result (*commit)(kestrel_blob_writer* writer, const char* sha256, const char* extension, char* path,
                           size_t path_capacity, kestrel_status* status);

  /* Deletes the temporary file and frees the writer. Cannot fail. */
  void (*abort)(kestrel_blob_writer* writer);

  /* KESTREL_OK if the blob at relative `path` exists, else KESTREL_ERR_NOT_FOUND. */
  kestrel_result (*exists)(void* instance, const char* path, kestrel_status* status);

  /* Removes the blob at relative `path` (KESTREL_ERR_NOT_FOUND if absent). */
  kestrel_result (*remove)(void* instance, const char* path, kestrel_status* status);

  /* Writes the store root (absolute, NUL-terminated) into root[0..capacity). */
  kestrel_result (*root)(void* instance, char* root, size_t capacity, kestrel_status* status);

  /* ---- ABI 1.2: group commit (check with KESTREL_HAS before use) ----
   * Durability costs one or two flushes of the disk per file with commit;
   * a caller that records files in batches (the crawler writes 64 catalog
   * rows at a time) commits them with commit_deferred and calls sync once
   * before it records the batch, paying for one flush per batch. */

  /* Like commit (same checks, same path written), but returns without
   * waiting for stable storage: the file is readable at its path and durable
   * once a later `sync` of the same store has returned KESTREL_OK, not
   * before. Until then its path must not be recorded anywhere that outlives
   * a crash (such as the catalog); a crash before that sync may lose the file,
   * never leave other bytes under its name. Frees the writer whatever the
   * result. Any thread. */
  kestrel_result (*commit_deferred)(kestrel_blob_writer* writer, const char* sha256, const char* extension,
                                    char* path, size_t path_capacity, kestrel_status* status);

  /* Makes every file whose commit_deferred returned before this call durable
   * and readable at its path. On failure (KESTREL_ERR_IO, KESTREL_ERR_NO_SPACE)
   * those files are not stored: upload them again. Any thread; calls may
   * overlap. */
  kestrel_result (*sync)(void* instance, kestrel_status* status);
} kestrel_blobstore_v1;

/* ------------------------------------------------------------------------ */
/* Interface kestrel.crawler.v1 — crawl control                             */
/* ------------------------------------------------------------------------ */

#define KESTREL_IFACE_CRAWLER_V1 "kestrel.crawler.v1"

/* A crawl to run. Borrowed for the call. */
typedef struct kestrel_crawl_request {
  uint32_t struct_size;         /* sizeof(kestrel_crawl_request) */
  const char* const* seeds;     /* absolute URLs; NULL/0: the configured seeds */
  size_t seed_count;            /* number of seeds */
  /* ---- ABI 1.1: per-crawl scope and limits; zero/NULL: the configured value ---- */
  const char* scope;            /* "site" (seeds' scheme, host and port), "host" (any port/scheme), "domain" (host and subdomains) */
  uint32_t max_depth;           /* link depth from the seeds; the seeds are depth 0 */
  uint64_t max_pages;           /* HTML pages fetched in this crawl */
  uint64_t max_bytes;           /* body bytes received in this crawl */
  uint32_t max_seconds;         /* wall-clock seconds before the crawl stops itself */
  int32_t robots;               /* 1: honour robots.txt, 2: ignore it, 0: configured */
} kestrel_crawl_request;

/* Crawl states. */
typedef enum kestrel_crawl_state {
  KESTREL_CRAWL_IDLE = 0,
  KESTREL_CRAWL_RUNNING = 1,
  KESTREL_CRAWL_STOPPING = 2,
  KESTREL_CRAWL_FINISHED = 3,   /* frontier empty */
  KESTREL_CRAWL_STOPPED = 4,    /* stopped by request */
  KESTREL_CRAWL_FAILED = 5      /* could not go on (catalog or store failed) */
} kestrel_crawl_state;

/* Live counters of the current or last crawl. */
typedef struct kestrel_crawl_progress {
  uint32_t struct_size;         /* sizeof(kestrel_crawl_progress) */
  int32_t state;                /* a kestrel_crawl_state */
  uint64_t pages;               /* HTML pages fetched and parsed */
  uint64_t images;              /* images stored in this crawl (new or changed) */
  uint64_t images_unchanged;    /* images already catalogued with the same content */
  uint64_t bytes;               /* body bytes received */
  uint64_t errors;              /* failed fetches of all kinds */
  uint64_t queued;              /* URLs waiting in the frontier */
  uint64_t elapsed_ms;          /* milliseconds since the crawl started */
  int64_t crawl_session_id;     /* crawl_sessions.id, 0 if not yet known */
} kestrel_crawl_progress;

typedef struct kestrel_crawler_v1 {
  uint32_t struct_size; /* sizeof(kestrel_crawler_v1) */

  /* Starts a crawl in the background and returns; KESTREL_ERR_BUSY if one is
   * already running (KESTREL_ERR_INVALID from a crawler built before 1.3),
   * KESTREL_ERR_INVALID if a seed is not an absolute http(s) URL. Any thread. */
  kestrel_result (*crawl_start)(void* instance, const kestrel_crawl_request* request, kestrel_status* status);

  /* Asks the running crawl to stop; returns at once. Any thread. */
  kestrel_result (*crawl_stop)(void* instance, kestrel_status* status);

  /* Waits up to timeout_ms milliseconds for the crawl to end: KESTREL_OK when
   * it ended (or none runs), KESTREL_ERR_TIMEOUT otherwise. Any thread. */
  kestrel_result (*crawl_wait)(void* instance, uint32_t timeout_ms, kestrel_status* status);

  /* Fills *progress. Any thread. */
  kestrel_result (*crawl_progress)(void* instance, kestrel_crawl_progress* progress, kestrel_status* status);

  /* Writes the last crawl's summary as a JSON object (counters, errors by
   * kind, failed URLs with reasons) to `sink`. Any thread. */
  kestrel_result (*crawl_report)(void* instance, kestrel_write_fn write, void* sink, kestrel_status* status);
} kestrel_crawler_v1;

/* ------------------------------------------------------------------------ */
/* Interface kestrel.replicator.v1 — catalog replication (ABI 1.1)          */
/* ------------------------------------------------------------------------ */

#define KESTREL_IFACE_REPLICATOR_V1 "kestrel.replicator.v1"

/* Replication modes (DESIGN §5). */
typedef enum kestrel_replication_mode {
  KESTREL_REPLICATION_ASYNC = 1,     /* commit returns at local durability */
  KESTREL_REPLICATION_SEMI_SYNC = 2, /* commit waits for any one standby */
  KESTREL_REPLICATION_SYNC = 3       /* commit waits for every standby */
} kestrel_replication_mode;

/* Roles of a catalog node. */
typedef enum kestrel_node_role {
  KESTREL_ROLE_UNKNOWN = 0,   /* did not answer */
  KESTREL_ROLE_PRIMARY = 1,   /* accepts writes */
  KESTREL_ROLE_STANDBY = 2,   /* replays the primary's changes, read-only */
  KESTREL_ROLE_FENCED = 3     /* an old primary that must not accept writes */
} kestrel_node_role;

/* One node as the replicator sees it. Borrowed for the callback only. */
typedef struct kestrel_node_status {
  uint32_t struct_size;          /* sizeof(kestrel_node_status) */
  const char* node;              /* node name from the config */
  int32_t role;                  /* a kestrel_node_role */
  int32_t healthy;               /* 1: answered a query within the timeout */
  int32_t priority;              /* lower wins a failover */
  const char* sync_state;        /* standby: "async", "potential", "sync" or "quorum" (pg_stat_replication); else NULL */
  uint64_t lsn;                  /* primary: current WAL position; standby: last replayed position */
  uint64_t receive_lsn;          /* standby: last position received and flushed; 0 on a primary */
  int64_t lag_bytes;             /* primary position minus this node's replay position, bytes; 0 on the primary;
                                    -1: unknown (the standby does not stream), and the *_lag_seconds are NaN */
  double write_lag_seconds;      /* seconds, from the primary's view (0 when caught up) */
  double flush_lag_seconds;      /* seconds */
  double replay_lag_seconds;     /* seconds */
  int64_t last_replay_at_us;     /* UTC microseconds of the last replayed commit; 0 if unknown */
  const char* detail;            /* a human note (last error, "replay paused"...), or NULL */
} kestrel_node_status;

/* Called once per node; return 0 to go on, non-zero to stop. */
typedef int (*kestrel_node_status_fn)(void* ctx, const kestrel_node_status* status);

/* Manages replication between the catalog nodes it is configured with.
 * Blocking calls; any thread, one mutating call at a time (the others wait). */
typedef struct kestrel_replicator_v1 {
  uint32_t struct_size; /* sizeof(kestrel_replicator_v1) */

  /* Makes `standby` a fresh copy of the primary, streaming from it.
   * force = 1 replaces an existing copy. */
  kestrel_result (*bootstrap)(void* instance, const char* standby, int32_t force, kestrel_status* status);

  /* Switches the replication mode at run time (no restart). A mode that would
   * block every write (sync with no standby connected) is refused with
   * KESTREL_ERR_UNAVAILABLE unless force = 1. */
  kestrel_result (*set_mode)(void* instance, int32_t mode, int32_t force, kestrel_status* status);

  /* The current mode. */
  kestrel_result (*get_mode)(void* instance, int32_t* mode, kestrel_status* status);

  /* Streams one kestrel_node_status per configured node to `fn`. */
  kestrel_result (*node_status)(void* instance, kestrel_node_status_fn fn, void* ctx, kestrel_status* status);

  /* Promotes standby `node` to primary, recording `epoch` in its cluster
   * state, and waits up to timeout_ms milliseconds until it accepts writes. */
  kestrel_result (*promote)(void* instance, const char* node, uint64_t epoch, uint32_t timeout_ms,
                            kestrel_status* status);

  /* Fences `node` so that it accepts no writes (DESIGN §4). Idempotent. */
  kestrel_result (*fence)(void* instance, const char* node, kestrel_status* status);

  /* Makes a former primary `node` a standby of the current primary (rewind,
   * or a fresh copy when rewinding is impossible). */
  kestrel_result (*rejoin)(void* instance, const char* node, kestrel_status* status);

  /* Compares `standby` with the primary at a common position and writes a
   * JSON report (per table: row counts, newest row, id range, checksums per
   * id range; the ranges that differ) to `sink`. KESTREL_OK even when they
   * differ: the report says so. */
  kestrel_result (*check_consistency)(void* instance, const char* standby, kestrel_write_fn write, void* sink,
                                      kestrel_status* status);

  /* ---- ABI 1.4 (check with KESTREL_HAS; absent or NULL: nothing to wait
   * for, as with PostgreSQL, whose synchronous commit waits itself) ---- */

  /* Waits until the write batch that `primary`'s store committed at
   * `position` (the catalog write's returned commit position) is applied as
   * the mode requires: async returns at once; semi-sync waits for one
   * standby, sync for every standby. Called by the HA catalog after each
   * write, before the writer is acknowledged; any thread, concurrently.
   * KESTREL_ERR_TIMEOUT (retryable: the batch is committed on the primary,
   * and the writer's retry is idempotent) after timeout_ms milliseconds, or
   * after the replicator's own sync timeout; KESTREL_OK once applied, or at
   * once when the replicator is configured to fall back to async (its status
   * then says so). */
  kestrel_result (*wait_replicated)(void* instance, const char* primary, uint64_t position, uint32_t timeout_ms,
                                    kestrel_status* status);

  /* ---- ABI 1.5 (check with KESTREL_HAS; absent or NULL: not supported) ---- */

  /* Repairs `standby` from the primary touching only what differs: the id
   * ranges whose checksums differ (check_consistency) get the primary's rows,
   * and rows only the standby holds are deleted, in one transaction on the
   * standby; it then goes on streaming. Writes a JSON report to `sink`:
   * {"standby", "primary", "ranges_repaired", "rows_written", "rows_deleted",
   * "tables": {name: [{"from_id", "to_id"}...]}, "consistent"} (the check
   * run again after the repair). A replicator whose standbys cannot differ
   * by range (PostgreSQL's physical replicas) leaves this NULL; the caller
   * then rebuilds with bootstrap(force = 1). Blocking; any thread. */
  kestrel_result (*force_sync)(void* instance, const char* standby, kestrel_write_fn write, void* sink,
                               kestrel_status* status);

  /* Writes the newest `limit` (0: all) recorded conflicts as a JSON array to
   * `sink`, newest first: the changes a former primary held that the
   * current primary never had, kept when it rejoined (the primary's rows
   * win; DESIGN §5). Each: {"node", "seq", "epoch", "commit_seq", "table",
   * "op", "row_id", "row_image" (a JSON object, or null for a delete),
   * "changed_at_us", "recorded_at_us"} (UTC microseconds). NULL: this
   * replicator never keeps conflicts (PostgreSQL's pg_rewind discards
   * them); the caller reports an empty list. */
  kestrel_result (*list_conflicts)(void* instance, uint32_t limit, kestrel_write_fn write, void* sink,
                                   kestrel_status* status);

  /* ---- ABI 1.6 (check with KESTREL_HAS; absent or NULL: no peers) ---- */

  /* Serves one request of the same replicator in another kestreld: the HA
   * API's POST /api/changes/{method}, bearer-token checked by the host
   * before this is called. `method` names the call (NUL-terminated); `body`
   * holds `body_len` bytes (owned by the caller, valid during the call), in
   * the replicator's own wire format (replicator-changelog: a JSON object;
   * for "snapshot-chunk", a JSON object, a newline, then the chunk's bytes).
   * Writes the response body (a JSON object) to `sink`. NOT_FOUND for an
   * unknown method; the call's own errors otherwise (FENCED for a batch of
   * an older epoch). Blocking; any thread, concurrently. */
  kestrel_result (*peer_request)(void* instance, const char* method, const char* body, size_t body_len,
                                 kestrel_write_fn write, void* sink, kestrel_status* status);
} kestrel_replicator_v1;

/* ------------------------------------------------------------------------ */
/* Interface kestrel.coordinator.v1 — who may fail over (ABI 1.3)           */
/* ------------------------------------------------------------------------ */

#define KESTREL_IFACE_COORDINATOR_V1 "kestrel.coordinator.v1"

/* Agreement between the daemons of one cluster (DESIGN §4): a leader lease
 * (only the daemon holding it may fail over or switch over) and one cluster
 * state document changed only by compare-and-set on its version. `local`
 * (built in: one daemon manages every node) keeps both in the host's
 * key-value store (host-state.db); `etcd`
 * keeps them in etcd (the lease as an etcd lease, the version as the key's
 * mod_revision). Consensus is never home-made. Versions only grow, so an
 * epoch derived from them only grows. All calls are blocking, bounded by the
 * coordinator's own timeout, and may come from any thread. */
typedef struct kestrel_coordinator_v1 {
  uint32_t struct_size; /* sizeof(kestrel_coordinator_v1) */

  /* Takes the leader lease for `member` (this daemon's member id: its
   * node.name, host, PID and a random tag, unique per process, so that two
   * daemons started with one config never share a lease) or renews
   * it, for ttl_ms milliseconds from now. *is_leader = 1 when `member` holds
   * it after the call; 0 when another member does (KESTREL_OK either way).
   * *lease_until_us: UTC microseconds until which the lease is held (0 when
   * not held); a leader that could not renew by then must stop routing
   * writes. KESTREL_ERR_UNAVAILABLE when the coordinator cannot be reached:
   * the caller is then not the leader. */
  kestrel_result (*acquire_leadership)(void* instance, const char* member, uint32_t ttl_ms, int32_t* is_leader,
                                       int64_t* lease_until_us, kestrel_status* status);

  /* Gives the lease up if `member` holds it (a switchover of daemons, a clean
   * stop). Idempotent. */
  kestrel_result (*release_leadership)(void* instance, const char* member, kestrel_status* status);

  /* Writes the cluster state (a JSON object: "epoch", "primary", "members"...,
   * "{}" when never set) to `sink` and its version into *version (0: never
   * set). */
  kestrel_result (*get_state)(void* instance, kestrel_write_fn write, void* sink, uint64_t* version,
                              kestrel_status* status);

  /* Replaces the cluster state with `state_json` if its version is still
   * `expected_version` (0: never set), and sets *new_version. Otherwise
   * KESTREL_ERR_CONFLICT and nothing changes. Durable before it returns OK. */
  kestrel_result (*compare_and_set_state)(void* instance, uint64_t expected_version, const char* state_json,
                                          uint64_t* new_version, kestrel_status* status);

  /* Waits up to timeout_ms milliseconds for the state's version to exceed
   * `after_version`: KESTREL_OK with *version set when it did,
   * KESTREL_ERR_TIMEOUT when it did not. */
  kestrel_result (*watch_state)(void* instance, uint64_t after_version, uint32_t timeout_ms, uint64_t* version,
                                kestrel_status* status);
} kestrel_coordinator_v1;

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* KESTREL_PLUGIN_H */
