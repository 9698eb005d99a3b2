// Runs PostgreSQL's command-line tools (pg_ctl, pg_basebackup, pg_rewind,
// pg_controldata) for the replicator, through the host's process service
// (kestrel_host_api.process_run, ABI 1.3): plugins never fork (DESIGN §2).
// The host runs each command in a process group of its own, as the data
// directory's owner when it is root (PostgreSQL refuses root), kills the
// whole group on timeout or when this component stops, and reaps it.
//
// Thread-safety: any thread may call run(); each call is independent.
#ifndef KESTREL_REPLICATOR_PG_PG_TOOLS_H
#define KESTREL_REPLICATOR_PG_PG_TOOLS_H

#include <kestrel/plugin.h>

#include <cstdint>
#include <string>
#include <vector>

namespace kestrel {
namespace replicator_pg {

struct ProcessResult {
  int exit_code = -1;      // exit status; 128+N when killed by signal N
  bool timed_out = false;  // its group was killed after the timeout
  std::string output;      // stdout+stderr, the last 16 KiB
};

class ToolRunner {
 public:
  ToolRunner() = default;
  // `api` and `ctx` from the component's create args; both outlive it.
  ToolRunner(const kestrel_host_api* api, kestrel_host_ctx* ctx) : api_(api), ctx_(ctx) {}

  // Runs argv (argv[0] an absolute path or a name in PATH) as `run_as` (a
  // user name; empty: the host's user), waiting up to timeout_ms
  // milliseconds, with the host's environment plus `extra_env` ("NAME=value",
  // e.g. PGPASSWORD). Throws kestrel::Error: KESTREL_ERR_UNSUPPORTED on a host
  // older than 1.3, the host's error when the command cannot be started
  // (KESTREL_ERR_NOT_FOUND, KESTREL_ERR_INVALID), KESTREL_ERR_CANCELLED when
  // the component is stopping.
  ProcessResult run(const std::vector<std::string>& argv, const std::string& run_as, int64_t timeout_ms,
                    const std::vector<std::string>& extra_env = {}) const;

 private:
  const kestrel_host_api* api_ = nullptr;
  kestrel_host_ctx* ctx_ = nullptr;
};

// The user that should run PostgreSQL tools on `path`: the owner of `path` (or
// of its parent when it does not exist) when we are root and that owner is
// not root; else "" (ourselves). Throws kestrel::Error(KESTREL_ERR_IO) when
// neither exists.
std::string owner_for(const std::string& path);

// One line for messages: argv joined by spaces.
std::string command_line(const std::vector<std::string>& argv);

}  // namespace replicator_pg
}  // namespace kestrel

#endif  // KESTREL_REPLICATOR_PG_PG_TOOLS_H
