// posix_spawn-based command runner (see process_runner.h).
#include "process_runner.h"

#include <kestrel/plugin.hpp>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace kestrel {
namespace replicator_pg {
namespace {

constexpr size_t kMaxOutput = 16 * 1024;

// Closes a file descriptor on scope exit.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

std::string command_line(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) out += (out.empty() ? "" : " ") + a;
  return out;
}

std::string owner_for(const std::string& path) {
  if (::geteuid() != 0) return std::string();
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    const std::string parent = path.substr(0, path.find_last_of('/'));
    if (parent.empty() || ::stat(parent.c_str(), &st) != 0)
      throw Error(KESTREL_ERR_IO, "neither " + path + " nor its parent folder exists");
  }
  if (st.st_uid == 0) return std::string();
  struct passwd pw;
  struct passwd* found = nullptr;
  char buf[4096];
  if (::getpwuid_r(st.st_uid, &pw, buf, sizeof buf, &found) != 0 || found == nullptr)
    throw Error(KESTREL_ERR_IO, path + " belongs to uid " + std::to_string(st.st_uid) + ", which has no user name");
  return pw.pw_name;
}

ProcessResult run_process(const std::vector<std::string>& argv, const std::string& run_as, int64_t timeout_ms,
                          const std::vector<std::string>& extra_env) {
  std::vector<std::string> full;
  if (!run_as.empty()) full = {"runuser", "-u", run_as, "--"};
  full.insert(full.end(), argv.begin(), argv.end());
  std::vector<char*> raw;
  for (auto& a : full) raw.push_back(&a[0]);
  raw.push_back(nullptr);
  // Our environment, minus the names extra_env sets, plus extra_env.
  std::vector<std::string> env_storage = extra_env;
  for (char** e = environ; e && *e; ++e) {
    const std::string entry = *e;
    bool replaced = false;
    for (const auto& x : extra_env)
      replaced = replaced || entry.compare(0, x.find('=') + 1, x, 0, x.find('=') + 1) == 0;
    if (!replaced) env_storage.push_back(entry);
  }
  std::vector<char*> env;
  for (auto& e : env_storage) env.push_back(&e[0]);
  env.push_back(nullptr);

  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0)
    throw Error(KESTREL_ERR_INTERNAL, std::string("pipe: ") + std::strerror(errno));
  Fd read_end{pipe_fds[0]};
  Fd write_end{pipe_fds[1]};

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, write_end.fd, 1);
  posix_spawn_file_actions_adddup2(&actions, write_end.fd, 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // A clean signal state in the child: the host may block or ignore signals.
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t pid = -1;
  const int rc = ::posix_spawnp(&pid, raw[0], &actions, &attr, raw.data(), env.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) throw Error(KESTREL_ERR_INTERNAL, "cannot run " + full[0] + ": " + std::strerror(rc));
  ::close(write_end.fd);
  write_end.fd = -1;

  ProcessResult result;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  bool open = true;
  char buf[4096];
  while (open) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) {
      result.timed_out = true;
      ::kill(pid, SIGKILL);
      break;
    }
    struct pollfd p = {read_end.fd, POLLIN, 0};
    const int n = ::poll(&p, 1, static_cast<int>(left > 1000 ? 1000 : left));
    if (n < 0 && errno != EINTR) break;
    if (n <= 0) continue;
    const ssize_t got = ::read(read_end.fd, buf, sizeof buf);
    if (got <= 0) {
      if (got < 0 && errno == EINTR) continue;
      open = false;
    } else {
      result.output.append(buf, static_cast<size_t>(got));
      if (result.output.size() > kMaxOutput) result.output.erase(0, result.output.size() - kMaxOutput);
    }
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

}  // namespace replicator_pg
}  // namespace kestrel
