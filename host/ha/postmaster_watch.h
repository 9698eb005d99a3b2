// PostmasterWatch: a local PostgreSQL server's postmaster watched as a
// process (issue 9 item 2), so that a crash is seen when it happens rather
// than at the next health check (up to health_check_interval later).
//
// For each node with a data_dir, the watch reads the postmaster's PID from
// `<data_dir>/postmaster.pid` (its first line; the file's layout is
// PostgreSQL's src/include/utils/pidfile.h) and, on Linux, holds a pidfd
// (pidfd_open(2), Linux 5.3) that poll(2) reports readable the moment the
// process exits — whoever its parent is. Elsewhere it checks kill(pid, 0)
// every rescan interval. A PID is only trusted while the process is named
// "postgres" (/proc/<pid>/comm): a stale postmaster.pid left by a crash may
// name a reused PID.
//
// The watch only reports; the health monitor decides (an exited postmaster
// brings a check forward; the node is down once failure_threshold checks
// failed, as for any other failure: `pg_ctl restart` must not fail over).
//
// Threads: its own, started in start() and joined in stop(); `on_exit` runs
// on it and must not block. pid() from any thread.
#ifndef KESTREL_HOST_HA_POSTMASTER_WATCH_H_
#define KESTREL_HOST_HA_POSTMASTER_WATCH_H_

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>

namespace kestrel::host::ha {

// The PID in `<data_dir>/postmaster.pid` when that process runs and is named
// "postgres"; 0 otherwise (no file, unreadable, stale). Never throws.
long running_postmaster_pid(const std::string& data_dir);

class PostmasterWatch {
 public:
  // node name -> its server's data directory; the node and the PID that exited.
  using OnExit = std::function<void(const std::string& node, long pid)>;

  // `rescan_ms`: how often nodes without a running postmaster are looked at
  // again (a restarted server is watched from then on), milliseconds.
  PostmasterWatch(std::map<std::string, std::string> data_dirs, int64_t rescan_ms, OnExit on_exit);
  ~PostmasterWatch() { stop(); }
  PostmasterWatch(const PostmasterWatch&) = delete;
  PostmasterWatch& operator=(const PostmasterWatch&) = delete;

  // Throws kestrel::Error(KESTREL_ERR_IO) when the wake-up pipe cannot be made.
  void start();
  void stop();  // idempotent

  // The node's postmaster PID as last seen running; 0 while none is.
  long pid(const std::string& node) const;

 private:
  struct Watched {
    std::string data_dir;
    long pid = 0;
    int pidfd = -1;  // Linux: a pidfd for pid; -1 when none is held
    long exited = 0; // the PID reported exited last: never watched again
                     // (a zombie not yet reaped by its parent still looks alive)
  };
  void run();
  void rescan();  // looks for a postmaster on every node that has none watched
  void forget(Watched& w);

  const int64_t rescan_ms_;
  const OnExit on_exit_;
  mutable std::mutex mu_;              // guards nodes_' pid fields for pid()
  std::map<std::string, Watched> nodes_;
  int wake_pipe_[2] = {-1, -1};        // stop() writes a byte
  std::thread thread_;
};

}  // namespace kestrel::host::ha

#endif  // KESTREL_HOST_HA_POSTMASTER_WATCH_H_
