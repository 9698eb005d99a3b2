// EtcdCoordinator: the `coordinator-etcd` component (kestrel.coordinator.v1,
// issue 11): the leader lease and the cluster state of several kestreld
// daemons kept in etcd, through its v3 JSON gateway, so that they agree on
// one leader even when the network splits. Consensus is etcd's (Raft); this
// class only maps the interface onto etcd transactions. Semantics are those
// of the built-in `local` coordinator (host/ha/local_coordinator.h).
//
// Keys (under the `prefix` option, default "/kestrel/cluster/"):
//   <prefix>leader  value: the member id; attached to an etcd lease, so etcd
//                   deletes it when the holder stops renewing.
//   <prefix>state   value: the cluster state JSON object; its version is the
//                   key's mod_revision (etcd's revision only grows).
//
// Units: ttl_ms and timeouts in milliseconds, *_us in UTC microseconds.
// Threads: any thread may call every method concurrently; watch blocks up
// to its timeout, every other call up to request_timeout per endpoint.
// Errors (kestrel::Error): KESTREL_ERR_UNAVAILABLE (retryable) when no
// endpoint answers (the caller is then not the leader); KESTREL_ERR_CONFLICT
// from compare-and-set; KESTREL_ERR_TIMEOUT from watch; KESTREL_ERR_INVALID
// (empty member, a state that is not a JSON object, bad options);
// KESTREL_ERR_INTERNAL for an answer etcd should never give.
#ifndef KESTREL_COORDINATOR_ETCD_ETCD_COORDINATOR_H
#define KESTREL_COORDINATOR_ETCD_ETCD_COORDINATOR_H

#include <kestrel/plugin.hpp>

#include <Poco/JSON/Object.h>

#include <cstdint>
#include <string>

#include "etcd_gateway.h"

namespace kestrel {
namespace coordinator_etcd {

// The descriptor of component type "coordinator-etcd" (its option table is
// the options' documentation). Static data; any thread.
const kestrel_component_desc& component_descriptor();

class EtcdCoordinator : public Provides<CoordinatorProvider> {
 public:
  // Reads the options; contacts nobody (etcd may still be starting).
  explicit EtcdCoordinator(const CreateArgs& args);

  // Component: nothing to open or stop; health() reads the state key
  // (UNAVAILABLE when etcd cannot be reached).
  void health() override;
  std::string status_json() override;

  // CoordinatorProvider (see kestrel_coordinator_v1 in plugin.h).
  // The lease TTL is ttl_ms rounded up to whole seconds (etcd's unit; etcd
  // may raise it to its minimum, about 2 s with default settings);
  // until_us = the time the request was sent + the TTL etcd reported, so it
  // is never later than etcd's own expiry. A renewal (keepalive) restores
  // the TTL the lease was granted with; a different ttl_ms takes effect at
  // the next acquisition.
  Lease coordinator_acquire(const std::string& member, uint32_t ttl_ms) override;
  // Deletes the leader key if `member` holds it and revokes its lease. Idempotent.
  void coordinator_release(const std::string& member) override;
  std::string coordinator_get_state(uint64_t* version) override;
  uint64_t coordinator_compare_and_set(uint64_t expected_version, const std::string& state_json) override;
  // A real etcd watch on the state key (a streamed POST /v3/watch).
  uint64_t coordinator_watch(uint64_t after_version, uint32_t timeout_ms) override;

 private:
  struct KeyValue {
    bool present = false;
    std::string value;
    uint64_t mod_revision = 0;
    uint64_t lease = 0;
  };
  // One key by range; `header_revision` (optional) gets the store's revision.
  KeyValue range(const std::string& key, uint64_t* header_revision = nullptr) const;
  // The remaining TTL etcd reports for `lease` after a keepalive (0: expired).
  int64_t keepalive(uint64_t lease) const;
  void revoke(uint64_t lease) const;

  EtcdGateway gateway_;
  std::string prefix_;
  std::string leader_key_;
  std::string state_key_;
};

}  // namespace coordinator_etcd
}  // namespace kestrel

#endif  // KESTREL_COORDINATOR_ETCD_ETCD_COORDINATOR_H
