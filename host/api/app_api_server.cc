#include "api/app_api_server.h"

#include <Poco/Logger.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/ThreadPool.h>
#include <Poco/URI.h>

#include <stdexcept>

#include "api/api_json.h"
#include "api/app_api.h"

namespace kestrel::host {
namespace {

class ApiRequestHandler : public Poco::Net::HTTPRequestHandler {
 public:
  ApiRequestHandler(const ApiHandler& api, int64_t max_body) : api_(api), max_body_(max_body) {}

  void handleRequest(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) override {
    ApiResponse out;
    try {
      ApiRequest in;
      in.method = request.getMethod();
      in.authorization = request.get("Authorization", "");
      Poco::URI uri;
      try {
        uri = Poco::URI(request.getURI());
        in.path = uri.getPath();
        for (const auto& [k, v] : uri.getQueryParameters()) in.query[k] = v;
      } catch (const Poco::Exception& e) {
        throw BadRequest(400, "malformed request URI: " + e.displayText());
      }
      const std::string too_large = "the request body is larger than " + std::to_string(max_body_) + " bytes";
      if (request.hasContentLength() && request.getContentLength64() > max_body_) throw BadRequest(413, too_large);
      std::istream& body = request.stream();
      char buf[8192];
      while (body.read(buf, sizeof buf) || body.gcount() > 0) {
        in.body.append(buf, static_cast<size_t>(body.gcount()));
        if (in.body.size() > static_cast<size_t>(max_body_)) throw BadRequest(413, too_large);
      }
      out = api_.handle(in);
    } catch (const BadRequest& e) {
      out.status = e.status;
      out.body = json_error(e.status, e.what());
    }
    Poco::Logger::get("kestreld.api")
        .debug(request.getMethod() + " " + request.getURI() + " -> " + std::to_string(out.status));
    response.setStatus(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(out.status));
    response.setContentType(out.content_type);
    response.setContentLength64(static_cast<Poco::Int64>(out.body.size()));
    response.set("Cache-Control", "no-store");
    for (const auto& [name, value] : out.headers) response.set(name, value);
    response.send().write(out.body.data(), static_cast<std::streamsize>(out.body.size()));
  }

 private:
  struct BadRequest : std::runtime_error {
    BadRequest(int s, const std::string& m) : std::runtime_error(m), status(s) {}
    int status;
  };
  const ApiHandler& api_;
  const int64_t max_body_;
};

class ApiHandlerFactory : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  ApiHandlerFactory(const ApiHandler& api, int64_t max_body) : api_(api), max_body_(max_body) {}
  Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
    return new ApiRequestHandler(api_, max_body_);  // Poco's HTTPServerConnection owns and deletes it
  }

 private:
  const ApiHandler& api_;
  const int64_t max_body_;
};

}  // namespace

AppApiServer::AppApiServer(const ApiHandler& api, std::string listen, int64_t max_body_bytes)
    : api_(api), max_body_bytes_(max_body_bytes), listen_(std::move(listen)) {}

AppApiServer::~AppApiServer() { stop(); }

void AppApiServer::start() {
  Poco::Net::ServerSocket socket;
  try {
    const Poco::Net::SocketAddress address(listen_);
    // reuseAddress lets a restart bind while old connections sit in
    // TIME_WAIT; Linux still refuses a port another socket listens on.
    socket.bind(address, /*reuseAddress=*/true, /*reusePort=*/false);
    socket.listen(64);
    port_ = socket.address().port();
    bound_host_ = socket.address().host().toString();
  } catch (const Poco::Exception& e) {
    // e.g. "cannot listen on 127.0.0.1:8000: Address already in use: 127.0.0.1:8000"
    throw std::runtime_error("cannot listen on " + listen_ + ": " + (e.message().empty() ? e.displayText() : e.message()));
  }
  Poco::AutoPtr<Poco::Net::HTTPServerParams> params(new Poco::Net::HTTPServerParams);
  params->setMaxThreads(16);
  params->setMaxQueued(64);
  params->setKeepAlive(true);
  params->setTimeout(Poco::Timespan(30, 0));  // seconds an idle or slow client may hold a thread
  params->setServerName("kestreld");
  pool_ = std::make_unique<Poco::ThreadPool>(2, 16, 60, 0);
  // Poco's factory and params are reference-counted (SharedPtr / AutoPtr): the server owns them.
  Poco::Net::HTTPRequestHandlerFactory::Ptr factory(new ApiHandlerFactory(api_, max_body_bytes_));
  socket_ = std::make_unique<Poco::Net::ServerSocket>(socket);  // Poco sockets are shared handles
  server_ = std::make_unique<Poco::Net::HTTPServer>(factory, *pool_, socket, params);
  server_->start();
}

void AppApiServer::stop() noexcept {
  try {
    // Poco's acceptor polls its socket in 250 ms rounds and looks at its stop flag between them, so
    // stop() waited up to 250 ms (an eighth of a second on average at the end of every `--once` run).
    // Shutting the listening socket's receive side wakes that poll at once (accept then fails, and the
    // acceptor finds the flag set).
    if (socket_) {
      try {
        socket_->impl()->shutdownReceive();
      } catch (...) {
        // not listening any more: the poll ends on its own
      }
    }
    if (server_) server_->stopAll(true);  // stop accepting; abort open connections
    server_.reset();
    socket_.reset();
    if (pool_) pool_->joinAll();          // handler threads finish their current request
    pool_.reset();
  } catch (...) {
    // Stopping must not throw (destructor, shutdown path); nothing is left to do.
  }
}

std::string AppApiServer::url() const {
  const bool v6 = bound_host_.find(':') != std::string::npos;
  return "http://" + (v6 ? "[" + bound_host_ + "]" : bound_host_) + ":" + std::to_string(port_);
}

}  // namespace kestrel::host
