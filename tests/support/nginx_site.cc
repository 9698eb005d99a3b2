#include "kestrel/test/nginx_site.h"

#include <chrono>
#include <fstream>
#include <regex>
#include <set>
#include <stdexcept>

#include "kestrel/test/child_process.h"
#include "kestrel/test/paths.h"

namespace kestrel {
namespace test {
namespace {

std::string demo_site_script() { return source_dir() + "/tests/fixtures/demo-site.sh"; }

// Runs demo-site.sh with `args`; returns its stdout, throws with its stderr.
std::string run_script(const TempDir& prefix, const std::vector<std::string>& args, const char* name) {
  ChildProcess script(demo_site_script(), args, prefix.file(std::string(name) + ".out"),
                      prefix.file(std::string(name) + ".err"));
  int code = script.wait_or_kill(std::chrono::seconds(60));
  if (code != 0)
    throw std::runtime_error(script.command_line() + " exited with " + std::to_string(code) + ": " +
                             script.stderr_text());
  return script.stdout_text();
}

}  // namespace

NginxSite::NginxSite(const std::string& root) : prefix_("nginx"), root_(root) {
  std::string out = run_script(prefix_, {"start", "--root", root, "--prefix", prefix_.path()}, "start");
  running_ = true;
  std::smatch m;
  static const std::regex kUrl(R"((http://127\.0\.0\.1:(\d+)/))");
  if (!std::regex_search(out, m, kUrl)) {
    stop();
    throw std::runtime_error("demo-site.sh start printed no URL: '" + out + "'");
  }
  url_ = m[1];
  port_ = static_cast<uint16_t>(std::stoi(m[2]));
}

NginxSite::~NginxSite() { stop(); }

void NginxSite::stop() noexcept {
  if (!running_) return;
  running_ = false;
  try {
    run_script(prefix_, {"stop", "--prefix", prefix_.path()}, "stop");
  } catch (...) {
    // Best effort: the script already escalates to SIGKILL.
  }
}

NginxSite::AccessStats NginxSite::access_stats() const {
  // Lines look like: 127.0.0.1 [time] "GET /path HTTP/1.1" 200 123 "agent" conn=7 reqs=2
  static const std::regex kLine(R"re("(\S+) (\S+) [^"]*" (\d{3}) \d+ "([^"]*)" conn=(\d+) reqs=(\d+)\s*$)re");
  AccessStats stats;
  std::set<std::string> connections;
  std::ifstream in(access_log_path());
  std::string line;
  while (std::getline(in, line)) {
    std::smatch m;
    if (!std::regex_search(line, m, kLine)) continue;
    if (m[4] == "kestrel-demo-site-probe") continue;  // demo-site.sh's readiness check
    ++stats.requests;
    ++stats.by_status[std::stoi(m[3])];
    ++stats.by_path[m[2]];
    connections.insert(m[5]);
  }
  stats.connections = connections.size();
  return stats;
}

}  // namespace test
}  // namespace kestrel
