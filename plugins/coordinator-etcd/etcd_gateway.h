// EtcdGateway: JSON requests to etcd's v3 gRPC gateway (etcd 3.4: POST
// /v3/kv/range, /v3/kv/txn, /v3/lease/grant, ...) over Poco Net, with
// failover across the configured endpoints, and the base64 encoding the
// gateway uses for keys and values.
//
// Units: timeouts in milliseconds. Threads: any thread may call every method
// concurrently (one HTTP session per request; the preferred endpoint is an
// atomic). Errors (kestrel::Error):
//   KESTREL_ERR_UNAVAILABLE (retryable) when no endpoint answered: the
//     message names every endpoint tried and its error (refused, timed out,
//     HTTP 502/503/504, an etcd "unavailable" answer);
//   KESTREL_ERR_NOT_FOUND for etcd's gRPC code 5 (e.g. a lease that expired);
//   KESTREL_ERR_INTERNAL for any other etcd error answer or an unreadable body.
#ifndef KESTREL_COORDINATOR_ETCD_ETCD_GATEWAY_H
#define KESTREL_COORDINATOR_ETCD_ETCD_GATEWAY_H

#include <Poco/JSON/Object.h>
#include <Poco/Net/HTTPClientSession.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace kestrel {
namespace coordinator_etcd {

// Standard base64 without line breaks (the gateway's encoding of bytes).
std::string base64_encode(const std::string& bytes);
// Throws kestrel::Error(KESTREL_ERR_INTERNAL) on malformed input.
std::string base64_decode(const std::string& text);

// An int64/uint64 field of a gateway answer: the gateway writes 64-bit
// integers as JSON strings ("revision": "12"); absent fields are 0.
uint64_t u64_field(const Poco::JSON::Object::Ptr& o, const std::string& name);

class EtcdGateway {
 public:
  // `endpoints`: "http://host:port" (at least one; https is refused: this
  // client speaks plain HTTP only). `request_timeout_ms` bounds the connect,
  // each send and each receive, per endpoint. Throws
  // kestrel::Error(KESTREL_ERR_INVALID) on an empty list or a bad URL.
  EtcdGateway(std::vector<std::string> endpoints, uint32_t request_timeout_ms);

  // POSTs `body` to `path` ("/v3/kv/range") and returns the parsed JSON answer.
  // Endpoints are tried starting with the last one that answered, each at most
  // once, in order. Blocks at most about request_timeout × endpoints.
  Poco::JSON::Object::Ptr post(const std::string& path, const Poco::JSON::Object& body) const;

  // POSTs a watch request to `path` (/v3/watch) and hands each streamed JSON
  // message to `on_message` until it returns true (then: true) or
  // `timeout_ms` passes without it (then: false). The stream is closed when
  // this returns, which cancels the watch in etcd. An endpoint failing before
  // the stream starts fails over as post() does.
  bool stream(const std::string& path, const Poco::JSON::Object& body, uint32_t timeout_ms,
              const std::function<bool(const Poco::JSON::Object::Ptr&)>& on_message) const;

  const std::vector<std::string>& endpoints() const { return endpoints_; }
  uint32_t request_timeout_ms() const { return timeout_ms_; }

 private:
  struct Endpoint {
    std::string url;
    std::string host;
    uint16_t port;
  };
  // Calls `attempt` on each endpoint in turn until one does not throw an
  // endpoint failure; throws UNAVAILABLE naming all of them.
  template <typename F>
  auto on_some_endpoint(F attempt) const -> decltype(attempt(std::declval<const Endpoint&>()));
  // A JSON POST of `text` to `path` on `ep`, sent with request_timeout on
  // connect, send and receive; the caller reads the answer from the session.
  std::unique_ptr<Poco::Net::HTTPClientSession> send_post(const Endpoint& ep, const std::string& path,
                                                          const std::string& text) const;

  std::vector<std::string> endpoints_;
  std::vector<Endpoint> parsed_;
  uint32_t timeout_ms_;
  mutable std::atomic<size_t> preferred_{0};
};

}  // namespace coordinator_etcd
}  // namespace kestrel

#endif  // KESTREL_COORDINATOR_ETCD_ETCD_GATEWAY_H
