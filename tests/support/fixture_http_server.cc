#include "kestrel/test/fixture_http_server.h"

#include <Poco/File.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServerConnection.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/TCPServer.h>
#include <Poco/Net/TCPServerConnection.h>
#include <Poco/Net/TCPServerConnectionFactory.h>
#include <Poco/Path.h>
#include <Poco/ThreadPool.h>
#include <Poco/URI.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <mutex>
#include <ostream>
#include <stdexcept>
#include <thread>

namespace kestrel {
namespace test {

// Counters shared by the server object and its connection threads.
struct FixtureHttpServer::Stats {
  mutable std::mutex mu;
  int open = 0;
  int peak = 0;
  uint64_t connections = 0;
  uint64_t requests = 0;
  std::map<std::string, uint64_t> by_path;
};

namespace {

using Poco::Net::HTTPResponse;
using Poco::Net::HTTPServerRequest;
using Poco::Net::HTTPServerResponse;

struct Config {
  std::string root;
  unsigned delay_ms = 0;
  std::map<std::string, FixtureHttpServer::Handler> routes;
};

void send_text(HTTPServerResponse& res, HTTPResponse::HTTPStatus status, const std::string& body) {
  res.setStatus(status);
  res.setContentType("text/plain; charset=utf-8");
  res.setContentLength(static_cast<std::streamsize>(body.size()));
  res.send() << body;
}

// Serves `path` (decoded) from `root`: files, folder index.html, 301 to add a
// folder's slash, 404 otherwise. ".." segments are refused.
void serve_file(const std::string& root, const std::string& path, HTTPServerResponse& res) {
  if (root.empty() || path.empty() || path[0] != '/' || path.find("/../") != std::string::npos ||
      (path.size() >= 3 && path.compare(path.size() - 3, 3, "/..") == 0)) {
    send_text(res, HTTPResponse::HTTP_NOT_FOUND, "not found\n");
    return;
  }
  std::string full = root + path;
  Poco::File f(full);
  if (f.exists() && f.isDirectory()) {
    if (path.back() != '/') {
      res.setStatus(HTTPResponse::HTTP_MOVED_PERMANENTLY);
      res.set("Location", path + "/");
      res.setContentLength(0);
      res.send();
      return;
    }
    full += "index.html";
  }
  Poco::File file(full);
  if (!file.exists() || !file.isFile()) {
    send_text(res, HTTPResponse::HTTP_NOT_FOUND, "not found\n");
    return;
  }
  res.sendFile(full, content_type_for(full));
}

class Handler : public Poco::Net::HTTPRequestHandler {
 public:
  Handler(std::shared_ptr<const Config> config, std::shared_ptr<FixtureHttpServer::Stats> stats)
      : config_(std::move(config)), stats_(std::move(stats)) {}

  void handleRequest(HTTPServerRequest& req, HTTPServerResponse& res) override {
    std::string path;
    try {
      path = Poco::URI(req.getURI()).getPath();
    } catch (const Poco::Exception&) {
      path = req.getURI();
    }
    {
      std::lock_guard<std::mutex> lock(stats_->mu);
      ++stats_->requests;
      ++stats_->by_path[path];
    }
    if (config_->delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(config_->delay_ms));
    auto route = config_->routes.find(path);
    try {
      if (route != config_->routes.end())
        route->second(req, res);
      else
        serve_file(config_->root, path, res);
    } catch (const std::exception& e) {
      if (!res.sent()) send_text(res, HTTPResponse::HTTP_INTERNAL_SERVER_ERROR, std::string(e.what()) + "\n");
    }
  }

 private:
  std::shared_ptr<const Config> config_;
  std::shared_ptr<FixtureHttpServer::Stats> stats_;
};

class HandlerFactory : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  HandlerFactory(std::shared_ptr<const Config> config, std::shared_ptr<FixtureHttpServer::Stats> stats)
      : config_(std::move(config)), stats_(std::move(stats)) {}
  Poco::Net::HTTPRequestHandler* createRequestHandler(const HTTPServerRequest&) override {
    return new Handler(config_, stats_);  // Poco's factory contract: the server owns and deletes it
  }

 private:
  std::shared_ptr<const Config> config_;
  std::shared_ptr<FixtureHttpServer::Stats> stats_;
};

// Counts one TCP connection for as long as Poco's HTTP connection loop
// (keep-alive included) runs on it.
class CountingConnection : public Poco::Net::TCPServerConnection {
 public:
  CountingConnection(const Poco::Net::StreamSocket& socket, Poco::Net::HTTPServerParams::Ptr params,
                     Poco::Net::HTTPRequestHandlerFactory::Ptr factory, std::shared_ptr<FixtureHttpServer::Stats> stats)
      : TCPServerConnection(socket), http_(socket, params, factory), stats_(std::move(stats)) {}

  void run() override {
    {
      std::lock_guard<std::mutex> lock(stats_->mu);
      ++stats_->connections;
      stats_->peak = std::max(stats_->peak, ++stats_->open);
    }
    try {
      http_.run();
    } catch (...) {
      // A broken client connection ends this connection only.
    }
    std::lock_guard<std::mutex> lock(stats_->mu);
    --stats_->open;
  }

 private:
  Poco::Net::HTTPServerConnection http_;
  std::shared_ptr<FixtureHttpServer::Stats> stats_;
};

class CountingConnectionFactory : public Poco::Net::TCPServerConnectionFactory {
 public:
  CountingConnectionFactory(Poco::Net::HTTPServerParams::Ptr params, Poco::Net::HTTPRequestHandlerFactory::Ptr factory,
                            std::shared_ptr<FixtureHttpServer::Stats> stats)
      : params_(params), factory_(factory), stats_(std::move(stats)) {}
  Poco::Net::TCPServerConnection* createConnection(const Poco::Net::StreamSocket& socket) override {
    return new CountingConnection(socket, params_, factory_, stats_);  // owned by TCPServer
  }

 private:
  Poco::Net::HTTPServerParams::Ptr params_;
  Poco::Net::HTTPRequestHandlerFactory::Ptr factory_;
  std::shared_ptr<FixtureHttpServer::Stats> stats_;
};

}  // namespace

struct FixtureHttpServer::Impl {
  Options options;
  std::map<std::string, Handler> routes;
  std::shared_ptr<Stats> stats = std::make_shared<Stats>();
  Poco::Net::ServerSocket socket;
  std::unique_ptr<Poco::ThreadPool> pool;
  std::unique_ptr<Poco::Net::TCPServer> server;
  uint16_t port = 0;
};

FixtureHttpServer::FixtureHttpServer(const Options& options) : impl_(std::make_unique<Impl>()) {
  impl_->options = options;
  if (!impl_->options.root.empty()) {
    std::string root = Poco::Path(impl_->options.root).absolute().toString();
    while (root.size() > 1 && root.back() == '/') root.pop_back();
    impl_->options.root = root;
  }
}

FixtureHttpServer::~FixtureHttpServer() { stop(); }

void FixtureHttpServer::route(const std::string& path, Handler handler) {
  if (impl_->server) throw std::logic_error("FixtureHttpServer::route after start()");
  impl_->routes[path] = std::move(handler);
}

void FixtureHttpServer::start() {
  if (impl_->server) return;
  auto config = std::make_shared<Config>();
  config->root = impl_->options.root;
  config->delay_ms = impl_->options.delay_ms;
  config->routes = impl_->routes;

  impl_->socket = Poco::Net::ServerSocket(Poco::Net::SocketAddress("127.0.0.1", 0), 128);
  impl_->port = impl_->socket.address().port();

  Poco::Net::HTTPServerParams::Ptr params = new Poco::Net::HTTPServerParams;  // Poco AutoPtr owns it
  params->setMaxThreads(impl_->options.max_threads);
  params->setMaxQueued(256);
  params->setKeepAlive(true);
  params->setMaxKeepAliveRequests(0);  // unlimited
  params->setKeepAliveTimeout(Poco::Timespan(2, 0));
  params->setTimeout(Poco::Timespan(10, 0));

  const int threads = std::max(2, impl_->options.max_threads);
  impl_->pool = std::make_unique<Poco::ThreadPool>(2, threads);
  Poco::Net::HTTPRequestHandlerFactory::Ptr handlers = new HandlerFactory(config, impl_->stats);
  Poco::Net::TCPServerConnectionFactory::Ptr connections =
      new CountingConnectionFactory(params, handlers, impl_->stats);
  impl_->server = std::make_unique<Poco::Net::TCPServer>(connections, *impl_->pool, impl_->socket, params);
  impl_->server->start();
}

void FixtureHttpServer::stop() noexcept {
  if (!impl_ || !impl_->server) return;
  try {
    impl_->server->stop();
    impl_->pool->joinAll();  // connection threads end at EOF or the 2 s keep-alive timeout
  } catch (...) {
  }
  impl_->server.reset();
  impl_->pool.reset();
}

uint16_t FixtureHttpServer::port() const { return impl_->port; }
std::string FixtureHttpServer::url() const { return "http://127.0.0.1:" + std::to_string(impl_->port) + "/"; }

int FixtureHttpServer::open_connections() const {
  std::lock_guard<std::mutex> lock(impl_->stats->mu);
  return impl_->stats->open;
}
int FixtureHttpServer::peak_connections() const {
  std::lock_guard<std::mutex> lock(impl_->stats->mu);
  return impl_->stats->peak;
}
uint64_t FixtureHttpServer::total_connections() const {
  std::lock_guard<std::mutex> lock(impl_->stats->mu);
  return impl_->stats->connections;
}
uint64_t FixtureHttpServer::total_requests() const {
  std::lock_guard<std::mutex> lock(impl_->stats->mu);
  return impl_->stats->requests;
}
uint64_t FixtureHttpServer::requests(const std::string& path) const {
  std::lock_guard<std::mutex> lock(impl_->stats->mu);
  auto it = impl_->stats->by_path.find(path);
  return it == impl_->stats->by_path.end() ? 0 : it->second;
}
std::map<std::string, uint64_t> FixtureHttpServer::requests_by_path() const {
  std::lock_guard<std::mutex> lock(impl_->stats->mu);
  return impl_->stats->by_path;
}
void FixtureHttpServer::reset_counters() {
  std::lock_guard<std::mutex> lock(impl_->stats->mu);
  impl_->stats->peak = impl_->stats->open;
  impl_->stats->connections = 0;
  impl_->stats->requests = 0;
  impl_->stats->by_path.clear();
}

std::string content_type_for(const std::string& file_name) {
  auto dot = file_name.rfind('.');
  std::string ext = dot == std::string::npos ? "" : file_name.substr(dot + 1);
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  if (ext == "html" || ext == "htm") return "text/html; charset=utf-8";
  if (ext == "png") return "image/png";
  if (ext == "jpg" || ext == "jpeg") return "image/jpeg";
  if (ext == "gif") return "image/gif";
  if (ext == "webp") return "image/webp";
  if (ext == "css") return "text/css";
  if (ext == "svg") return "image/svg+xml";
  if (ext == "txt") return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

}  // namespace test
}  // namespace kestrel
