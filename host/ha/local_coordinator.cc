#include "ha/local_coordinator.h"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Timestamp.h>

#include <algorithm>
#include <chrono>

#include "ha/ha_json.h"

namespace kestrel::host::ha {
namespace {

constexpr const char* kLeaderKey = "coordinator/leader";
constexpr const char* kStateKey = "coordinator/state";

int64_t now_us() { return Poco::Timestamp().epochMicroseconds(); }

Poco::JSON::Object::Ptr parse_object(const std::string& text) {
  try {
    return Poco::JSON::Parser().parse(text).extract<Poco::JSON::Object::Ptr>();
  } catch (const Poco::Exception&) {
    return nullptr;
  }
}

}  // namespace

kestrel_result coordinator_local_negotiate(const kestrel_loader_info* loader, kestrel_plugin_info* out,
                                           kestrel_status* status) {
  static const kestrel_component_desc components[] = {describe<LocalCoordinator>(
      "coordinator-local",
      "one kestreld manages every node: the leader lease and the cluster state in host-state.db, by compare-and-set")};
  return detail::negotiate(loader, out, status, "coordinator-local", KESTREL_VERSION, "built into kestreld",
                           components, 1);
}

LocalCoordinator::LocalCoordinator(const CreateArgs& args) : LocalCoordinator(args.host(), args.host_ctx()) {}

LocalCoordinator::LocalCoordinator(const kestrel_host_api* api, kestrel_host_ctx* ctx) : api_(api), ctx_(ctx) {
  if (!api_ || !KESTREL_HAS(api_, kestrel_host_api, kv_list) || !api_->kv_get || !api_->kv_compare_and_set)
    throw Error(KESTREL_ERR_UNSUPPORTED, "the local coordinator needs the host's key-value store (ABI 1.3)");
}

kestrel_interface LocalCoordinator::as_interface() {
  kestrel_interface i{};
  i.struct_size = sizeof i;
  i.vtable = CoordinatorProvider::table();
  i.instance = static_cast<Component*>(this);
  return i;
}

bool LocalCoordinator::get(const char* key, std::string* value, uint64_t* version) const {
  value->clear();
  *version = 0;
  kestrel_status st = make_status();
  const kestrel_result r = api_->kv_get(ctx_, key, &string_sink, value, version, &st);
  if (r == KESTREL_ERR_NOT_FOUND) return false;
  if (r != KESTREL_OK) throw Error(KESTREL_ERR_UNAVAILABLE, std::string("local coordinator: host-state.db: ") + st.message, true);
  return true;
}

uint64_t LocalCoordinator::compare_and_set(const char* key, uint64_t expected, const std::string& value) {
  uint64_t version = 0;
  kestrel_status st = make_status();
  const kestrel_result r =
      api_->kv_compare_and_set(ctx_, key, expected, value.data(), value.size(), &version, &st);
  if (r == KESTREL_ERR_CONFLICT)
    throw Error(KESTREL_ERR_CONFLICT, std::string(key) + " changed: its version is " + std::to_string(version) +
                                          ", not " + std::to_string(expected));
  if (r != KESTREL_OK) throw Error(KESTREL_ERR_UNAVAILABLE, std::string("local coordinator: host-state.db: ") + st.message, true);
  return version;
}

Lease LocalCoordinator::coordinator_acquire(const std::string& member, uint32_t ttl_ms) {
  if (member.empty()) throw Error(KESTREL_ERR_INVALID, "acquire leadership: empty member name");
  // A lost compare-and-set means another thread or process renewed or took
  // the lease in between: look again (bounded; the loser of a real race
  // sees the winner's lease the second time).
  for (int attempt = 0; attempt < 5; ++attempt) {
    std::string text;
    uint64_t version = 0;
    const bool present = get(kLeaderKey, &text, &version);
    const int64_t now = now_us();
    if (present) {
      Poco::JSON::Object::Ptr o = parse_object(text);
      const std::string holder = o ? o->optValue<std::string>("member", "") : "";
      const int64_t until = o ? o->optValue<Poco::Int64>("until_us", 0) : 0;
      if (!holder.empty() && holder != member && until > now) return Lease{};
    }
    Poco::JSON::Object::Ptr lease = new Poco::JSON::Object;
    lease->set("member", member);
    const int64_t until = now + static_cast<int64_t>(ttl_ms) * 1000;
    lease->set("until_us", until);
    try {
      compare_and_set(kLeaderKey, present ? version : 0, to_text(lease));
      return Lease{true, until};
    } catch (const Error& e) {
      if (e.code() != KESTREL_ERR_CONFLICT) throw;
    }
  }
  return Lease{};
}

void LocalCoordinator::coordinator_release(const std::string& member) {
  std::string text;
  uint64_t version = 0;
  if (!get(kLeaderKey, &text, &version)) return;
  Poco::JSON::Object::Ptr o = parse_object(text);
  if (!o || o->optValue<std::string>("member", "") != member) return;
  Poco::JSON::Object::Ptr free_lease = new Poco::JSON::Object;
  free_lease->set("member", "");
  free_lease->set("until_us", 0);
  try {
    compare_and_set(kLeaderKey, version, to_text(free_lease));
  } catch (const Error& e) {
    if (e.code() != KESTREL_ERR_CONFLICT) throw;  // renewed or taken meanwhile: not ours to free
  }
}

std::string LocalCoordinator::coordinator_get_state(uint64_t* version) {
  std::string text;
  uint64_t v = 0;
  if (!get(kStateKey, &text, &v)) text = "{}";
  if (version) *version = v;
  return text;
}

uint64_t LocalCoordinator::coordinator_compare_and_set(uint64_t expected_version, const std::string& state_json) {
  if (!parse_object(state_json))
    throw Error(KESTREL_ERR_INVALID, "cluster state: not a JSON object: " + state_json.substr(0, 80));
  const uint64_t v = compare_and_set(kStateKey, expected_version, state_json);
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++changes_;
  }
  changed_.notify_all();
  return v;
}

uint64_t LocalCoordinator::coordinator_watch(uint64_t after_version, uint32_t timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    uint64_t seen;
    {
      std::lock_guard<std::mutex> lock(mu_);
      seen = changes_;  // taken before the read: a change after it ends the wait below at once
    }
    std::string text;
    uint64_t v = 0;
    get(kStateKey, &text, &v);
    if (v > after_version) return v;
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline)
      throw Error(KESTREL_ERR_TIMEOUT, "cluster state still at version " + std::to_string(v) + " after " +
                                           std::to_string(timeout_ms) + " ms");
    // Woken at once by a change in this process; another process sharing
    // host-state.db is seen within 100 ms.
    std::unique_lock<std::mutex> lock(mu_);
    changed_.wait_for(lock, std::min<std::chrono::steady_clock::duration>(deadline - now, std::chrono::milliseconds(100)),
                      [&] { return changes_ != seen; });
  }
}

void LocalCoordinator::health() {
  std::string text;
  uint64_t v = 0;
  get(kStateKey, &text, &v);
}

std::string LocalCoordinator::status_json() {
  Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
  o->set("kind", "local");
  try {
    std::string text;
    uint64_t v = 0;
    if (get(kLeaderKey, &text, &v)) {
      Poco::JSON::Object::Ptr l = parse_object(text);
      if (l) {
        o->set("leader", l->optValue<std::string>("member", ""));
        o->set("lease_until_us", l->optValue<Poco::Int64>("until_us", 0));
      }
    }
    get(kStateKey, &text, &v);
    o->set("state_version", v);
  } catch (const Error& e) {
    o->set("error", std::string(e.what()));
  }
  return to_text(o);
}

}  // namespace kestrel::host::ha
