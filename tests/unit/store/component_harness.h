// Runs one component the way the host would, through its C descriptor: a
// kestrel_create_args built from the option schema (defaults plus the test's
// overrides), a tiny kestrel_host_api (log -> stderr, lookup -> NOT_FOUND),
// then create/start/stop/destroy and get_interface from the ops table.
#ifndef KESTREL_TESTS_UNIT_STORE_COMPONENT_HARNESS_H
#define KESTREL_TESTS_UNIT_STORE_COMPONENT_HARNESS_H

#include <kestrel/plugin.hpp>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace kestrel {
namespace store_test {

// Options given as config text, e.g. {"busy_timeout", "250ms"}.
using OptionText = std::map<std::string, std::string>;

// One component instance. Not thread-safe itself (lifecycle calls come from
// the test's thread), but the interfaces it hands out may be used from any
// thread, as the contract says.
class ComponentHarness {
 public:
  // Calls create(). Throws kestrel::Error with the component's code and
  // message when create fails, or Error(INVALID) for an override naming no
  // option of the schema. Relative PATH options resolve against data_dir.
  ComponentHarness(const kestrel_component_desc& desc, const OptionText& options, const std::string& data_dir);
  // Stops the component if started, then destroys it.
  ~ComponentHarness();
  ComponentHarness(const ComponentHarness&) = delete;
  ComponentHarness& operator=(const ComponentHarness&) = delete;

  void start();   // throws kestrel::Error
  void stop();    // throws kestrel::Error; no-op unless started
  void health();  // throws kestrel::Error
  std::string status_json();

  // The interface table + instance for `name`; throws if not provided.
  kestrel_interface interface(const char* name) const;

  // Log lines the component wrote, "LEVEL message". Any thread.
  std::vector<std::string> log_lines() const;

  // Called by the host_api log trampoline.
  void log(kestrel_log_level level, const char* message);

 private:
  const kestrel_component_desc& desc_;
  kestrel_host_api host_{};
  void* instance_ = nullptr;
  bool started_ = false;
  mutable std::mutex log_mu_;
  std::vector<std::string> log_lines_;
};

// Parses a DURATION option's text ("250ms", "5s", "2m", "1h", bare seconds)
// into milliseconds, as the host does. Throws Error(INVALID).
int64_t parse_duration_ms(const std::string& text);

}  // namespace store_test
}  // namespace kestrel

#endif  // KESTREL_TESTS_UNIT_STORE_COMPONENT_HARNESS_H
