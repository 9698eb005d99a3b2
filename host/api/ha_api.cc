#include "api/ha_api.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>
#include <Poco/NumberParser.h>

#include <cmath>

#include "api/api_error.h"
#include "api/api_json.h"
#include "api/single_node_control.h"
#include "config/option_value.h"
#include "ha/ha_json.h"

namespace kestrel::host {
namespace {

int ha_status_for(const Error& e) {
  switch (e.code()) {
    case KESTREL_ERR_NOT_FOUND: return 404;
    case KESTREL_ERR_INVALID: return 400;
    case KESTREL_ERR_BUSY: return 409;
    case KESTREL_ERR_UNAVAILABLE:
    case KESTREL_ERR_FENCED: return 503;
    case KESTREL_ERR_TIMEOUT: return 504;
    default: return 500;
  }
}

// The body's JSON object ({} when empty). 400 naming the problem otherwise.
Poco::JSON::Object::Ptr body_object(const ApiRequest& req) {
  if (req.body.find_first_not_of(" \t\r\n") == std::string::npos) return new Poco::JSON::Object;
  try {
    Poco::Dynamic::Var v = Poco::JSON::Parser().parse(req.body);
    Poco::JSON::Object::Ptr o = v.extract<Poco::JSON::Object::Ptr>();
    if (o) return o;
  } catch (const Poco::Exception& e) {
    throw ApiError(400, "the request body is not a JSON object: " + e.displayText());
  } catch (const std::exception&) {
  }
  throw ApiError(400, "the request body must be a JSON object");
}

std::string string_field(const Poco::JSON::Object::Ptr& o, const std::string& name, bool required) {
  if (!o->has(name) || o->get(name).isEmpty()) {
    if (required) throw ApiError(400, "field '" + name + "' is required (a string)");
    return std::string();
  }
  const Poco::Dynamic::Var v = o->get(name);
  if (!v.isString()) throw ApiError(400, "field '" + name + "' must be a string");
  return v.convert<std::string>();
}

bool bool_field(const Poco::JSON::Object::Ptr& o, const std::string& name) {
  if (!o->has(name) || o->get(name).isEmpty()) return false;
  const Poco::Dynamic::Var v = o->get(name);
  if (!v.isBoolean()) throw ApiError(400, "field '" + name + "' must be true or false");
  return v.convert<bool>();
}

const ha::NodeView* find_node(const ha::ClusterView& c, const std::string& name) {
  for (const ha::NodeView& n : c.nodes)
    if (n.name == name) return &n;
  return nullptr;
}

Poco::JSON::Object::Ptr message(const std::string& text) {
  Poco::JSON::Object::Ptr o = json_object();
  o->set("ok", true);
  o->set("message", text);
  return o;
}

// ?lag=: bytes ("1048576", "1MiB") or a duration ("2s", "500ms").
struct LagBound {
  int64_t bytes = -1;     // -1: no bound in bytes
  double seconds = -1;    // -1: no bound in seconds
};

LagBound lag_bound(const ApiRequest& req) {
  LagBound b;
  auto it = req.query.find("lag");
  if (it == req.query.end() || it->second.empty()) return b;
  const std::string& t = it->second;
  std::string error;
  if (t.back() == 's' && t.find("B") == std::string::npos) {
    int64_t ms = 0;
    if (!parse_duration_ms(t, &ms, &error)) throw ApiError(400, "query parameter 'lag': " + error);
    b.seconds = static_cast<double>(ms) / 1000.0;
  } else {
    if (!parse_size_bytes(t, &b.bytes, &error)) throw ApiError(400, "query parameter 'lag': " + error);
  }
  return b;
}

bool within(const ha::NodeView& n, const LagBound& b) {
  if (n.lag_bytes < 0) return b.bytes < 0 && b.seconds < 0;  // unknown lag meets no bound
  if (b.bytes >= 0 && n.lag_bytes > b.bytes) return false;
  if (b.seconds >= 0 && (std::isnan(n.lag_seconds) || n.lag_seconds > b.seconds)) return false;
  return true;
}

}  // namespace

HaApi::HaApi(const ComponentRuntime& runtime, std::string token, std::string this_node)
    : token_(std::move(token)), this_node_(std::move(this_node)) {
  for (const std::string& id : runtime.providers_of(ha::kHaControlInterface)) {
    const kestrel_interface i = runtime.interface_of(id, ha::kHaControlInterface);
    control_ = static_cast<ha::HaControl*>(const_cast<void*>(i.vtable));
    break;
  }
  if (control_ == nullptr) {
    // One catalog, no ha-catalog: healthy when its health check passes.
    std::string catalog;
    for (const std::string& id : runtime.providers_of(KESTREL_IFACE_CATALOG_V1)) {
      catalog = id;
      break;
    }
    const ComponentRuntime* rt = &runtime;
    single_ = std::make_unique<SingleNodeControl>(this_node_, [rt, catalog]() -> std::string {
      if (catalog.empty()) return "the configuration has no catalog";
      try {
        rt->interface_of(catalog, KESTREL_IFACE_CATALOG_V1);
        return std::string();
      } catch (const Error& e) {
        return e.what();
      }
    });
    control_ = single_.get();
  }
}

HaApi::~HaApi() = default;

ApiResponse HaApi::handle(const ApiRequest& request) const {
  return handle_api("admin", request, "", [this](const ApiRequest& r) { return route(r); }, ha_status_for);
}

ApiResponse HaApi::route(const ApiRequest& req) const {
  const std::string& p = req.path;
  const std::string& m = req.method;
  auto get = [&](auto&& fn) { return m == "GET" ? fn() : method_not_allowed("GET"); };
  auto post = [&](auto&& fn) {
    if (m != "POST") return method_not_allowed("POST");
    authorize_bearer(req, token_);
    return fn();
  };
  if (p == "/api/status") return get([&] { return json_response(200, ha::cluster_json(control_->status())); });
  if (p == "/api/health") return get([&] { return health(); });
  if (p == "/api/history") return get([&] { return history(req); });
  if (p == "/api/replication-lag") return get([&] { return replication_lag(); });
  if (p == "/api/sync-status") return get([&] { return sync_status(); });
  if (p == "/metrics") return get([&] { return metrics_response(); });
  static const std::string kFailover = "/api/failover/";
  if (p.compare(0, kFailover.size(), kFailover) == 0 && p.size() > kFailover.size()) {
    return post([&] {
      const auto b = body_object(req);
      const ha::FailoverEvent ev =
          control_->failover(p.substr(kFailover.size()), string_field(b, "reason", false), bool_field(b, "force"));
      return json_response(200, ha::event_json(ev));
    });
  }
  if (p == "/api/switchover")
    return post([&] {
      return json_response(200, ha::event_json(control_->switchover(string_field(body_object(req), "target", true))));
    });
  if (p == "/api/force-sync")
    return post([&] {
      const std::string standby = string_field(body_object(req), "standby", true);
      const std::string report = control_->force_sync(standby);
      if (report.empty()) return json_response(200, message(standby + " rebuilt from the primary and streaming"));
      ApiResponse r;  // the replicator's repair report (it has a "message")
      r.body = report;
      return r;
    });
  if (p == "/api/conflicts") return get([&] { return conflicts(req); });
  if (p == "/api/sync/enable")
    return post([&] {
      const auto b = body_object(req);
      std::string mode = string_field(b, "mode", false);
      if (mode.empty()) mode = "sync";
      if (mode == "async") throw ApiError(400, "field 'mode': sync/enable takes sync or semi-sync (async is sync/disable)");
      control_->set_mode(mode, bool_field(b, "force"));
      return json_response(200, message("replication mode " + mode + ": a commit now waits for " +
                                        (mode == "sync" ? "every standby" : "one standby")));
    });
  if (p == "/api/sync/disable")
    return post([&] {
      control_->set_mode("async", false);
      return json_response(200, message("replication mode async: the standbys keep streaming, commits no longer "
                                        "wait for them (a failover may lose what they had not received)"));
    });
  if (p == "/api/auto-failover/enable" || p == "/api/auto-failover/disable")
    return post([&] {
      const bool on = p == "/api/auto-failover/enable";
      control_->set_auto_failover(on);
      return json_response(200, message(std::string("auto_failover ") + (on ? "on" : "off")));
    });
  if (p == "/api/consistency-check")
    return post([&] {
      ApiResponse r;
      r.body = control_->check_consistency(string_field(body_object(req), "standby", true));
      return r;
    });
  // A peer kestreld's replicator (replicator-changelog ships batches and
  // snapshots to the standby this daemon holds). The error keeps the
  // replicator's result name ("code"), since FENCED and UNAVAILABLE share 503.
  static const std::string kChanges = "/api/changes/";
  if (p.compare(0, kChanges.size(), kChanges) == 0 && p.size() > kChanges.size())
    return post([&] {
      // These calls rewrite catalog files: never open to anyone who reaches the port.
      if (token_.empty())
        throw ApiError(403, "peer calls need admin.token: set it on every daemon (and the replicator's peer_token)");
      ApiResponse r;
      try {
        r.body = control_->peer_request(p.substr(kChanges.size()), req.body);
      } catch (const Error& e) {
        r.status = ha_status_for(e);
        Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
        o->set("error", std::string(e.what()));
        o->set("status", r.status);
        o->set("code", std::string(result_name(e.code())));
        o->set("retryable", e.retryable());
        r = json_response(r.status, o);
      }
      return r;
    });
  if (p == "/primary" || p == "/replica" || p == "/health")
    return get([&] { return role_check(p.substr(1), this_node_, req); });
  if (p.rfind("/primary/", 0) == 0 && p.size() > 9) return get([&] { return role_check("primary", p.substr(9), req); });
  if (p.rfind("/replica/", 0) == 0 && p.size() > 9) return get([&] { return role_check("replica", p.substr(9), req); });
  throw ApiError(404, "no such endpoint: " + p +
                          " (see /api/status, /api/health, /api/failover/{node}, /api/switchover, /api/history, "
                          "/api/replication-lag, /api/sync-status, /api/conflicts, /api/changes/{method}, /primary, /replica, /health, "
                          "/metrics)");
}

ApiResponse HaApi::health() const {
  const ha::ClusterView c = control_->status();
  Poco::JSON::Object::Ptr o = json_object();
  std::string why;
  const ha::NodeView* p = c.primary.empty() ? nullptr : find_node(c, c.primary);
  if (c.failover_in_progress)
    why = "a failover runs: writes are held";
  else if (p == nullptr)
    why = "no primary accepts writes";
  else if (!p->healthy)
    why = "the primary " + c.primary + " does not answer: " + p->detail;
  o->set("status", why.empty() ? "ok" : "unavailable");
  o->set("epoch", c.epoch);
  o->set("primary", c.primary);
  o->set("mode", c.mode);
  if (!why.empty()) o->set("reason", why);
  o->set("failover_candidate", c.failover_candidate);
  if (c.failover_candidate.empty()) o->set("no_candidate_reason", c.no_candidate_reason);
  return json_response(why.empty() ? 200 : 503, o);
}

// Patroni's load-balancer checks: 200 when `node` has the role (and, for
// replica, is within ?lag), 503 otherwise; the node's view as the body.
ApiResponse HaApi::role_check(const std::string& role, const std::string& node, const ApiRequest& req) const {
  const ha::ClusterView c = control_->status();
  const LagBound bound = lag_bound(req);
  const ha::NodeView* n = find_node(c, node);
  if (n == nullptr && node == this_node_) {
    // One daemon manages every node: answer for the cluster.
    if (role == "health") return health();
    if (role == "primary") {
      n = c.primary.empty() ? nullptr : find_node(c, c.primary);
    } else {
      for (const ha::NodeView& v : c.nodes)
        if (v.role == "standby" && v.healthy && within(v, bound) && (n == nullptr || v.priority < n->priority)) n = &v;
    }
    if (n == nullptr) return error_response(503, "no node of this cluster is a healthy " + role + " now");
  }
  if (n == nullptr) throw ApiError(404, "unknown node '" + node + "'");
  bool ok;
  if (role == "primary")
    ok = n->healthy && n->name == c.primary && !c.failover_in_progress;
  else if (role == "replica")
    ok = n->healthy && n->role == "standby" && within(*n, bound);
  else
    ok = n->healthy;
  return json_response(ok ? 200 : 503, ha::node_json(*n));
}

namespace {

// ?limit=N, 0..100000 (0: all); `fallback` when absent.
size_t limit_param(const ApiRequest& req, size_t fallback) {
  auto it = req.query.find("limit");
  if (it == req.query.end()) return fallback;
  Poco::UInt64 v = 0;
  if (!Poco::NumberParser::tryParseUnsigned64(it->second, v) || v > 100000)
    throw ApiError(400, "query parameter 'limit' must be an integer 0..100000, not '" + it->second + "'");
  return static_cast<size_t>(v);
}

}  // namespace

ApiResponse HaApi::conflicts(const ApiRequest& req) const {
  Poco::JSON::Object::Ptr o = json_object();
  o->set("conflicts", Poco::JSON::Parser().parse(control_->conflicts(limit_param(req, 100))));
  return json_response(200, o);
}

ApiResponse HaApi::history(const ApiRequest& req) const {
  const size_t limit = limit_param(req, 0);
  Poco::JSON::Array::Ptr events = new Poco::JSON::Array;
  for (const ha::FailoverEvent& e : control_->history(limit)) events->add(ha::event_json(e));
  Poco::JSON::Object::Ptr o = json_object();
  o->set("events", events);
  return json_response(200, o);
}

ApiResponse HaApi::replication_lag() const {
  const ha::ClusterView c = control_->status();
  Poco::JSON::Array::Ptr nodes = new Poco::JSON::Array;
  for (const ha::NodeView& n : c.nodes) {
    Poco::JSON::Object::Ptr o = json_object();
    o->set("name", n.name);
    o->set("role", n.role);
    o->set("healthy", n.healthy);
    o->set("lsn", n.lsn);
    o->set("lag_bytes", n.lag_bytes);
    if (std::isnan(n.lag_seconds))
      o->set("lag_seconds", Poco::Dynamic::Var());
    else
      o->set("lag_seconds", n.lag_seconds);
    // The health check these figures come from (a poller tells a fresh
    // figure from a repeated one by it).
    o->set("last_check_at_us", static_cast<Poco::Int64>(n.last_check_at_us));
    nodes->add(o);
  }
  Poco::JSON::Object::Ptr o = json_object();
  o->set("primary", c.primary);
  o->set("nodes", nodes);
  return json_response(200, o);
}

ApiResponse HaApi::sync_status() const {
  const ha::ClusterView c = control_->status();
  Poco::JSON::Array::Ptr standbys = new Poco::JSON::Array;
  for (const ha::NodeView& n : c.nodes) {
    if (n.name == c.primary) continue;
    Poco::JSON::Object::Ptr o = json_object();
    o->set("name", n.name);
    o->set("role", n.role);
    o->set("healthy", n.healthy);
    o->set("sync_state", n.sync_state);
    o->set("lag_bytes", n.lag_bytes);
    if (std::isnan(n.lag_seconds))
      o->set("lag_seconds", Poco::Dynamic::Var());
    else
      o->set("lag_seconds", n.lag_seconds);
    standbys->add(o);
  }
  Poco::JSON::Object::Ptr o = json_object();
  o->set("mode", c.mode);
  o->set("sync_enabled", c.mode == "sync" || c.mode == "semi-sync");
  o->set("primary", c.primary);
  o->set("epoch", c.epoch);
  o->set("standbys", standbys);
  return json_response(200, o);
}

}  // namespace kestrel::host
