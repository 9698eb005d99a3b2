// AppApiServer: serves an ApiHandler (the App API, or the HA API on
// admin.listen) over HTTP/1.1 (Poco::Net::HTTPServer).
#ifndef KESTREL_HOST_API_APP_API_SERVER_H_
#define KESTREL_HOST_API_APP_API_SERVER_H_

#include <cstdint>
#include <memory>
#include <string>

namespace Poco {
class ThreadPool;
namespace Net {
class HTTPServer;
class ServerSocket;
}  // namespace Net
}  // namespace Poco

namespace kestrel::host {

class ApiHandler;

// Listens on one address and hands each request to ApiHandler::handle on a
// thread of its own pool (up to 16 connections served at once, 64 queued;
// keep-alive; request bodies up to 1 MiB, larger ones get 413).
//
// Lifecycle: start() and stop() from the control thread. kestreld starts it
// after the components and stops it before them, so handlers never see a
// stopped component. `api` must outlive the server. stop() (also run by the
// destructor) closes the socket, aborts open connections and joins every
// handler thread.
class AppApiServer {
 public:
  // `listen`: "host:port" (IPv6 "[::1]:port"); port 0 lets the kernel pick.
  // A request body larger than `max_body_bytes` gets 413 (the App API's
  // crawl requests are small; the HA API's peer batches and snapshot chunks
  // are megabytes).
  AppApiServer(const ApiHandler& api, std::string listen, int64_t max_body_bytes = 1 << 20);
  ~AppApiServer();
  AppApiServer(const AppApiServer&) = delete;
  AppApiServer& operator=(const AppApiServer&) = delete;

  // Binds and starts serving. Throws std::runtime_error naming the address
  // and the reason ("127.0.0.1:8000: address already in use") when the
  // socket cannot be bound.
  void start();

  // Stops serving (idempotent; never throws).
  void stop() noexcept;

  // The bound port (after start()).
  uint16_t port() const { return port_; }
  // "http://HOST:PORT" of the bound socket (after start()).
  std::string url() const;

 private:
  const ApiHandler& api_;
  const int64_t max_body_bytes_;
  std::string listen_;
  uint16_t port_ = 0;
  std::string bound_host_;
  std::unique_ptr<Poco::ThreadPool> pool_;
  std::unique_ptr<Poco::Net::ServerSocket> socket_;  // the listening socket the server shares
  std::unique_ptr<Poco::Net::HTTPServer> server_;
};

}  // namespace kestrel::host

#endif  // KESTREL_HOST_API_APP_API_SERVER_H_
