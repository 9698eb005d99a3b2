// ProcessService: runs commands for components (process_run of ABI 1.3).
//
// Plugins never fork (DESIGN §2); the host does, here, in one place. Each
// command:
//  - is forked and exec'd with stdin on /dev/null and stdout+stderr on one
//    pipe, every other descriptor closed, the signal mask and dispositions
//    reset (the host blocks SIGTERM/SIGINT in its threads; a child must not
//    inherit that), in a new process group whose id is its pid;
//  - runs as another user when asked (the host must be root): supplementary
//    groups, gid and uid are set in the child before exec, HOME, USER and
//    LOGNAME follow the user; no wrapper such as runuser stands between the
//    host and the command, so the pid reaped is the command's;
//  - on timeout or cancel (its component stops): SIGTERM to the whole group,
//    SIGKILL to the group 2 s later if its leader has not exited; then
//    reaped by waitpid. A command that exits by itself leaves its group
//    alone (`pg_ctl start` leaves the postmaster running there on purpose).
// Output beyond the limit is counted and dropped, never buffered.
//
// Thread-safety: run() from any thread, concurrently; cancel() from any
// thread (the control thread, at stop).
#ifndef KESTREL_HOST_RUNTIME_PROCESS_SERVICE_H_
#define KESTREL_HOST_RUNTIME_PROCESS_SERVICE_H_

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace kestrel::host {

class ProcessService {
 public:
  static constexpr uint64_t kDefaultOutputLimit = 64 * 1024;  // bytes
  static constexpr uint32_t kKillGraceMs = 2000;              // SIGTERM -> SIGKILL

  struct Request {
    std::vector<std::string> argv;      // argv[0]: absolute, or searched in PATH
    std::vector<std::string> env;       // "NAME=value", added to (replacing in) the host's environment
    std::string run_as;                 // user name; "" = the host's user
    std::string working_dir;            // "" = "/"
    uint32_t timeout_ms = 0;            // 0 = none
    uint64_t output_limit = 0;          // bytes; 0 = kDefaultOutputLimit
  };
  struct Result {
    int exit_code = -1;                 // 0-255; 128+N when killed by signal N
    bool timed_out = false;
    bool cancelled = false;
    bool output_truncated = false;
    uint64_t output_bytes = 0;          // written by the command in all
    uint64_t duration_ms = 0;
    pid_t pid = -1;
  };
  // Receives output as it arrives (at most output_limit bytes in all).
  using Sink = std::function<void(const char* data, size_t length)>;

  ProcessService() = default;
  ProcessService(const ProcessService&) = delete;
  ProcessService& operator=(const ProcessService&) = delete;

  // Runs `request` for component `owner` and waits until it is reaped.
  // Throws kestrel::Error: KESTREL_ERR_INVALID (empty argv, unknown user,
  // run_as when not root, a NUL in an argument), KESTREL_ERR_NOT_FOUND
  // (argv[0] not found or not executable, or the working folder is missing),
  // KESTREL_ERR_CANCELLED (owner refused: see refuse()), KESTREL_ERR_INTERNAL
  // (fork or pipe failed).
  Result run(const std::string& owner, const Request& request, const Sink& sink);

  // Kills the groups of every command `owner` is running now (they end with
  // cancelled = true). Commands started later run normally.
  void cancel(const std::string& owner);

  // While refused, run() for `owner` throws KESTREL_ERR_CANCELLED (the
  // component is not started, or has stopped).
  void set_refused(const std::string& owner, bool refused);

 private:
  struct Running {
    std::string owner;
    bool cancel = false;
  };
  std::mutex mu_;
  std::map<pid_t, Running> running_;
  std::map<std::string, bool> refused_;
};

}  // namespace kestrel::host

#endif  // KESTREL_HOST_RUNTIME_PROCESS_SERVICE_H_
