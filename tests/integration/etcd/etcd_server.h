// EtcdServer: a real single-member etcd (Debian's etcd-server, /usr/bin/etcd)
// for one test, on free loopback ports (client and peer), its data dir in a
// TempDir of its own.
#ifndef KESTREL_TESTS_INTEGRATION_ETCD_ETCD_SERVER_H
#define KESTREL_TESTS_INTEGRATION_ETCD_ETCD_SERVER_H

#include <cstdint>
#include <memory>
#include <string>

#include "kestrel/test/child_process.h"
#include "kestrel/test/temp_dir.h"

namespace kestrel {
namespace test {

// Owns the etcd process: the destructor (and stop()) kill it by PID (SIGKILL)
// and reap it, also when a test fails. Ports are chosen at construction and
// kept across stop()/start(), so a restarted member answers on the same URL
// with the same data. One thread at a time.
class EtcdServer {
 public:
  EtcdServer();
  ~EtcdServer();
  EtcdServer(const EtcdServer&) = delete;
  EtcdServer& operator=(const EtcdServer&) = delete;

  // Starts etcd and waits (up to 30 s) until GET /health answers 200.
  // Throws std::runtime_error with the tail of etcd's log otherwise.
  void start();
  // SIGKILL by PID, then reaps it. No effect when not running.
  void stop();

  // "http://127.0.0.1:<client port>".
  std::string client_url() const;

 private:
  bool healthy() const;

  TempDir dir_;
  uint16_t client_port_;
  uint16_t peer_port_;
  int starts_ = 0;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace test
}  // namespace kestrel

#endif  // KESTREL_TESTS_INTEGRATION_ETCD_ETCD_SERVER_H
