// ApiClient: kestrelctl's HTTP/1.1 client for the App API (Poco::Net).
#ifndef KESTREL_HOST_KESTRELCTL_API_CLIENT_H_
#define KESTREL_HOST_KESTRELCTL_API_CLIENT_H_

#include <Poco/JSON/Object.h>

#include <stdexcept>
#include <string>

namespace kestrel::ctl {

// The server could not be reached (refused, unknown host, timeout): exit 3.
class ConnectError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// One answer from the server.
struct ApiReply {
  int status = 0;                // HTTP status
  std::string body;              // bytes
  Poco::JSON::Object::Ptr json;  // the body as a JSON object; null when it is not one

  bool ok() const { return status >= 200 && status < 300; }
  // The server's {"error": ...} message, else "HTTP <status>".
  std::string error_message() const;
};

// Talks to one App API. Blocking; one request at a time per object.
class ApiClient {
 public:
  // `base_url`: "http://host:port" (a path prefix is kept); `token`: sent as
  // `Authorization: Bearer <token>` when not empty (never printed).
  // Throws std::invalid_argument when base_url is not an http:// URL.
  ApiClient(const std::string& base_url, std::string token);

  // Sends `method` `path` (with query) and a JSON `body` (none when empty).
  // Waits up to 30 s for the answer. Throws ConnectError when the server
  // cannot be reached or the connection breaks.
  ApiReply call(const std::string& method, const std::string& path, const std::string& body = std::string()) const;

  const std::string& base_url() const { return base_url_; }

 private:
  std::string base_url_;
  std::string host_;
  uint16_t port_ = 0;
  std::string prefix_;
  std::string token_;
};

}  // namespace kestrel::ctl

#endif  // KESTREL_HOST_KESTRELCTL_API_CLIENT_H_
