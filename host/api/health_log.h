// HealthLog: what the App API's /api/health answers tell the log. Monitors
// poll /api/health every few seconds; logging each 503 body would bury the one
// line that matters. Instead:
//   - one WARNING line when a component turns unhealthy, naming it and its
//     state ("health: component 'images' unhealthy: <reason>"; the state is
//     what /api/health shows, "unhealthy: ..." or "not started: ..."), and one
//     when it changes;
//   - while it stays unhealthy, at most one line per `repeat_interval`
//     ("health: component 'images' still unhealthy: N checks since <UTC>: <reason>");
//   - one INFO line when it is healthy again
//     ("health: component 'images' healthy again after N unhealthy checks since <UTC>").
// A component seen for the first time is assumed to have been healthy.
// Reasons are flattened to one line (libpq messages carry newlines).
//
// Thread-safe: record() may be called from any thread, concurrently (one
// mutex); it returns the lines and logs nothing itself, so it is testable
// without a logger and a clock.
#ifndef KESTREL_HOST_API_HEALTH_LOG_H_
#define KESTREL_HOST_API_HEALTH_LOG_H_

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace kestrel::host {

class HealthLog {
 public:
  using Clock = std::chrono::system_clock;

  struct Line {
    bool warning = false;  // true: WARNING (unhealthy); false: INFO (healthy again)
    std::string text;      // one line, no newline
  };

  explicit HealthLog(std::chrono::seconds repeat_interval = std::chrono::seconds(60));

  // Records one health check at `now`: `states` maps each component id to
  // its state, kHealthy for a healthy one, else why not ("unhealthy: why").
  // Returns the lines to log, in component id order (often none).
  std::vector<Line> record(const std::map<std::string, std::string>& states, Clock::time_point now);

  static constexpr const char* kHealthy = "started";

 private:
  struct Unhealthy {
    std::string reason;             // flattened
    Clock::time_point since;        // first unhealthy check of this spell
    Clock::time_point last_report;  // last line logged for it
    uint64_t checks = 0;            // unhealthy checks in this spell, the first included
  };

  const std::chrono::seconds repeat_interval_;
  std::mutex mu_;
  std::map<std::string, Unhealthy> unhealthy_;  // component id -> current spell
};

// `text` on one line: CR, LF and tabs become single spaces, runs collapsed.
std::string one_line(const std::string& text);

}  // namespace kestrel::host

#endif  // KESTREL_HOST_API_HEALTH_LOG_H_
