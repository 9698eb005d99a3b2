#include "kestrelctl/ha_commands.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/Timestamp.h>
#include <Poco/DateTimeFormatter.h>
#include <Poco/URI.h>

#include <cmath>
#include <iomanip>
#include <sstream>

#include "kestrelctl/commands.h"

namespace kestrel::ctl {
namespace {

std::string text(const Poco::JSON::Object::Ptr& o, const char* key) {
  if (!o || !o->has(key) || o->isNull(key)) return "";
  return o->get(key).toString();
}

bool flag(const Poco::JSON::Object::Ptr& o, const char* key) { return text(o, key) == "true"; }

int failed(const std::string& what, const ApiReply& r, std::ostream& err) {
  err << "kestrelctl: " << what << ": " << r.error_message() << " (HTTP " << r.status << ")\n";
  return kExitServerError;
}

// The reply's JSON (or its error) as --json prints it; false when it failed.
bool print_json(const ApiReply& r, std::ostream& out) {
  out << r.body << (r.body.empty() || r.body.back() != '\n' ? "\n" : "");
  return r.ok();
}

std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string bytes(const std::string& v) {
  if (v.empty()) return "-";
  const long long b = std::stoll(v);
  if (b < 0) return "unknown";
  std::ostringstream o;
  if (b < 1024) o << b << " B";
  else if (b < (1 << 20)) o << std::fixed << std::setprecision(1) << b / 1024.0 << " KiB";
  else o << std::fixed << std::setprecision(1) << b / 1048576.0 << " MiB";
  return o.str();
}

std::string time_us(const std::string& v) {
  if (v.empty() || v == "0") return "-";
  return Poco::DateTimeFormatter::format(Poco::Timestamp(std::stoll(v)), "%Y-%m-%d %H:%M:%S.%iZ");
}

std::string ms(const std::string& v) {
  if (v.empty()) return "-";
  const double d = std::stod(v);
  if (d < 0) return "-";
  std::ostringstream o;
  o << std::fixed << std::setprecision(1) << d << " ms";
  return o.str();
}

void print_event(const Poco::JSON::Object::Ptr& e, std::ostream& out) {
  out << time_us(text(e, "started_at_us")) << "  " << text(e, "kind") << " " << text(e, "from") << " -> "
      << text(e, "to") << "  epoch " << text(e, "epoch_before") << " -> " << text(e, "epoch_after") << "  "
      << (flag(e, "succeeded") ? "succeeded" : "FAILED") << " in " << text(e, "duration_ms") << " ms";
  if (text(e, "write_pause_ms") != "-1") out << ", writes held " << text(e, "write_pause_ms") << " ms";
  if (text(e, "lost_bytes") != "-1") out << ", lost " << bytes(text(e, "lost_bytes"));
  out << (flag(e, "automatic") ? "  (automatic)" : "  (manual)");
  if (!text(e, "reason").empty()) out << "\n    reason: " << text(e, "reason");
  if (!text(e, "detail").empty()) out << "\n    detail: " << text(e, "detail");
  out << "\n";
}

}  // namespace

int cmd_ha_status(const ApiClient& admin, bool json, std::ostream& out, std::ostream& err) {
  const ApiReply r = admin.call("GET", "/api/status");
  if (json) return print_json(r, out) ? kExitOk : kExitServerError;
  if (!r.ok() || !r.json) return failed("status", r, err);
  const auto& s = r.json;
  out << "primary: " << (text(s, "primary").empty() ? "(none)" : text(s, "primary")) << "  epoch: "
      << text(s, "epoch") << "  mode: " << text(s, "mode") << "  auto_failover: "
      << (flag(s, "auto_failover") ? "on" : "off") << (flag(s, "failover_in_progress") ? "  FAILOVER RUNNING" : "")
      << "\n";
  if (!text(s, "lease_note").empty()) out << "leader: " << (text(s, "leader").empty() ? "not this daemon" : text(s, "leader"))
                                          << " (" << text(s, "lease_note") << ")\n";
  std::ostringstream table;
  table << std::left << std::setw(12) << "NODE" << std::setw(11) << "ROLE" << std::setw(10) << "PRIORITY"
        << std::setw(10) << "HEALTH" << std::setw(12) << "RESPONSE" << std::setw(12) << "LAG" << "SYNC\n";
  Poco::JSON::Array::Ptr nodes = s->getArray("nodes");
  bool any_down = false;
  for (size_t i = 0; nodes && i < nodes->size(); ++i) {
    Poco::JSON::Object::Ptr n = nodes->getObject(static_cast<unsigned>(i));
    const bool healthy = flag(n, "healthy");
    const std::string health = healthy ? "ok" : "down(" + text(n, "consecutive_failures") + ")";
    const bool primary = text(n, "name") == text(s, "primary");
    // A node that does not answer shows the role it had when it last did.
    const std::string role = healthy ? text(n, "role") : "(" + text(n, "role") + ")";
    any_down = any_down || !healthy;
    table << std::left << std::setw(12) << text(n, "name") << std::setw(11) << role << std::setw(10)
          << text(n, "priority") << std::setw(10) << health << std::setw(12) << ms(text(n, "response_ms"))
          << std::setw(12) << (primary ? "-" : bytes(text(n, "lag_bytes")))
          << (text(n, "sync_state").empty() ? "-" : text(n, "sync_state")) << "\n";
  }
  out << table.str();
  if (any_down) out << "(role): the role a node had when it last answered\n";
  if (!text(s, "failover_candidate").empty())
    out << "failover candidate: " << text(s, "failover_candidate") << "\n";
  else
    out << "no failover candidate: " << text(s, "no_candidate_reason") << "\n";
  for (size_t i = 0; nodes && i < nodes->size(); ++i) {
    Poco::JSON::Object::Ptr n = nodes->getObject(static_cast<unsigned>(i));
    if (!flag(n, "healthy") && !text(n, "detail").empty()) out << text(n, "name") << ": " << text(n, "detail") << "\n";
  }
  return kExitOk;
}

int cmd_ha_test(const ApiClient& admin, bool json, std::ostream& out, std::ostream& err) {
  const ApiReply r = admin.call("GET", "/api/status");
  if (!r.ok() || !r.json) return json ? (print_json(r, out), kExitServerError) : failed("test", r, err);
  Poco::JSON::Array::Ptr nodes = r.json->getArray("nodes");
  int down = 0;
  if (json) {
    print_json(r, out);
    for (size_t i = 0; nodes && i < nodes->size(); ++i)
      down += flag(nodes->getObject(static_cast<unsigned>(i)), "healthy") ? 0 : 1;
    return down ? kExitServerError : kExitOk;
  }
  for (size_t i = 0; nodes && i < nodes->size(); ++i) {
    Poco::JSON::Object::Ptr n = nodes->getObject(static_cast<unsigned>(i));
    if (flag(n, "healthy")) {
      out << text(n, "name") << ": ok, " << text(n, "role") << ", answered in " << ms(text(n, "response_ms")) << "\n";
    } else {
      ++down;
      out << text(n, "name") << ": FAILED (" << text(n, "detail") << ")\n";
    }
  }
  out << (down ? std::to_string(down) + " node(s) unhealthy\n" : "all nodes answer\n");
  return down ? kExitServerError : kExitOk;
}

int cmd_failover(const ApiClient& admin, const std::string& node, const std::string& reason, bool force, bool json,
                 std::ostream& out, std::ostream& err) {
  std::string body = "{\"force\":" + std::string(force ? "true" : "false");
  if (!reason.empty()) body += ",\"reason\":" + quoted(reason);
  body += "}";
  std::string path;
  Poco::URI::encode(node, "/?#", path);
  const ApiReply r = admin.call("POST", "/api/failover/" + path, body);
  if (json) return print_json(r, out) ? kExitOk : kExitServerError;
  if (!r.ok() || !r.json) return failed("failover to " + node, r, err);
  print_event(r.json, out);
  return kExitOk;
}

int cmd_switchover(const ApiClient& admin, const std::string& node, bool json, std::ostream& out, std::ostream& err) {
  const ApiReply r = admin.call("POST", "/api/switchover", "{\"target\":" + quoted(node) + "}");
  if (json) return print_json(r, out) ? kExitOk : kExitServerError;
  if (!r.ok() || !r.json) return failed("switchover to " + node, r, err);
  print_event(r.json, out);
  return kExitOk;
}

int cmd_history(const ApiClient& admin, uint64_t limit, bool json, std::ostream& out, std::ostream& err) {
  const ApiReply r = admin.call("GET", "/api/history?limit=" + std::to_string(limit));
  if (json) return print_json(r, out) ? kExitOk : kExitServerError;
  if (!r.ok() || !r.json) return failed("history", r, err);
  Poco::JSON::Array::Ptr events = r.json->getArray("events");
  if (!events || events->size() == 0) out << "no failover or switchover yet\n";
  for (size_t i = 0; events && i < events->size(); ++i) print_event(events->getObject(static_cast<unsigned>(i)), out);
  return kExitOk;
}

int cmd_conflicts(const ApiClient& admin, uint64_t limit, bool json, std::ostream& out, std::ostream& err) {
  const ApiReply r = admin.call("GET", "/api/conflicts?limit=" + std::to_string(limit));
  if (json) return print_json(r, out) ? kExitOk : kExitServerError;
  if (!r.ok() || !r.json) return failed("conflicts", r, err);
  Poco::JSON::Array::Ptr list = r.json->getArray("conflicts");
  if (!list || list->size() == 0) out << "no conflicts: no former primary held a change the primary lacks\n";
  for (size_t i = 0; list && i < list->size(); ++i) {
    Poco::JSON::Object::Ptr c = list->getObject(static_cast<unsigned>(i));
    // node, epoch and change, then what it did: "a epoch 1 change 23: upsert images id 21"
    out << text(c, "node") << " epoch " << text(c, "epoch") << " change " << text(c, "seq") << ": " << text(c, "op")
        << " " << text(c, "table") << " id " << text(c, "row_id") << "\n";
  }
  return kExitOk;
}

int cmd_replication_status(const ApiClient& admin, bool json, std::ostream& out, std::ostream& err) {
  const ApiReply r = admin.call("GET", "/api/sync-status");
  if (json) return print_json(r, out) ? kExitOk : kExitServerError;
  if (!r.ok() || !r.json) return failed("replication status", r, err);
  out << "mode: " << text(r.json, "mode") << "  primary: " << text(r.json, "primary") << "  epoch: "
      << text(r.json, "epoch") << "\n";
  Poco::JSON::Array::Ptr standbys = r.json->getArray("standbys");
  if (!standbys || standbys->size() == 0) out << "no standbys\n";
  for (size_t i = 0; standbys && i < standbys->size(); ++i) {
    Poco::JSON::Object::Ptr s = standbys->getObject(static_cast<unsigned>(i));
    const std::string secs = text(s, "lag_seconds");
    out << text(s, "name") << ": " << (flag(s, "healthy") ? text(s, "role") : "down") << ", sync_state "
        << (text(s, "sync_state").empty() ? "-" : text(s, "sync_state")) << ", lag " << bytes(text(s, "lag_bytes"))
        << (secs.empty() ? "" : " / " + secs + " s") << "\n";
  }
  return kExitOk;
}

int cmd_standby_action(const ApiClient& admin, const std::string& path, const std::string& node, bool json,
                       std::ostream& out, std::ostream& err) {
  const ApiReply r = admin.call("POST", path, "{\"standby\":" + quoted(node) + "}");
  if (json || (r.ok() && !r.json)) return print_json(r, out) ? kExitOk : kExitServerError;
  if (!r.ok()) return failed(path.substr(5) + " " + node, r, err);
  if (r.json->has("message"))
    out << text(r.json, "message") << "\n";
  else
    print_json(r, out);  // the consistency report
  return kExitOk;
}

int cmd_post(const ApiClient& admin, const std::string& path, const std::string& body, bool json, std::ostream& out,
             std::ostream& err) {
  const ApiReply r = admin.call("POST", path, body);
  if (json) return print_json(r, out) ? kExitOk : kExitServerError;
  if (!r.ok() || !r.json) return failed(path.substr(5), r, err);
  out << text(r.json, "message") << "\n";
  return kExitOk;
}

}  // namespace kestrel::ctl
