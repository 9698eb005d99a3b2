// HealthLog (see health_log.h).
#include "api/health_log.h"

#include <ctime>

namespace kestrel::host {
namespace {

std::string utc(HealthLog::Clock::time_point t) {
  const std::time_t s = HealthLog::Clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&s, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

std::string one_line(const std::string& text) {
  std::string out;
  bool space = false;
  for (char c : text) {
    if (c == '\n' || c == '\r' || c == '\t' || c == ' ') {
      space = true;
      continue;
    }
    if (space && !out.empty()) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

HealthLog::HealthLog(std::chrono::seconds repeat_interval) : repeat_interval_(repeat_interval) {}

std::vector<HealthLog::Line> HealthLog::record(const std::map<std::string, std::string>& states,
                                               Clock::time_point now) {
  std::vector<Line> lines;
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [id, state] : states) {
    auto it = unhealthy_.find(id);
    const std::string who = "health: component '" + id + "' ";
    if (state == kHealthy) {
      if (it == unhealthy_.end()) continue;
      lines.push_back({false, who + "healthy again after " + std::to_string(it->second.checks) +
                                  " unhealthy checks since " + utc(it->second.since)});
      unhealthy_.erase(it);
      continue;
    }
    const std::string reason = one_line(state);
    if (it == unhealthy_.end()) {
      unhealthy_[id] = Unhealthy{reason, now, now, 1};
      lines.push_back({true, who + reason});
      continue;
    }
    Unhealthy& u = it->second;
    ++u.checks;
    if (u.reason != reason) {
      u.reason = reason;
      u.last_report = now;
      lines.push_back({true, who + "still unhealthy (" + std::to_string(u.checks) + " checks since " + utc(u.since) +
                                 "), reason changed: " + reason});
    } else if (now - u.last_report >= repeat_interval_) {
      u.last_report = now;
      lines.push_back({true, who + "still unhealthy: " + std::to_string(u.checks) + " checks since " + utc(u.since) +
                                 ": " + reason});
    }
  }
  return lines;
}

}  // namespace kestrel::host
