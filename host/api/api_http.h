// What the App API and the HA API share: one request and one response as the
// HTTP layer (AppApiServer) decodes and sends them, the handler interface it
// serves, and the rules both APIs follow (bearer token, error shape, 405s).
#ifndef KESTREL_HOST_API_API_HTTP_H_
#define KESTREL_HOST_API_API_HTTP_H_

#include <kestrel/plugin.hpp>

#include <Poco/JSON/Object.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace kestrel::host {

// One request, as the HTTP layer decoded it.
struct ApiRequest {
  std::string method;                        // "GET", "POST", "DELETE", ...
  std::string path;                          // URI path, percent-decoded, without the query
  std::map<std::string, std::string> query;  // decoded query parameters (a repeated name: the last wins)
  std::string authorization;                 // the Authorization header, "" when absent; a secret: never logged
  std::string body;                          // bytes
};

// One response for the HTTP layer to send.
struct ApiResponse {
  int status = 200;                                          // HTTP status code
  std::string content_type = "application/json";             // Content-Type
  std::string body;                                          // bytes
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers (WWW-Authenticate, Allow)
};

// What AppApiServer serves. handle() never throws and may run on any thread,
// concurrently.
class ApiHandler {
 public:
  virtual ~ApiHandler() = default;
  virtual ApiResponse handle(const ApiRequest& request) const = 0;
};

// Throws ApiError(401) without an "Authorization: Bearer" header, 403 with
// another token (RFC 6750); nothing when `token` is "" (none configured).
// The comparison takes the same time wherever the tokens differ.
void authorize_bearer(const ApiRequest& request, const std::string& token);

// 405 with an Allow header.
ApiResponse method_not_allowed(const std::string& allow);

// `o` as a JSON response with HTTP `status`.
ApiResponse json_response(int status, const Poco::JSON::Object::Ptr& o);

// GET /metrics: the host's Prometheus text (format 0.0.4).
ApiResponse metrics_response();

// Runs `route` and turns what it throws into the error shape
// {"error": "...", "status": N}: ApiError keeps its status, kestrel::Error
// gets `status_for(error)`, anything else 500. Counts the response in
// kestrel_api_responses_total{api, code class} and logs 5xx (except on
// `quiet_path`, which logs its own state changes).
template <class Route, class StatusFor>
ApiResponse handle_api(const char* api, const ApiRequest& request, const std::string& quiet_path, Route&& route,
                       StatusFor&& status_for);

// The error response of one failure (used by handle_api).
ApiResponse error_response(int status, const std::string& message);
// Counts and logs one finished response (used by handle_api).
void finish_response(const char* api, const ApiRequest& request, const ApiResponse& response,
                     const std::string& quiet_path);

}  // namespace kestrel::host

#include "api/api_error.h"

namespace kestrel::host {

template <class Route, class StatusFor>
ApiResponse handle_api(const char* api, const ApiRequest& request, const std::string& quiet_path, Route&& route,
                       StatusFor&& status_for) {
  ApiResponse response;
  try {
    response = route(request);
  } catch (const ApiError& e) {
    response = error_response(e.status(), e.what());
  } catch (const Error& e) {
    response = error_response(status_for(e), e.what());
  } catch (const std::exception& e) {
    response = error_response(500, std::string("internal error: ") + e.what());
  }
  finish_response(api, request, response, quiet_path);
  return response;
}

}  // namespace kestrel::host

#endif  // KESTREL_HOST_API_API_HTTP_H_
