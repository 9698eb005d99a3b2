#include "ha/ha_json.h"

#include <Poco/JSON/Array.h>

#include <cmath>
#include <sstream>

namespace kestrel::host::ha {

Poco::JSON::Object::Ptr node_json(const NodeView& n) {
  Poco::JSON::Object::Ptr o = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
  o->set("name", n.name);
  o->set("role", n.role);
  o->set("priority", n.priority);
  o->set("healthy", n.healthy);
  o->set("consecutive_failures", n.consecutive_failures);
  o->set("response_ms", n.response_ms);
  o->set("lsn", n.lsn);
  o->set("receive_lsn", n.receive_lsn);
  o->set("lag_bytes", n.lag_bytes);
  if (std::isnan(n.lag_seconds))
    o->set("lag_seconds", Poco::Dynamic::Var());
  else
    o->set("lag_seconds", n.lag_seconds);
  o->set("sync_state", n.sync_state);
  o->set("last_check_at_us", n.last_check_at_us);
  o->set("eligible", n.eligible);
  o->set("not_eligible_reason", n.not_eligible_reason);
  o->set("detail", n.detail);
  return o;
}

Poco::JSON::Object::Ptr cluster_json(const ClusterView& c) {
  Poco::JSON::Object::Ptr o = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
  o->set("epoch", c.epoch);
  o->set("primary", c.primary);
  o->set("mode", c.mode);
  o->set("auto_failover", c.auto_failover);
  o->set("failover_in_progress", c.failover_in_progress);
  o->set("leader", c.leader);
  if (!c.lease_note.empty()) o->set("lease_note", c.lease_note);
  o->set("this_node", c.this_node);
  o->set("failover_candidate", c.failover_candidate);
  o->set("no_candidate_reason", c.no_candidate_reason);
  Poco::JSON::Array::Ptr nodes = new Poco::JSON::Array;
  for (const NodeView& n : c.nodes) nodes->add(node_json(n));
  o->set("nodes", nodes);
  return o;
}

Poco::JSON::Object::Ptr event_json(const FailoverEvent& e) {
  Poco::JSON::Object::Ptr o = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
  o->set("id", e.id);
  o->set("kind", e.kind);
  o->set("from", e.from_node);
  o->set("to", e.to_node);
  o->set("reason", e.reason);
  o->set("automatic", e.automatic);
  o->set("succeeded", e.succeeded);
  o->set("epoch_before", e.epoch_before);
  o->set("epoch_after", e.epoch_after);
  o->set("started_at_us", e.started_at_us);
  o->set("finished_at_us", e.finished_at_us);
  o->set("duration_ms", e.duration_ms);
  o->set("lost_bytes", e.lost_bytes);
  o->set("write_pause_ms", e.write_pause_ms);
  o->set("detail", e.detail);
  return o;
}

std::string to_text(const Poco::JSON::Object::Ptr& o) {
  std::ostringstream out;
  o->stringify(out);
  return out.str();
}

}  // namespace kestrel::host::ha
