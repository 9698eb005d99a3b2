#include "ha/postmaster_watch.h"

#include <kestrel/plugin.hpp>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <vector>

#if !defined(_WIN32)
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>
#endif
#if defined(__linux__)
#include <sys/syscall.h>
#endif

namespace kestrel::host::ha {
namespace {

#if !defined(_WIN32)
bool named_postgres(long pid) {
#if defined(__linux__)
  std::ifstream comm("/proc/" + std::to_string(pid) + "/comm");
  std::string name;
  return std::getline(comm, name) && name == "postgres";
#else
  (void)pid;
  return true;  // no portable way to ask; kill(pid, 0) alone decides
#endif
}

// A pidfd for `pid` (Linux), -1 when the process is gone or pidfds are
// unavailable (then the rescan's kill(pid, 0) notices the exit instead).
int open_pidfd(long pid) {
#if defined(__linux__) && defined(SYS_pidfd_open)
  const long fd = ::syscall(SYS_pidfd_open, static_cast<pid_t>(pid), 0);
  if (fd >= 0) ::fcntl(static_cast<int>(fd), F_SETFD, FD_CLOEXEC);
  return static_cast<int>(fd);
#else
  (void)pid;
  return -1;
#endif
}

// Running, not merely present: a zombie (exited, not yet reaped by its
// parent) still answers kill(pid, 0); on Linux its state in /proc says Z.
bool alive(long pid) {
  if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno != EPERM) return false;
#if defined(__linux__)
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (std::getline(stat, line)) {
    const size_t close = line.rfind(')');  // the name may hold spaces and parentheses
    if (close != std::string::npos && close + 2 < line.size() && line[close + 2] == 'Z') return false;
  }
#endif
  return true;
}
#endif

}  // namespace

long running_postmaster_pid(const std::string& data_dir) {
#if defined(_WIN32)
  (void)data_dir;
  return 0;
#else
  std::ifstream file(data_dir + "/postmaster.pid");
  long pid = 0;
  if (!(file >> pid) || pid <= 0) return 0;
  return alive(pid) && named_postgres(pid) ? pid : 0;
#endif
}

PostmasterWatch::PostmasterWatch(std::map<std::string, std::string> data_dirs, int64_t rescan_ms, OnExit on_exit)
    : rescan_ms_(rescan_ms < 10 ? 10 : rescan_ms), on_exit_(std::move(on_exit)) {
  for (auto& [node, dir] : data_dirs) nodes_[node].data_dir = std::move(dir);
}

void PostmasterWatch::start() {
#if !defined(_WIN32)
  if (thread_.joinable() || nodes_.empty()) return;
  if (::pipe(wake_pipe_) != 0)
    throw Error(KESTREL_ERR_IO, std::string("postmaster watch: pipe: ") + std::strerror(errno));
  for (int fd : wake_pipe_) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  rescan();  // the PIDs of servers running now, before start() returns
  thread_ = std::thread([this] { run(); });
#endif
}

void PostmasterWatch::stop() {
#if !defined(_WIN32)
  if (thread_.joinable()) {
    const char byte = 0;
    while (::write(wake_pipe_[1], &byte, 1) < 0 && errno == EINTR) {
    }
    thread_.join();
  }
  for (auto& [node, w] : nodes_) forget(w);
  for (int& fd : wake_pipe_) {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
#endif
}

long PostmasterWatch::pid(const std::string& node) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = nodes_.find(node);
  return it == nodes_.end() ? 0 : it->second.pid;
}

void PostmasterWatch::forget(Watched& w) {
#if !defined(_WIN32)
  if (w.pidfd >= 0) ::close(w.pidfd);
#endif
  w.pidfd = -1;
  std::lock_guard<std::mutex> lock(mu_);
  w.pid = 0;
}

void PostmasterWatch::rescan() {
#if !defined(_WIN32)
  for (auto& [node, w] : nodes_) {
    if (w.pid != 0) {
      // Without a pidfd, this is how an exit is seen.
      if (w.pidfd < 0 && !alive(w.pid)) {
        const long gone = w.pid;
        forget(w);
        w.exited = gone;
        if (on_exit_) on_exit_(node, gone);
      }
      continue;
    }
    const long pid = running_postmaster_pid(w.data_dir);
    if (pid == 0 || pid == w.exited) continue;
    const int fd = open_pidfd(pid);
    // The pidfd refers to the process that had `pid` when it was opened:
    // check again that this is still the postmaster (not a reused PID).
    if (fd >= 0 && running_postmaster_pid(w.data_dir) != pid) {
      ::close(fd);
      continue;
    }
    w.pidfd = fd;
    std::lock_guard<std::mutex> lock(mu_);
    w.pid = pid;
  }
#endif
}

void PostmasterWatch::run() {
#if !defined(_WIN32)
  for (;;) {
    std::vector<pollfd> fds{{wake_pipe_[0], POLLIN, 0}};
    std::vector<std::string> names;
    for (const auto& [node, w] : nodes_) {
      if (w.pidfd < 0) continue;
      fds.push_back({w.pidfd, POLLIN, 0});
      names.push_back(node);
    }
    const int n = ::poll(fds.data(), fds.size(), static_cast<int>(rescan_ms_));
    if (n < 0 && errno != EINTR) return;  // cannot happen with valid fds; the monitor's poll remains
    if (fds[0].revents != 0) return;      // stop()
    for (size_t i = 1; i < fds.size(); ++i) {
      if (fds[i].revents == 0) continue;
      Watched& w = nodes_[names[i - 1]];
      const long gone = w.pid;
      forget(w);
      w.exited = gone;
      if (on_exit_) on_exit_(names[i - 1], gone);
    }
    rescan();
  }
#endif
}

}  // namespace kestrel::host::ha
