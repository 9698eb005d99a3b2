#include "api/single_node_control.h"

#include <kestrel/plugin.hpp>

#include <Poco/Timestamp.h>

namespace kestrel::host {
namespace {

const char kOneNode[] = "nothing to fail over to: this catalog has one node";

}  // namespace

SingleNodeControl::SingleNodeControl(std::string node, std::function<std::string()> healthy)
    : node_(node.empty() ? "local" : std::move(node)), healthy_(std::move(healthy)) {}

ha::ClusterView SingleNodeControl::status() const {
  ha::ClusterView c;
  c.epoch = 1;
  c.primary = node_;
  c.mode = "none";
  c.auto_failover = false;
  c.leader = node_;
  c.this_node = node_;
  c.no_candidate_reason = "this catalog has one node";
  ha::NodeView n;
  n.name = node_;
  n.role = "primary";
  n.priority = 0;
  const std::string why = healthy_ ? healthy_() : std::string();
  n.healthy = why.empty();
  n.consecutive_failures = n.healthy ? 0 : 1;
  n.detail = why;
  n.last_check_at_us = Poco::Timestamp().epochMicroseconds();
  c.nodes.push_back(n);
  if (!n.healthy) c.primary.clear();
  return c;
}

ha::FailoverEvent SingleNodeControl::failover(const std::string&, const std::string&, bool) {
  throw Error(KESTREL_ERR_BUSY, kOneNode);
}
ha::FailoverEvent SingleNodeControl::switchover(const std::string&) { throw Error(KESTREL_ERR_BUSY, kOneNode); }
std::vector<ha::FailoverEvent> SingleNodeControl::history(size_t) const { return {}; }
void SingleNodeControl::set_auto_failover(bool) {
  throw Error(KESTREL_ERR_INVALID, std::string(kOneNode) + ": there is no automatic failover to switch");
}
void SingleNodeControl::set_mode(const std::string&, bool) {
  throw Error(KESTREL_ERR_INVALID, "this catalog has one node and no replicator: no replication mode to set");
}
std::string SingleNodeControl::force_sync(const std::string&) {
  throw Error(KESTREL_ERR_INVALID, "this catalog has one node: no standby to resync");
}
std::string SingleNodeControl::conflicts(size_t) const { return "[]"; }
std::string SingleNodeControl::check_consistency(const std::string&) const {
  throw Error(KESTREL_ERR_INVALID, "this catalog has one node: no standby to compare");
}
std::string SingleNodeControl::peer_request(const std::string& method, const std::string&) {
  throw Error(KESTREL_ERR_UNSUPPORTED, "this catalog has one node and no replicator: no peer serves " + method);
}

}  // namespace kestrel::host
