// FixtureHttpServer: an in-process HTTP/1.1 server on loopback that counts.
#ifndef KESTREL_TEST_FIXTURE_HTTP_SERVER_H
#define KESTREL_TEST_FIXTURE_HTTP_SERVER_H

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

namespace Poco {
namespace Net {
class HTTPServerRequest;
class HTTPServerResponse;
}  // namespace Net
}  // namespace Poco

namespace kestrel {
namespace test {

// Serves a folder and/or handler lambdas on 127.0.0.1 at a port the kernel
// picks (bound directly: no race for the port), with keep-alive, built on
// Poco::Net's HTTP server classes (TCPServer + HTTPServerConnection, so that
// each TCP connection can be counted from open to close).
//
// It records, thread-safely: the number of TCP connections open at once and
// its peak, the total of connections, and requests per path. Every response
// is delayed by `delay_ms` milliseconds before it is written (to make a
// crawler's concurrency observable without timing assertions).
//
// Owns its threads (a private pool) and socket. start() once; stop() or the
// destructor closes the socket and joins the threads. Routes must be added
// before start(). Counters may be read from any thread at any time.
class FixtureHttpServer {
 public:
  // Handler for one exact path (URI path, percent-decoded, without query).
  // Runs on a server thread; it must send the response itself. An exception
  // it throws becomes a 500.
  using Handler = std::function<void(Poco::Net::HTTPServerRequest&, Poco::Net::HTTPServerResponse&)>;

  struct Options {
    std::string root;       // folder served for paths without a route; empty: 404 for those
    unsigned delay_ms = 0;  // milliseconds slept before each response
    int max_threads = 64;   // simultaneous connections served (more wait in the accept queue)
  };

  explicit FixtureHttpServer(const Options& options);
  ~FixtureHttpServer();
  FixtureHttpServer(const FixtureHttpServer&) = delete;
  FixtureHttpServer& operator=(const FixtureHttpServer&) = delete;

  // Serves `path` (e.g. "/broken.html") with `handler`. Before start() only.
  void route(const std::string& path, Handler handler);

  // Starts listening. Throws Poco::Exception if the socket cannot be bound.
  void start();
  // Stops accepting, closes, joins every server thread. Idempotent; never throws.
  void stop() noexcept;

  uint16_t port() const;
  // "http://127.0.0.1:PORT/".
  std::string url() const;

  int open_connections() const;                      // TCP connections being served now
  int peak_connections() const;                      // most open at once since start/reset
  uint64_t total_connections() const;                // connections accepted since start/reset
  uint64_t total_requests() const;                   // requests since start/reset
  uint64_t requests(const std::string& path) const;  // requests for one path
  std::map<std::string, uint64_t> requests_by_path() const;
  void reset_counters();

  struct Stats;  // shared with the server's threads

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The Content-Type the server sends for a file name (by extension):
// text/html; charset=utf-8, image/png, image/jpeg, image/gif, image/webp,
// text/css, image/svg+xml, text/plain, else application/octet-stream.
std::string content_type_for(const std::string& file_name);

}  // namespace test
}  // namespace kestrel

#endif  // KESTREL_TEST_FIXTURE_HTTP_SERVER_H
