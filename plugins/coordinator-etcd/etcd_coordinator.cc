// EtcdCoordinator (see etcd_coordinator.h). Each call is one or a few
// requests to etcd's JSON gateway; the mapping is in README.md.
#include "etcd_coordinator.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Timestamp.h>

#include <sstream>

namespace kestrel {
namespace coordinator_etcd {
namespace {

const kestrel_option_desc kOptions[] = {
    option("endpoints", KESTREL_OPT_STRING_LIST, "http://127.0.0.1:2379",
           "etcd client URLs (http://host:port, plain HTTP), tried in this order; a request that finds one "
           "unreachable (refused, timed out, or etcd answering 'unavailable') goes on to the next, and later "
           "requests start with the last one that answered"),
    option("prefix", KESTREL_OPT_STRING, "/kestrel/cluster/",
           "key prefix of this cluster in etcd: the keys are <prefix>leader and <prefix>state. Every daemon of "
           "one cluster must use the same prefix (node.name is not part of it for that reason); two clusters "
           "sharing one etcd need different prefixes"),
    option("request_timeout", KESTREL_OPT_DURATION, "2s",
           "bound on the connect, each send and each receive of one request to one endpoint; an endpoint that "
           "does not answer within it counts as unreachable"),
};

int64_t now_us() { return Poco::Timestamp().epochMicroseconds(); }

Poco::JSON::Object::Ptr parse_object(const std::string& text) {
  try {
    return Poco::JSON::Parser().parse(text).extract<Poco::JSON::Object::Ptr>();
  } catch (const Poco::Exception&) {
    return nullptr;
  }
}

Poco::JSON::Object::Ptr object() { return new Poco::JSON::Object; }

// One comparison of a txn: {"key", "target": MOD|CREATE|VALUE, "result": EQUAL, <field>: value}.
Poco::JSON::Object::Ptr compare(const std::string& key, const char* target, const char* field,
                                const std::string& value) {
  Poco::JSON::Object::Ptr c = object();
  c->set("key", base64_encode(key));
  c->set("target", target);
  c->set("result", "EQUAL");
  c->set(field, value);
  return c;
}

Poco::JSON::Object::Ptr request(const char* kind, const Poco::JSON::Object::Ptr& body) {
  Poco::JSON::Object::Ptr r = object();
  r->set(kind, body);
  return r;
}

Poco::JSON::Object::Ptr key_only(const std::string& key) {
  Poco::JSON::Object::Ptr o = object();
  o->set("key", base64_encode(key));
  return o;
}

Poco::JSON::Object txn(const std::vector<Poco::JSON::Object::Ptr>& compares,
                       const std::vector<Poco::JSON::Object::Ptr>& success,
                       const std::vector<Poco::JSON::Object::Ptr>& failure) {
  Poco::JSON::Object t;
  Poco::JSON::Array::Ptr c = new Poco::JSON::Array, s = new Poco::JSON::Array, f = new Poco::JSON::Array;
  for (const auto& x : compares) c->add(x);
  for (const auto& x : success) s->add(x);
  for (const auto& x : failure) f->add(x);
  t.set("compare", c);
  t.set("success", s);
  if (!failure.empty()) t.set("failure", f);
  return t;
}

uint64_t header_revision(const Poco::JSON::Object::Ptr& answer) {
  return u64_field(answer->getObject("header"), "revision");
}

// The first kv of a range answer (or of a txn's response_range), if any.
Poco::JSON::Object::Ptr first_kv(const Poco::JSON::Object::Ptr& range_answer) {
  if (!range_answer) return nullptr;
  Poco::JSON::Array::Ptr kvs = range_answer->getArray("kvs");
  if (!kvs || kvs->size() == 0) return nullptr;
  return kvs->getObject(0);
}

// The response_range of a failed txn whose failure branch was one range.
Poco::JSON::Object::Ptr failure_range(const Poco::JSON::Object::Ptr& txn_answer) {
  Poco::JSON::Array::Ptr rs = txn_answer->getArray("responses");
  if (!rs || rs->size() == 0) return nullptr;
  Poco::JSON::Object::Ptr r = rs->getObject(0);
  return r ? r->getObject("response_range") : nullptr;
}

std::string text_of(const Poco::JSON::Object::Ptr& o) {
  std::ostringstream out;
  o->stringify(out);
  return out.str();
}

}  // namespace

const kestrel_component_desc& component_descriptor() {
  static const kestrel_component_desc desc = describe<EtcdCoordinator>(
      "coordinator-etcd",
      "several kestreld daemons agree through etcd: the leader lease as an etcd lease, the cluster state "
      "changed by compare-and-set on its mod_revision",
      kOptions);
  return desc;
}

EtcdCoordinator::EtcdCoordinator(const CreateArgs& args)
    : gateway_(args.get_list("endpoints"), static_cast<uint32_t>(args.get_duration_ms("request_timeout"))),
      prefix_(args.get_string("prefix")) {
  if (prefix_.empty()) throw Error(KESTREL_ERR_INVALID, "prefix: must not be empty (e.g. /kestrel/cluster/)");
  leader_key_ = prefix_ + "leader";
  state_key_ = prefix_ + "state";
}

EtcdCoordinator::KeyValue EtcdCoordinator::range(const std::string& key, uint64_t* header_rev) const {
  Poco::JSON::Object::Ptr answer = gateway_.post("/v3/kv/range", *key_only(key));
  if (header_rev) *header_rev = header_revision(answer);
  KeyValue kv;
  Poco::JSON::Object::Ptr o = first_kv(answer);
  if (!o) return kv;
  kv.present = true;
  kv.value = base64_decode(o->optValue<std::string>("value", ""));
  kv.mod_revision = u64_field(o, "mod_revision");
  kv.lease = u64_field(o, "lease");
  return kv;
}

int64_t EtcdCoordinator::keepalive(uint64_t lease) const {
  Poco::JSON::Object body;
  body.set("ID", std::to_string(lease));
  try {
    Poco::JSON::Object::Ptr answer = gateway_.post("/v3/lease/keepalive", body);
    return static_cast<int64_t>(u64_field(answer->getObject("result"), "TTL"));  // absent: expired
  } catch (const Error& e) {
    if (e.code() == KESTREL_ERR_NOT_FOUND) return 0;
    throw;
  }
}

void EtcdCoordinator::revoke(uint64_t lease) const {
  Poco::JSON::Object body;
  body.set("ID", std::to_string(lease));
  try {
    gateway_.post("/v3/lease/revoke", body);
  } catch (const Error& e) {
    if (e.code() != KESTREL_ERR_NOT_FOUND) throw;  // already expired or revoked
  }
}

Lease EtcdCoordinator::coordinator_acquire(const std::string& member, uint32_t ttl_ms) {
  if (member.empty()) throw Error(KESTREL_ERR_INVALID, "acquire leadership: empty member name");
  const int64_t ttl_s = std::max<int64_t>(1, (static_cast<int64_t>(ttl_ms) + 999) / 1000);
  // A lost race (the key appeared or our lease expired in between) looks
  // again; bounded, and the loser of a real race sees the winner the second time.
  for (int attempt = 0; attempt < 5; ++attempt) {
    const KeyValue held = range(leader_key_);
    if (held.present) {
      if (held.value != member) return Lease{};
      const int64_t sent = now_us();
      const int64_t ttl = keepalive(held.lease);
      if (ttl > 0) return Lease{true, sent + ttl * 1000000};
      continue;  // expired just now: etcd deletes the key with the lease
    }
    const int64_t sent = now_us();
    Poco::JSON::Object grant;
    grant.set("TTL", std::to_string(ttl_s));
    Poco::JSON::Object::Ptr granted = gateway_.post("/v3/lease/grant", grant);
    const uint64_t lease = u64_field(granted, "ID");
    const int64_t ttl = static_cast<int64_t>(u64_field(granted, "TTL"));
    if (lease == 0 || ttl <= 0) throw Error(KESTREL_ERR_INTERNAL, "etcd granted no lease: " + text_of(granted));
    Poco::JSON::Object::Ptr put = key_only(leader_key_);
    put->set("value", base64_encode(member));
    put->set("lease", std::to_string(lease));
    Poco::JSON::Object::Ptr answer;
    try {
      answer = gateway_.post("/v3/kv/txn", txn({compare(leader_key_, "CREATE", "create_revision", "0")},
                                               {request("request_put", put)}, {}));
    } catch (const Error&) {
      try {
        revoke(lease);  // not attached (or we cannot tell): it must not keep a key alive
      } catch (const Error&) {
        // unreachable: the lease expires on its own within its TTL
      }
      throw;
    }
    if (answer->optValue<bool>("succeeded", false)) return Lease{true, sent + ttl * 1000000};
    revoke(lease);  // someone else created the key first
  }
  return Lease{};
}

void EtcdCoordinator::coordinator_release(const std::string& member) {
  const KeyValue held = range(leader_key_);
  if (!held.present || held.value != member) return;
  Poco::JSON::Object::Ptr answer = gateway_.post(
      "/v3/kv/txn", txn({compare(leader_key_, "VALUE", "value", base64_encode(member)),
                         compare(leader_key_, "MOD", "mod_revision", std::to_string(held.mod_revision))},
                        {request("request_delete_range", key_only(leader_key_))}, {}));
  if (answer->optValue<bool>("succeeded", false) && held.lease != 0) revoke(held.lease);
}

std::string EtcdCoordinator::coordinator_get_state(uint64_t* version) {
  const KeyValue kv = range(state_key_);
  if (version) *version = kv.present ? kv.mod_revision : 0;
  return kv.present ? kv.value : "{}";
}

uint64_t EtcdCoordinator::coordinator_compare_and_set(uint64_t expected_version, const std::string& state_json) {
  if (!parse_object(state_json))
    throw Error(KESTREL_ERR_INVALID, "cluster state: not a JSON object: " + state_json.substr(0, 80));
  Poco::JSON::Object::Ptr cmp = expected_version == 0
                                    ? compare(state_key_, "CREATE", "create_revision", "0")
                                    : compare(state_key_, "MOD", "mod_revision", std::to_string(expected_version));
  Poco::JSON::Object::Ptr put = key_only(state_key_);
  put->set("value", base64_encode(state_json));
  Poco::JSON::Object::Ptr answer = gateway_.post(
      "/v3/kv/txn", txn({cmp}, {request("request_put", put)}, {request("request_range", key_only(state_key_))}));
  if (answer->optValue<bool>("succeeded", false)) return header_revision(answer);
  Poco::JSON::Object::Ptr now = first_kv(failure_range(answer));
  throw Error(KESTREL_ERR_CONFLICT, state_key_ + " changed: its version is " +
                                        std::to_string(u64_field(now, "mod_revision")) + ", not " +
                                        std::to_string(expected_version));
}

uint64_t EtcdCoordinator::coordinator_watch(uint64_t after_version, uint32_t timeout_ms) {
  uint64_t store_revision = 0;
  const KeyValue kv = range(state_key_, &store_revision);
  if (kv.present && kv.mod_revision > after_version) return kv.mod_revision;
  // Every change from the revision after the one just read: none is missed,
  // and none of them can be older than after_version.
  Poco::JSON::Object::Ptr create = key_only(state_key_);
  create->set("start_revision", std::to_string(std::max(store_revision, after_version) + 1));
  Poco::JSON::Object body;
  body.set("create_request", create);
  uint64_t seen = 0;
  const bool woke = timeout_ms > 0 && gateway_.stream("/v3/watch", body, timeout_ms, [&](const Poco::JSON::Object::Ptr& m) {
    Poco::JSON::Object::Ptr result = m->getObject("result");
    if (!result) return false;
    if (result->optValue<bool>("canceled", false))
      throw Error(KESTREL_ERR_INTERNAL, "etcd cancelled the watch of " + state_key_ + ": " +
                                            result->optValue<std::string>("cancel_reason", text_of(result)));
    Poco::JSON::Array::Ptr events = result->getArray("events");
    if (!events) return false;
    for (size_t i = 0; i < events->size(); ++i) {
      Poco::JSON::Object::Ptr e = events->getObject(i);
      if (!e || e->optValue<std::string>("type", "PUT") != "PUT") continue;  // a delete is no newer state
      const uint64_t v = u64_field(e->getObject("kv"), "mod_revision");
      if (v > after_version) {
        seen = v;
        return true;
      }
    }
    return false;
  });
  if (woke) return seen;
  throw Error(KESTREL_ERR_TIMEOUT, "cluster state still at version " + std::to_string(kv.mod_revision) + " after " +
                                       std::to_string(timeout_ms) + " ms");
}

void EtcdCoordinator::health() { range(state_key_); }

std::string EtcdCoordinator::status_json() {
  Poco::JSON::Object::Ptr o = object();
  o->set("kind", "etcd");
  Poco::JSON::Array::Ptr eps = new Poco::JSON::Array;
  for (const auto& e : gateway_.endpoints()) eps->add(e);
  o->set("endpoints", eps);
  o->set("prefix", prefix_);
  try {
    const KeyValue l = range(leader_key_);
    o->set("leader", l.present ? l.value : std::string());
    o->set("state_version", range(state_key_).mod_revision);
  } catch (const Error& e) {
    o->set("error", std::string(e.what()));
  }
  return text_of(o);
}

}  // namespace coordinator_etcd
}  // namespace kestrel
