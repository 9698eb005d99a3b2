// free_loopback_port: a TCP port nobody listens on, for servers a test starts.
#ifndef KESTREL_TEST_PORTS_H
#define KESTREL_TEST_PORTS_H

#include <cstdint>

namespace kestrel {
namespace test {

// Returns a TCP port (1024-65535) the kernel reports free on 127.0.0.1, found
// by binding port 0 and closing the socket. Another process may take it before
// the caller binds it: servers that can bind port 0 themselves (the
// FixtureHttpServer does) should do that instead. Any thread. Throws
// Poco::Exception when no socket can be bound.
uint16_t free_loopback_port();

}  // namespace test
}  // namespace kestrel

#endif  // KESTREL_TEST_PORTS_H
