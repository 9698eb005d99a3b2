// ChildProcess: run a program (kestreld, a script) with its output in files.
#ifndef KESTREL_TEST_CHILD_PROCESS_H
#define KESTREL_TEST_CHILD_PROCESS_H

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace kestrel {
namespace test {

// A child process started with Poco::Process, stdin from /dev/null, stdout
// and stderr written to files (created or truncated). Files rather than pipes
// because a child may leave a daemon behind (nginx) that keeps a pipe open
// forever, and because the output stays on disk for a failed test's report.
//
// Owns the process: the destructor sends SIGKILL if it still runs and reaps
// it, so no test leaves a child behind. Not copyable or movable. One thread
// at a time per object.
//
// Exit codes follow the shell: the exit status for a normal exit, 128 + N
// when killed by signal N.
class ChildProcess {
 public:
  struct Options {
    std::string working_dir;                 // empty: the caller's
    std::map<std::string, std::string> env;  // added to (or replacing in) the caller's environment
  };

  // Starts `program` (a path, or a name looked up in PATH) with `args`.
  // Throws Poco::Exception when no process can be created; a program that
  // cannot be executed (missing, not executable) exits 127 (126) with the
  // shell's message on stderr, as in a shell.
  ChildProcess(const std::string& program, const std::vector<std::string>& args, const std::string& stdout_path,
               const std::string& stderr_path, const Options& options);
  ChildProcess(const std::string& program, const std::vector<std::string>& args, const std::string& stdout_path,
               const std::string& stderr_path);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  int pid() const { return pid_; }

  // True while the process has not exited (reaps it once it has).
  bool running();

  // Waits up to `timeout` for the exit and returns the exit code, or nullopt
  // if it still runs (it is left running).
  std::optional<int> wait_for(std::chrono::milliseconds timeout);

  // Waits up to `deadline` for the exit and returns the exit code. On expiry
  // kills it (SIGKILL), reaps it and throws std::runtime_error naming the
  // program, the deadline and the tail of its stderr: a hang is a failure.
  int wait_or_kill(std::chrono::milliseconds deadline);

  // Sends SIGTERM (terminate) or SIGKILL (kill). No effect once it exited.
  void terminate();
  void kill();

  // The exit code once reaped, else nullopt.
  std::optional<int> exit_code() const { return exit_code_; }

  // Everything written so far to stdout / stderr (the files' content).
  std::string stdout_text() const;
  std::string stderr_text() const;
  const std::string& stdout_path() const { return stdout_path_; }
  const std::string& stderr_path() const { return stderr_path_; }

  // "program arg1 arg2", for messages.
  const std::string& command_line() const { return command_line_; }

 private:
  bool reap(bool block);
  void signal(int sig);

  std::string stdout_path_;
  std::string stderr_path_;
  std::string command_line_;
  int pid_ = -1;
  std::optional<int> exit_code_;
};

}  // namespace test
}  // namespace kestrel

#endif  // KESTREL_TEST_CHILD_PROCESS_H
