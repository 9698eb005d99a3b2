#include "api/api_http.h"

#include <Poco/Logger.h>

#include <strings.h>

#include <mutex>

#include "api/api_json.h"
#include "runtime/metrics_registry.h"

namespace kestrel::host {
namespace {

// Equal strings in a time that does not depend on where they differ.
bool same_secret(const std::string& a, const std::string& b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ (i < b.size() ? b[i] : 0));
  return diff == 0;
}

}  // namespace

void authorize_bearer(const ApiRequest& request, const std::string& token) {
  if (token.empty()) return;
  const std::string& h = request.authorization;
  if (h.empty()) throw ApiError(401, "this request changes state and needs 'Authorization: Bearer <token>'");
  static const char kScheme[] = "bearer ";
  const size_t n = sizeof kScheme - 1;
  if (h.size() <= n || strncasecmp(h.c_str(), kScheme, n) != 0)
    throw ApiError(401, "the Authorization header must use the Bearer scheme (RFC 6750)");
  if (!same_secret(h.substr(n), token)) throw ApiError(403, "the bearer token is not the configured token");
}

ApiResponse method_not_allowed(const std::string& allow) {
  ApiResponse r;
  r.status = 405;
  r.body = json_error(405, "method not allowed here; allowed: " + allow);
  r.headers.emplace_back("Allow", allow);
  return r;
}

ApiResponse json_response(int status, const Poco::JSON::Object::Ptr& o) {
  ApiResponse r;
  r.status = status;
  r.body = json_text(o);
  return r;
}

ApiResponse metrics_response() {
  ApiResponse r;
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  r.body = MetricsRegistry::global().render_prometheus();
  return r;
}

ApiResponse error_response(int status, const std::string& message) {
  ApiResponse r;
  r.status = status;
  r.body = json_error(status, message);
  if (status == 401) r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"kestrel\"");
  return r;
}

void finish_response(const char* api, const ApiRequest& request, const ApiResponse& response,
                     const std::string& quiet_path) {
  static std::mutex mu;
  static std::map<std::string, kestrel_metric*> counters;  // "<api> <class>" -> series
  static const char* const kClasses[] = {"2xx", "4xx", "5xx"};
  const int cls = response.status >= 500 ? 2 : response.status >= 400 ? 1 : 0;
  kestrel_metric* m = nullptr;
  {
    std::lock_guard<std::mutex> lock(mu);
    const std::string key = std::string(api) + " " + kClasses[cls];
    auto it = counters.find(key);
    if (it == counters.end()) {
      std::string error;  // fixed, valid name and labels: nothing to report
      m = MetricsRegistry::global().add(api, KESTREL_METRIC_COUNTER, "kestrel_api_responses_total",
                                        "API responses by status class", std::string("code=\"") + kClasses[cls] + "\"",
                                        {}, &error);
      counters.emplace(key, m);
    } else {
      m = it->second;
    }
  }
  if (m) MetricsRegistry::add_value(m, 1);
  if (response.status >= 500 && request.path != quiet_path)
    Poco::Logger::get("kestreld.api").warning(request.method + " " + request.path + ": " +
                                              std::to_string(response.status) + " " + response.body);
}

}  // namespace kestrel::host
