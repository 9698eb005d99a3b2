// free_loopback_port: a TCP port nobody listens on, for servers a test starts.
#ifndef KESTREL_TEST_PORTS_H
#define KESTREL_TEST_PORTS_H

#include <cstdint>

namespace kestrel {
namespace test {

// Returns a TCP port that could be bound on 127.0.0.1 just now, picked at
// random in 20000-32700, below the kernel's ephemeral range (where outgoing
// connections take their ports), and never the same twice in one process.
// Another process may still take it before the caller binds it: servers
// that can bind port 0 themselves (the FixtureHttpServer does) should do
// that instead. Any thread. Throws Poco::Net::NetException when 2000 picks
// found none free.
uint16_t free_loopback_port();

}  // namespace test
}  // namespace kestrel

#endif  // KESTREL_TEST_PORTS_H
