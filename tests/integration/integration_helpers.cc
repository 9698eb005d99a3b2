#include "integration_helpers.h"

#include <thread>

#include "kestrel/test/paths.h"

namespace kestrel {
namespace test {
namespace {

std::string tail(const std::string& s, size_t max) { return s.size() <= max ? s : "..." + s.substr(s.size() - max); }

}  // namespace

std::string fixture_site_root() { return source_dir() + "/tests/fixtures/site"; }

bool poll_until(const std::function<bool()>& done, std::chrono::milliseconds deadline,
                std::chrono::milliseconds interval) {
  const auto end = std::chrono::steady_clock::now() + deadline;
  for (;;) {
    try {
      if (done()) return true;
    } catch (const std::exception&) {
      // not ready yet
    }
    if (std::chrono::steady_clock::now() >= end) return false;
    std::this_thread::sleep_for(interval);
  }
}

std::string run_output(const KestrelNode::Run& run) {
  return "exit " + std::to_string(run.exit_code) + "\n--- stdout:\n" + tail(run.out, 3000) + "\n--- stderr:\n" +
         tail(run.err, 3000);
}

}  // namespace test
}  // namespace kestrel
