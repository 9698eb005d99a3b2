// kestrel/iface/coordinator.hpp — kestrel.coordinator.v1 for the C++ wrapper: the provider a
// component implements, the client a caller uses, and the C trampolines
// between them, together. Needs only the core (kestrel/plugin_core.hpp);
// kestrel/plugin.hpp includes it with every other interface.
#ifndef KESTREL_IFACE_COORDINATOR_HPP
#define KESTREL_IFACE_COORDINATOR_HPP

#include <kestrel/plugin_core.hpp>

#include <cstring>
#include <string>

namespace kestrel {

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

  // The one declaration of this interface: its name and its C table. The
  // dispatch (Provides<>, Component::interface_table) and describe()'s
  // provides list are derived from these two.
  static constexpr const char* interface_name = KESTREL_IFACE_COORDINATOR_V1;
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

// C trampolines: the instance is always the Component*; detail::as casts it.

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

// Lets Component::interface_table's default (components not derived from
// Provides<>) find this interface; see plugin_core.hpp.
namespace detail {
inline const InterfaceRegistration<CoordinatorProvider> coordinator_v1_registration;
}  // namespace detail

}  // namespace kestrel

#endif  // KESTREL_IFACE_COORDINATOR_HPP
