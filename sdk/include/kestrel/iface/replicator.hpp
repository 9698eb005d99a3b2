// kestrel/iface/replicator.hpp — kestrel.replicator.v1 for the C++ wrapper: the provider a
// component implements, the client a caller uses, and the C trampolines
// between them, together. Needs only the core (kestrel/plugin_core.hpp);
// kestrel/plugin.hpp includes it with every other interface.
#ifndef KESTREL_IFACE_REPLICATOR_HPP
#define KESTREL_IFACE_REPLICATOR_HPP

#include <kestrel/plugin_core.hpp>

#include <cstring>
#include <string>
#include <vector>

namespace kestrel {

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
  // ABI 1.6. The response body of a peer daemon's request (see
  // kestrel_replicator_v1.peer_request); the default is UNSUPPORTED.
  virtual std::string replicator_peer_request(const std::string& method, const std::string& /*body*/) {
    throw Error(KESTREL_ERR_UNSUPPORTED, "this replicator serves no peer requests (" + method + ")");
  }

  // The one declaration of this interface: its name and its C table. The
  // dispatch (Provides<>, Component::interface_table) and describe()'s
  // provides list are derived from these two.
  static constexpr const char* interface_name = KESTREL_IFACE_REPLICATOR_V1;
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
  // ABI 1.6: the response body; Error(KESTREL_ERR_UNSUPPORTED) when the
  // replicator has no peers (ABI < 1.6 or NULL).
  std::string peer_request(const std::string& method, const std::string& body) const {
    if (!KESTREL_HAS(vt_, kestrel_replicator_v1, peer_request) || vt_->peer_request == nullptr)
      throw Error(KESTREL_ERR_UNSUPPORTED, "this replicator serves no peer requests");
    std::string out;
    kestrel_status st = make_status();
    check(vt_->peer_request(inst_, method.c_str(), body.data(), body.size(), &string_sink, &out, &st), st,
          "peer request");
    return out;
  }

 private:
  const kestrel_replicator_v1* vt_ = nullptr;
  void* inst_ = nullptr;
};

// C trampolines: the instance is always the Component*; detail::as casts it.

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
      [](void* inst, const char* method, const char* body, size_t body_len, kestrel_write_fn write, void* sink,
         kestrel_status* st) {
        return detail::guard(st, [&] {
          std::string r = detail::as<ReplicatorProvider>(inst).replicator_peer_request(
              method ? method : "", body ? std::string(body, body_len) : std::string());
          write(sink, r.data(), r.size());
        });
      },
  };
  return &vt;
}

// Lets Component::interface_table's default (components not derived from
// Provides<>) find this interface; see plugin_core.hpp.
namespace detail {
inline const InterfaceRegistration<ReplicatorProvider> replicator_v1_registration;
}  // namespace detail

}  // namespace kestrel

#endif  // KESTREL_IFACE_REPLICATOR_HPP
