#include "kestrel/test/child_process.h"

#include <Poco/Process.h>
#include <signal.h>
#include <sys/wait.h>

#include <cerrno>
#include <stdexcept>
#include <thread>

#include "kestrel/test/files.h"

namespace kestrel {
namespace test {
namespace {

// Quotes `s` for /bin/sh: 'it'\''s'.
std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  return out + "'";
}

std::string tail(const std::string& text, size_t max_bytes) {
  return text.size() <= max_bytes ? text : "..." + text.substr(text.size() - max_bytes);
}

}  // namespace

ChildProcess::ChildProcess(const std::string& program, const std::vector<std::string>& args,
                           const std::string& stdout_path, const std::string& stderr_path)
    : ChildProcess(program, args, stdout_path, stderr_path, Options()) {}

ChildProcess::ChildProcess(const std::string& program, const std::vector<std::string>& args,
                           const std::string& stdout_path, const std::string& stderr_path, const Options& options)
    : stdout_path_(stdout_path), stderr_path_(stderr_path), command_line_(program) {
  for (const auto& a : args) command_line_ += " " + a;
  // Poco::Process redirects only to pipes; the shell opens the files, then
  // exec replaces it, so the pid is the program's own and signals reach it.
  Poco::Process::Args sh_args{
      "-c", "exec \"$0\" \"$@\" </dev/null >" + shell_quote(stdout_path) + " 2>" + shell_quote(stderr_path), program};
  sh_args.insert(sh_args.end(), args.begin(), args.end());
  Poco::Process::Env env(options.env.begin(), options.env.end());
  Poco::ProcessHandle handle =
      Poco::Process::launch("/bin/sh", sh_args, options.working_dir, nullptr, nullptr, nullptr, env);
  pid_ = handle.id();
}

ChildProcess::~ChildProcess() {
  if (!exit_code_ && pid_ > 0) {
    ::kill(pid_, SIGKILL);
    reap(true);
  }
}

bool ChildProcess::reap(bool block) {
  if (exit_code_) return true;
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(pid_, &status, block ? 0 : WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == 0) return false;
  if (r < 0) {
    exit_code_ = -1;  // not our child any more (reaped elsewhere): treat as gone
    return true;
  }
  if (WIFEXITED(status))
    exit_code_ = WEXITSTATUS(status);
  else if (WIFSIGNALED(status))
    exit_code_ = 128 + WTERMSIG(status);
  else
    return false;  // stopped/continued: still alive
  return true;
}

bool ChildProcess::running() { return !reap(false); }

std::optional<int> ChildProcess::wait_for(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!reap(false)) {
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return exit_code_;
}

int ChildProcess::wait_or_kill(std::chrono::milliseconds deadline) {
  if (auto code = wait_for(deadline)) return *code;
  kill();
  reap(true);
  throw std::runtime_error(command_line_ + " did not exit within " + std::to_string(deadline.count()) +
                           " ms and was killed; stderr: " + tail(stderr_text(), 2000));
}

void ChildProcess::signal(int sig) {
  if (!exit_code_ && pid_ > 0) ::kill(pid_, sig);
}

void ChildProcess::terminate() { signal(SIGTERM); }
void ChildProcess::kill() { signal(SIGKILL); }

std::string ChildProcess::stdout_text() const { return path_exists(stdout_path_) ? read_file(stdout_path_) : ""; }
std::string ChildProcess::stderr_text() const { return path_exists(stderr_path_) ? read_file(stderr_path_) : ""; }

}  // namespace test
}  // namespace kestrel
