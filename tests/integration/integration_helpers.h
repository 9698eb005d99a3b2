// Shared pieces of the integration tests: sites, polling, assertion messages.
#ifndef KESTREL_INTEGRATION_INTEGRATION_HELPERS_H
#define KESTREL_INTEGRATION_INTEGRATION_HELPERS_H

#include <chrono>
#include <functional>
#include <string>

#include "kestreld_node.h"

namespace kestrel {
namespace test {

// The GIMP manual from Debian's gimp-help-en.
inline const char* gimp_manual_root() { return "/usr/share/gimp/2.0/help/en"; }

// tests/fixtures/site in the source tree.
std::string fixture_site_root();

// Calls `done` every `interval` until it returns true (then true) or until
// `deadline` passes (then false). Exceptions from `done` count as "not yet"
// (e.g. the catalog file does not exist yet). For waiting on a child's
// progress without timing assertions: the deadline only guards against hangs.
bool poll_until(const std::function<bool()>& done, std::chrono::milliseconds deadline,
                std::chrono::milliseconds interval = std::chrono::milliseconds(50));

// The tail of a run's stdout and stderr, for assertion messages.
std::string run_output(const KestrelNode::Run& run);

}  // namespace test
}  // namespace kestrel

#endif  // KESTREL_INTEGRATION_INTEGRATION_HELPERS_H
