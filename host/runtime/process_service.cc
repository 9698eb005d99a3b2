#include "runtime/process_service.h"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <kestrel/plugin.hpp>

#include <cerrno>
#include <chrono>
#include <cstring>

extern char** environ;

namespace kestrel::host {
namespace {

using Clock = std::chrono::steady_clock;

// An owned descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

// What a child reports through its exec-error pipe before _exit(127).
struct ChildFailure {
  int stage;  // 1 chdir, 2 groups/gid/uid, 3 exec
  int error;  // errno
};

const char* stage_name(int stage) {
  switch (stage) {
    case 1: return "cannot enter the working folder";
    case 2: return "cannot switch user";
    default: return "cannot execute";
  }
}

std::string errno_text(int e) { return std::strerror(e); }

// argv[0] as a path to exec: as given when it has a '/', else searched in PATH.
std::string resolve_executable(const std::string& name, const std::string& path_var) {
  if (name.find('/') != std::string::npos) return ::access(name.c_str(), X_OK) == 0 ? name : std::string();
  size_t start = 0;
  while (start <= path_var.size()) {
    size_t end = path_var.find(':', start);
    if (end == std::string::npos) end = path_var.size();
    std::string dir = path_var.substr(start, end - start);
    if (dir.empty()) dir = ".";
    const std::string candidate = dir + "/" + name;
    struct stat st;
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(candidate.c_str(), X_OK) == 0)
      return candidate;
    start = end + 1;
  }
  return std::string();
}

// The environment for the child: ours, then `extra` replacing same names.
std::vector<std::string> merged_environment(const std::vector<std::string>& extra) {
  std::vector<std::string> out;
  for (char** e = environ; e && *e; ++e) out.emplace_back(*e);
  for (const auto& x : extra) {
    const std::string name = x.substr(0, x.find('='));
    bool replaced = false;
    for (auto& o : out)
      if (o.compare(0, name.size() + 1, name + "=") == 0) {
        o = x;
        replaced = true;
      }
    if (!replaced) out.push_back(x);
  }
  return out;
}

std::string env_value(const std::vector<std::string>& env, const std::string& name) {
  for (const auto& e : env)
    if (e.compare(0, name.size() + 1, name + "=") == 0) return e.substr(name.size() + 1);
  return std::string();
}

void set_env(std::vector<std::string>* env, const std::string& name, const std::string& value) {
  for (auto& e : *env)
    if (e.compare(0, name.size() + 1, name + "=") == 0) {
      e = name + "=" + value;
      return;
    }
  env->push_back(name + "=" + value);
}

struct Identity {
  bool change = false;
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;
  std::string home;
};

Identity identity_for(const std::string& user) {
  Identity id;
  if (user.empty()) return id;
  std::vector<char> buf(16384);
  struct passwd pw;
  struct passwd* found = nullptr;
  const int rc = ::getpwnam_r(user.c_str(), &pw, buf.data(), buf.size(), &found);
  if (rc != 0 || found == nullptr)
    throw Error(KESTREL_ERR_INVALID, "run_as: no user named '" + user + "' on this machine");
  if (found->pw_uid == ::geteuid()) return id;  // already that user
  if (::geteuid() != 0)
    throw Error(KESTREL_ERR_INVALID, "run_as '" + user + "': the host is not root, so it cannot run commands as another user");
  id.change = true;
  id.uid = found->pw_uid;
  id.gid = found->pw_gid;
  id.home = found->pw_dir ? found->pw_dir : "/";
  int n = 64;
  id.groups.resize(static_cast<size_t>(n));
  if (::getgrouplist(user.c_str(), id.gid, id.groups.data(), &n) < 0) {
    id.groups.resize(static_cast<size_t>(n));
    ::getgrouplist(user.c_str(), id.gid, id.groups.data(), &n);
  }
  id.groups.resize(static_cast<size_t>(n));
  return id;
}

// Child side: reports errno through the exec-error pipe and exits.
[[noreturn]] void child_fail(int err_w, int stage) {
  ChildFailure f{stage, errno};
  ssize_t ignored = ::write(err_w, &f, sizeof f);
  (void)ignored;
  ::_exit(127);
}

// Child side, between fork and exec: async-signal-safe calls only.
[[noreturn]] void child_exec(const char* exe, char* const* argv, char* const* envp, const char* dir,
                             const Identity& id, int devnull, int out_w, int err_w) {
  ::setpgid(0, 0);
  struct sigaction dfl;
  std::memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig)
    if (sig != SIGKILL && sig != SIGSTOP) ::sigaction(sig, &dfl, nullptr);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::dup2(devnull, 0);
  ::dup2(out_w, 1);
  ::dup2(out_w, 2);
  // Every other descriptor closes at exec (the host's sockets, databases...);
  // err_w stays open until then to report a failed exec.
  if (::syscall(SYS_close_range, 3u, ~0u, 4u /* CLOSE_RANGE_CLOEXEC */) != 0) {
    struct rlimit rl;
    long max = (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 65536) ? static_cast<long>(rl.rlim_cur) : 65536;
    for (long fd = 3; fd < max; ++fd) ::fcntl(static_cast<int>(fd), F_SETFD, FD_CLOEXEC);
  }
  if (::chdir(dir) != 0) child_fail(err_w, 1);
  if (id.change) {
    if (::setgroups(id.groups.size(), id.groups.data()) != 0) child_fail(err_w, 2);
    if (::setgid(id.gid) != 0) child_fail(err_w, 2);
    if (::setuid(id.uid) != 0) child_fail(err_w, 2);
  }
  ::execve(exe, argv, envp);
  child_fail(err_w, 3);
}

int64_t ms_since(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
}

}  // namespace

void ProcessService::set_refused(const std::string& owner, bool refused) {
  std::lock_guard<std::mutex> lock(mu_);
  refused_[owner] = refused;
}

void ProcessService::cancel(const std::string& owner) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& r : running_)
    if (r.second.owner == owner) r.second.cancel = true;
}

ProcessService::Result ProcessService::run(const std::string& owner, const Request& request, const Sink& sink) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = refused_.find(owner);
    if (it != refused_.end() && it->second)
      throw Error(KESTREL_ERR_CANCELLED, "process_run: component '" + owner + "' is not running");
  }
  if (request.argv.empty() || request.argv[0].empty()) throw Error(KESTREL_ERR_INVALID, "process_run: empty argv");
  for (const auto& a : request.argv)
    if (a.find('\0') != std::string::npos) throw Error(KESTREL_ERR_INVALID, "process_run: an argument holds a NUL byte");

  // Everything that allocates happens before fork.
  const Identity id = identity_for(request.run_as);
  std::vector<std::string> env = merged_environment(request.env);
  if (id.change) {
    set_env(&env, "HOME", id.home);
    set_env(&env, "USER", request.run_as);
    set_env(&env, "LOGNAME", request.run_as);
  }
  const std::string exe = resolve_executable(request.argv[0], env_value(env, "PATH"));
  if (exe.empty())
    throw Error(KESTREL_ERR_NOT_FOUND, "process_run: '" + request.argv[0] + "' is not an executable file" +
                                           (request.argv[0].find('/') == std::string::npos ? " in PATH" : ""));
  const std::string dir = request.working_dir.empty() ? "/" : request.working_dir;
  std::vector<char*> argv, envp;
  for (const auto& a : request.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);

  Fd devnull(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  int out[2], err[2];
  if (devnull.get() < 0 || ::pipe2(out, O_CLOEXEC) != 0)
    throw Error(KESTREL_ERR_INTERNAL, "process_run: pipe: " + errno_text(errno));
  Fd out_r(out[0]), out_w(out[1]);
  if (::pipe2(err, O_CLOEXEC) != 0) throw Error(KESTREL_ERR_INTERNAL, "process_run: pipe: " + errno_text(errno));
  Fd err_r(err[0]), err_w(err[1]);

  const Clock::time_point started = Clock::now();
  const pid_t pid = ::fork();
  if (pid < 0) throw Error(KESTREL_ERR_INTERNAL, "process_run: fork: " + errno_text(errno));
  if (pid == 0) child_exec(exe.c_str(), argv.data(), envp.data(), dir.c_str(), id, devnull.get(), out_w.get(), err_w.get());

  ::setpgid(pid, pid);  // also here, so the group exists before we may signal it
  out_w.reset();
  err_w.reset();
  Result result;
  result.pid = pid;
  {
    std::lock_guard<std::mutex> lock(mu_);
    running_[pid] = Running{owner, false};
  }
  auto forget = [&] {
    std::lock_guard<std::mutex> lock(mu_);
    running_.erase(pid);
  };

  // exec succeeded when the error pipe closes without a report.
  ChildFailure failure{0, 0};
  ssize_t n;
  do n = ::read(err_r.get(), &failure, sizeof failure);
  while (n < 0 && errno == EINTR);
  if (n == static_cast<ssize_t>(sizeof failure)) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    forget();
    const kestrel_result code = failure.stage == 2 ? KESTREL_ERR_INVALID : KESTREL_ERR_NOT_FOUND;
    throw Error(code, "process_run: " + request.argv[0] + ": " + stage_name(failure.stage) +
                          (failure.stage == 1 ? " " + dir : std::string()) + ": " + errno_text(failure.error));
  }

  const uint64_t limit = request.output_limit ? request.output_limit : kDefaultOutputLimit;
  Fd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));  // -1 on old kernels: we poll instead
  ::fcntl(out_r.get(), F_SETFL, O_NONBLOCK);
  bool exited = false, pipe_open = true;
  int64_t term_sent_ms = -1;     // when SIGTERM went to the group
  int64_t exited_at_ms = -1;     // when the leader exited by itself
  char buf[16384];
  for (;;) {
    const int64_t now = ms_since(started);
    bool cancel;
    {
      std::lock_guard<std::mutex> lock(mu_);
      cancel = running_[pid].cancel;
    }
    if (term_sent_ms < 0 && !exited) {
      if (request.timeout_ms && now >= request.timeout_ms) result.timed_out = true;
      if (cancel) result.cancelled = true;
      if (result.timed_out || result.cancelled) {
        ::kill(-pid, SIGTERM);
        term_sent_ms = now;
      }
    }
    if (term_sent_ms >= 0 && now - term_sent_ms >= kKillGraceMs) {
      ::kill(-pid, SIGKILL);  // whatever is left of the group, leader exited or not
      term_sent_ms = INT64_MAX / 2;  // once
    }
    if (!exited) {
      siginfo_t info;
      std::memset(&info, 0, sizeof info);
      // WNOWAIT: the zombie keeps its pid, so the group id cannot be reused
      // while we may still signal it.
      if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid) {
        exited = true;
        exited_at_ms = now;
      }
    }
    const bool killing = term_sent_ms >= 0 && term_sent_ms < INT64_MAX / 2;
    // After the leader is gone: drain what is left, for at most 1 s (a
    // daemon it left behind may hold the pipe open for ever), unless the
    // group is still being killed.
    if (exited && !killing && (!pipe_open || now - exited_at_ms >= 1000)) break;

    struct pollfd fds[2];
    nfds_t nfds = 0;
    if (pipe_open) fds[nfds++] = {out_r.get(), POLLIN, 0};
    if (!exited && pidfd.get() >= 0) fds[nfds++] = {pidfd.get(), POLLIN, 0};
    const int wait_ms = (!exited && pidfd.get() >= 0 && !killing && !request.timeout_ms) ? 250 : 20;
    if (nfds > 0)
      ::poll(fds, nfds, wait_ms);
    else
      ::usleep(static_cast<useconds_t>(wait_ms) * 1000);
    while (pipe_open) {
      const ssize_t got = ::read(out_r.get(), buf, sizeof buf);
      if (got > 0) {
        const uint64_t before = result.output_bytes;
        result.output_bytes += static_cast<uint64_t>(got);
        if (before < limit) {
          const size_t take = static_cast<size_t>(std::min<uint64_t>(static_cast<uint64_t>(got), limit - before));
          if (sink) sink(buf, take);
        }
        if (result.output_bytes > limit) result.output_truncated = true;
        continue;
      }
      if (got == 0) pipe_open = false;
      if (got < 0 && errno != EAGAIN && errno != EINTR) pipe_open = false;
      break;
    }
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  forget();
  result.duration_ms = static_cast<uint64_t>(ms_since(started));
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  else if (WIFSIGNALED(status)) result.exit_code = 128 + WTERMSIG(status);
  return result;
}

}  // namespace kestrel::host
