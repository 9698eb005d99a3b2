#include "store_options.h"

#include <climits>

namespace kestrel {
namespace store_sqlite {

StoreOptions parse_options(const CreateArgs& args) {
  StoreOptions o;
  o.path = args.get_string("path");
  if (o.path.empty()) throw Error(KESTREL_ERR_INVALID, "option path: must name a file");
  if (o.path.front() != '/') {
    // The host resolves PATH options; this only guards hosts (and tests) that do not.
    const std::string dir = args.data_dir();
    if (dir.empty())
      throw Error(KESTREL_ERR_INVALID, "option path: '" + o.path + "' is relative and no data dir is set");
    o.path = dir + (dir.back() == '/' ? "" : "/") + o.path;
  }

  const std::string sync = args.get_string("synchronous");
  if (sync == "full") {
    o.synchronous_full = true;
  } else if (sync == "normal") {
    o.synchronous_full = false;
  } else {
    throw Error(KESTREL_ERR_INVALID, "option synchronous: '" + sync + "' is not one of full, normal");
  }

  o.busy_timeout_ms = args.get_duration_ms("busy_timeout");
  if (o.busy_timeout_ms < 0 || o.busy_timeout_ms > INT_MAX)
    throw Error(KESTREL_ERR_INVALID, "option busy_timeout: " + std::to_string(o.busy_timeout_ms) +
                                         " ms is out of range (0 to " + std::to_string(INT_MAX) + " ms)");

  const int64_t readers = args.get_int("readers");
  if (readers < 1 || readers > 64)
    throw Error(KESTREL_ERR_INVALID, "option readers: " + std::to_string(readers) + " is out of range (1 to 64)");
  o.readers = static_cast<int>(readers);
  return o;
}

}  // namespace store_sqlite
}  // namespace kestrel
