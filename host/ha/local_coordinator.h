// LocalCoordinator: the `local` coordinator (kestrel.coordinator.v1, issue 9
// item 7): one kestreld manages every node, so agreement is local. The
// leader lease and the cluster state are two keys of the host's durable
// key-value store (host-state.db, synchronous=FULL), both changed only by
// compare-and-set on the key's version, so that two processes started by
// mistake on one data dir never both hold the lease, and an epoch written by
// one is never overwritten by the other's older one. The `etcd` coordinator
// (a later plugin) keeps the same two things in etcd.
//
// Keys (in the owning component's namespace):
//   coordinator/leader  {"member": "<member id>", "until_us": <UTC µs>}
//   coordinator/state   the cluster state JSON object (see the ha-catalog)
//
// Two wirings, one class: the built-in component `coordinator-local` (named
// by an ha-catalog's `coordinator:` option), and the ha-catalog's own
// instance over its own namespace when that option is unset.
//
// Threads: any thread may call every method; watch blocks up to its timeout.
// Errors: KESTREL_ERR_UNAVAILABLE when host-state.db fails (the caller is then not
// the leader), KESTREL_ERR_CONFLICT, KESTREL_ERR_TIMEOUT, KESTREL_ERR_INVALID
// (a state that is not a JSON object).
#ifndef KESTREL_HOST_HA_LOCAL_COORDINATOR_H_
#define KESTREL_HOST_HA_LOCAL_COORDINATOR_H_

#include <kestrel/plugin.hpp>

#include <condition_variable>
#include <mutex>
#include <string>

namespace kestrel::host::ha {

// The negotiate function of the built-in plugin "coordinator-local".
kestrel_result coordinator_local_negotiate(const kestrel_loader_info* loader, kestrel_plugin_info* out,
                                           kestrel_status* status);

class LocalCoordinator : public Provides<CoordinatorProvider> {
 public:
  explicit LocalCoordinator(const CreateArgs& args);
  // Over the key-value namespace of the component owning `ctx` (borrowed;
  // both outlive this object).
  LocalCoordinator(const kestrel_host_api* api, kestrel_host_ctx* ctx);

  // Component: nothing to open; state lives in host-state.db.
  void start() override {}
  void stop(uint32_t) override {}
  void health() override;
  std::string status_json() override;

  // CoordinatorProvider
  Lease coordinator_acquire(const std::string& member, uint32_t ttl_ms) override;
  void coordinator_release(const std::string& member) override;
  std::string coordinator_get_state(uint64_t* version) override;
  uint64_t coordinator_compare_and_set(uint64_t expected_version, const std::string& state_json) override;
  uint64_t coordinator_watch(uint64_t after_version, uint32_t timeout_ms) override;

  // This object as a kestrel_interface, for a CoordinatorClient in-process.
  kestrel_interface as_interface();

 private:
  // false when absent; throws UNAVAILABLE when host-state.db fails.
  bool get(const char* key, std::string* value, uint64_t* version) const;
  // The new version; throws CONFLICT (lost) or UNAVAILABLE.
  uint64_t compare_and_set(const char* key, uint64_t expected, const std::string& value);

  const kestrel_host_api* api_;
  kestrel_host_ctx* ctx_;
  std::mutex mu_;
  std::condition_variable changed_;  // a compare-and-set of the state in this process
  uint64_t changes_ = 0;             // such compare-and-sets so far (guarded by mu_)
};

}  // namespace kestrel::host::ha

#endif  // KESTREL_HOST_HA_LOCAL_COORDINATOR_H_
