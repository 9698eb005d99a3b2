// SingleNodeControl: the HaControl of a configuration without an ha-catalog
// (the embedded default: one SQLite node, no replicator), so that the HA API
// has one code path. One node, the primary, epoch 1, mode "none", nothing to
// fail over to: failover and switchover answer BUSY (409) saying so, and the
// settings that need a replicator answer INVALID (400).
#ifndef KESTREL_HOST_API_SINGLE_NODE_CONTROL_H_
#define KESTREL_HOST_API_SINGLE_NODE_CONTROL_H_

#include <functional>
#include <string>

#include "ha/ha_control.h"

namespace kestrel::host {

class SingleNodeControl : public ha::HaControl {
 public:
  // `node`: the node's name (node.name, or "local"). `healthy` answers
  // whether the catalog works now ("" when it does, else why not); any thread.
  SingleNodeControl(std::string node, std::function<std::string()> healthy);

  ha::ClusterView status() const override;
  ha::FailoverEvent failover(const std::string& node, const std::string& reason, bool force) override;
  ha::FailoverEvent switchover(const std::string& target) override;
  std::vector<ha::FailoverEvent> history(size_t limit) const override;
  void set_auto_failover(bool on) override;
  void set_mode(const std::string& mode, bool force) override;
  std::string force_sync(const std::string& standby) override;
  std::string conflicts(size_t limit) const override;
  std::string check_consistency(const std::string& standby) const override;
  std::string peer_request(const std::string& method, const std::string& body) override;

 private:
  const std::string node_;
  const std::function<std::string()> healthy_;
};

}  // namespace kestrel::host

#endif  // KESTREL_HOST_API_SINGLE_NODE_CONTROL_H_
