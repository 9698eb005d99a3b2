#include "kestrel/test/ports.h"

#include <Poco/Net/NetException.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <unistd.h>

#include <mutex>
#include <random>
#include <set>

namespace kestrel {
namespace test {

// Below Linux's ephemeral range (net.ipv4.ip_local_port_range, 32768-60999
// by default): a port the kernel picked by bind(0) is also where it puts
// the next outgoing connection, and a test that crawls opens thousands,
// so such a port was taken before the server bound it now and then (a
// kestreld of integration_ha_kestreld exited at start in a CI run).
constexpr uint16_t kFirst = 20000, kLast = 32700;

uint16_t free_loopback_port() {
  static std::mutex mu;
  static std::set<uint16_t> handed_out;  // never the same port twice in one process
  static std::mt19937 rng(static_cast<unsigned>(std::random_device{}() ^ static_cast<unsigned>(::getpid())));
  std::lock_guard<std::mutex> lock(mu);
  std::uniform_int_distribution<int> pick(kFirst, kLast);
  for (int attempt = 0; attempt < 2000; ++attempt) {
    const auto port = static_cast<uint16_t>(pick(rng));
    if (handed_out.count(port)) continue;
    try {
      Poco::Net::ServerSocket socket(Poco::Net::SocketAddress("127.0.0.1", port));
      socket.close();
    } catch (const Poco::Exception&) {
      continue;  // in use
    }
    handed_out.insert(port);
    return port;
  }
  throw Poco::Net::NetException("no free TCP port on 127.0.0.1 between 20000 and 32700");
}

}  // namespace test
}  // namespace kestrel
