// EtcdGateway (see etcd_gateway.h).
#include "etcd_gateway.h"

#include <Poco/Base64Decoder.h>
#include <Poco/Base64Encoder.h>
#include <Poco/Exception.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/StreamCopier.h>
#include <Poco/Timespan.h>
#include <Poco/URI.h>

#include <kestrel/plugin.hpp>

#include <chrono>
#include <memory>
#include <sstream>
#include <utility>

namespace kestrel {
namespace coordinator_etcd {
namespace {

// An endpoint that did not answer (or answered "unavailable"): try the next.
class EndpointDown : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

Poco::JSON::Object::Ptr parse(const std::string& text) {
  try {
    return Poco::JSON::Parser().parse(text).extract<Poco::JSON::Object::Ptr>();
  } catch (const Poco::Exception& e) {
    throw Error(KESTREL_ERR_INTERNAL, "etcd: unreadable answer (" + e.displayText() + "): " + text.substr(0, 200));
  }
}

// gRPC codes the gateway reports in {"error", "code"}: 4 deadline exceeded,
// 14 unavailable (no leader, member stopping) mean "try another member".
void check_answer(int http_status, const Poco::JSON::Object::Ptr& o, const std::string& path) {
  if (!o->has("error") && http_status < 400) return;
  const int code = static_cast<int>(u64_field(o, "code"));
  const std::string msg = o->optValue<std::string>("message", o->optValue<std::string>("error", "HTTP error"));
  if (code == 4 || code == 14 || http_status == 502 || http_status == 503 || http_status == 504)
    throw EndpointDown("HTTP " + std::to_string(http_status) + ": " + msg);
  if (code == 5) throw Error(KESTREL_ERR_NOT_FOUND, "etcd " + path + ": " + msg);
  throw Error(KESTREL_ERR_INTERNAL, "etcd " + path + ": HTTP " + std::to_string(http_status) + ", code " +
                                        std::to_string(code) + ": " + msg);
}

std::string to_text(const Poco::JSON::Object& o) {
  std::ostringstream out;
  o.stringify(out);
  return out.str();
}

}  // namespace

std::string base64_encode(const std::string& bytes) {
  std::ostringstream out;
  Poco::Base64Encoder enc(out);
  enc.rdbuf()->setLineLength(0);
  enc << bytes;
  enc.close();
  return out.str();
}

std::string base64_decode(const std::string& text) {
  try {
    std::istringstream in(text);
    Poco::Base64Decoder dec(in);
    std::string out;
    Poco::StreamCopier::copyToString(dec, out);
    return out;
  } catch (const Poco::Exception& e) {
    throw Error(KESTREL_ERR_INTERNAL, "etcd: bad base64 in an answer: " + e.displayText());
  }
}

uint64_t u64_field(const Poco::JSON::Object::Ptr& o, const std::string& name) {
  if (!o || !o->has(name)) return 0;
  const Poco::Dynamic::Var v = o->get(name);
  try {
    if (v.isString()) return std::stoull(v.extract<std::string>());
    return v.convert<Poco::UInt64>();
  } catch (const std::exception& e) {
    throw Error(KESTREL_ERR_INTERNAL, "etcd: field '" + name + "' is not a number: " + v.toString());
  }
}

EtcdGateway::EtcdGateway(std::vector<std::string> endpoints, uint32_t request_timeout_ms)
    : endpoints_(std::move(endpoints)), timeout_ms_(request_timeout_ms) {
  if (endpoints_.empty()) throw Error(KESTREL_ERR_INVALID, "endpoints: at least one http://host:port is needed");
  if (timeout_ms_ == 0) throw Error(KESTREL_ERR_INVALID, "request_timeout: must be above 0");
  for (const auto& url : endpoints_) {
    Poco::URI uri;
    try {
      uri = Poco::URI(url);
    } catch (const Poco::Exception& e) {
      throw Error(KESTREL_ERR_INVALID, "endpoints: '" + url + "': " + e.displayText());
    }
    if (uri.getScheme() != "http" || uri.getHost().empty())
      throw Error(KESTREL_ERR_INVALID, "endpoints: '" + url + "': expected http://host:port (plain HTTP only)");
    parsed_.push_back(Endpoint{url, uri.getHost(), uri.getPort()});
  }
}

template <typename F>
auto EtcdGateway::on_some_endpoint(F attempt) const -> decltype(attempt(std::declval<const Endpoint&>())) {
  const size_t n = parsed_.size();
  const size_t first = preferred_.load() % n;
  std::string errors;
  for (size_t i = 0; i < n; ++i) {
    const size_t k = (first + i) % n;
    const Endpoint& ep = parsed_[k];
    try {
      auto result = attempt(ep);
      preferred_.store(k);
      return result;
    } catch (const EndpointDown& e) {
      errors += (errors.empty() ? "" : "; ") + ep.url + ": " + e.what();
    } catch (const Poco::TimeoutException& e) {
      errors += (errors.empty() ? "" : "; ") + ep.url + ": timed out after " + std::to_string(timeout_ms_) + " ms";
    } catch (const Poco::Exception& e) {
      errors += (errors.empty() ? "" : "; ") + ep.url + ": " + e.displayText();
    }
  }
  throw Error(KESTREL_ERR_UNAVAILABLE, "etcd unreachable: " + errors, true);
}

std::unique_ptr<Poco::Net::HTTPClientSession> EtcdGateway::send_post(const Endpoint& ep, const std::string& path,
                                                                     const std::string& text) const {
  auto session = std::make_unique<Poco::Net::HTTPClientSession>(ep.host, ep.port);
  const Poco::Timespan t(static_cast<Poco::Timespan::TimeDiff>(timeout_ms_) * 1000);
  session->setTimeout(t, t, t);
  session->setKeepAlive(false);
  Poco::Net::HTTPRequest req(Poco::Net::HTTPRequest::HTTP_POST, path, Poco::Net::HTTPMessage::HTTP_1_1);
  req.setContentType("application/json");
  req.setContentLength(static_cast<std::streamsize>(text.size()));
  session->sendRequest(req) << text;
  return session;
}

Poco::JSON::Object::Ptr EtcdGateway::post(const std::string& path, const Poco::JSON::Object& body) const {
  const std::string text = to_text(body);
  return on_some_endpoint([&](const Endpoint& ep) {
    const auto session = send_post(ep, path, text);
    Poco::Net::HTTPResponse resp;
    std::istream& in = session->receiveResponse(resp);
    std::string answer;
    Poco::StreamCopier::copyToString(in, answer);
    if (!in.eof() && in.fail()) throw EndpointDown("the answer was cut off");
    const int status = static_cast<int>(resp.getStatus());
    if (answer.empty()) throw EndpointDown("HTTP " + std::to_string(status) + " with an empty body");
    Poco::JSON::Object::Ptr o;
    try {
      o = parse(answer);
    } catch (const Error&) {
      if (status >= 500) throw EndpointDown("HTTP " + std::to_string(status) + ": " + answer.substr(0, 120));
      throw;
    }
    check_answer(status, o, path);
    return o;
  });
}

bool EtcdGateway::stream(const std::string& path, const Poco::JSON::Object& body, uint32_t timeout_ms,
                         const std::function<bool(const Poco::JSON::Object::Ptr&)>& on_message) const {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  const std::string text = to_text(body);
  return on_some_endpoint([&](const Endpoint& ep) {
    const auto session = send_post(ep, path, text);
    Poco::Net::HTTPResponse resp;
    std::istream& in = session->receiveResponse(resp);  // the headers come at once: within request_timeout
    const int status = static_cast<int>(resp.getStatus());
    if (status >= 500) throw EndpointDown("HTTP " + std::to_string(status));
    // Messages are JSON objects, one per line. Each read waits at most
    // until the deadline (a read that times out fails the stream).
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::microseconds>(deadline - Clock::now()).count();
      if (left <= 0) return false;
      session->socket().setReceiveTimeout(Poco::Timespan(static_cast<Poco::Timespan::TimeDiff>(left)));
      std::string line;
      if (!std::getline(in, line)) {
        if (Clock::now() >= deadline - std::chrono::milliseconds(5)) return false;
        throw EndpointDown("the watch stream ended");
      }
      if (line.find_first_not_of(" \r\n\t") == std::string::npos) continue;
      Poco::JSON::Object::Ptr o = parse(line);
      check_answer(status, o, path);
      if (on_message(o)) return true;
    }
  });
}

}  // namespace coordinator_etcd
}  // namespace kestrel
