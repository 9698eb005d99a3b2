// Runs PostgreSQL's command-line tools (pg_ctl, pg_basebackup, pg_rewind,
// pg_controldata) for the replicator.
//
// Processes are started with posix_spawn (never fork: plugins must not fork
// the host) with stdin on /dev/null and stdout+stderr captured. When the host
// runs as root and the data directory belongs to another user, the command
// runs as that user through `runuser -u <user> --` (PostgreSQL refuses root).
// Any thread may call; each call is independent.
#ifndef KESTREL_REPLICATOR_PG_PROCESS_RUNNER_H
#define KESTREL_REPLICATOR_PG_PROCESS_RUNNER_H

#include <cstdint>
#include <string>
#include <vector>

namespace kestrel {
namespace replicator_pg {

struct ProcessResult {
  int exit_code = -1;   // exit status; 128+N when killed by signal N
  bool timed_out = false;  // killed (SIGKILL) after the timeout
  std::string output;   // stdout+stderr, the last 16 KiB
};

// Runs argv (argv[0] an absolute path or a name in PATH) as `run_as` (a user
// name; empty: ourselves) and waits up to timeout_ms milliseconds, with our
// environment plus `extra_env` ("NAME=value" entries, e.g. PGPASSWORD).
// Throws kestrel::Error(KESTREL_ERR_INTERNAL) when it cannot be started.
ProcessResult run_process(const std::vector<std::string>& argv, const std::string& run_as, int64_t timeout_ms,
                          const std::vector<std::string>& extra_env = {});

// The user that should run PostgreSQL tools on `path`: the owner of `path` (or
// of its parent when it does not exist) when we are root and that owner is
// not root; else "" (ourselves). Throws kestrel::Error(KESTREL_ERR_IO) when
// neither exists.
std::string owner_for(const std::string& path);

// One line for messages: argv joined by spaces.
std::string command_line(const std::vector<std::string>& argv);

}  // namespace replicator_pg
}  // namespace kestrel

#endif  // KESTREL_REPLICATOR_PG_PROCESS_RUNNER_H
