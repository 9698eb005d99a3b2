// kestrel/iface/catalog.hpp — kestrel.catalog.v1 for the C++ wrapper: the provider a
// component implements, the client a caller uses, and the C trampolines
// between them, together. Needs only the core (kestrel/plugin_core.hpp);
// kestrel/plugin.hpp includes it with every other interface.
#ifndef KESTREL_IFACE_CATALOG_HPP
#define KESTREL_IFACE_CATALOG_HPP

#include <kestrel/plugin_core.hpp>

#include <cstring>
#include <exception>
#include <functional>
#include <string>
#include <vector>

namespace kestrel {

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

  // The one declaration of this interface: its name and its C table. The
  // dispatch (Provides<>, Component::interface_table) and describe()'s
  // provides list are derived from these two.
  static constexpr const char* interface_name = KESTREL_IFACE_CATALOG_V1;
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

// C trampolines: the instance is always the Component*; detail::as casts it.

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

// Lets Component::interface_table's default (components not derived from
// Provides<>) find this interface; see plugin_core.hpp.
namespace detail {
inline const InterfaceRegistration<CatalogProvider> catalog_v1_registration;
}  // namespace detail

}  // namespace kestrel

#endif  // KESTREL_IFACE_CATALOG_HPP
