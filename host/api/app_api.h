// AppApi: the App API's endpoints (DESIGN §8), independent of the HTTP
// server that carries them, so each request is a plain function call:
//
//   GET    /api/health                 200 {"status":"ok","components":{id:"started"}} or 503
//                                      (logged per state change, not per poll: see health_log.h)
//   POST   /api/crawl/start            202 + crawl status; 400 bad body; 409 a crawl runs       (token)
//   POST   /api/crawl/stop             202 + crawl status                                      (token)
//   GET    /api/crawl/status           200 live counters and the crawler's report
//   GET    /api/images?offset=&limit=&after_id=&format=&min_width=&session=
//   GET    /api/images/{id}            200 the row; 404 none
//   DELETE /api/images/{id}            200; the file goes when no other row has its sha256    (token)
//   GET    /metrics                    Prometheus text format 0.0.4 (with kestrel_api_responses_total{code})
//
// Errors are {"error": "...", "status": N}. "(token)": when a token is
// configured the request needs `Authorization: Bearer <token>` (RFC 6750):
// 401 without one, 403 with a wrong one.
#ifndef KESTREL_HOST_API_APP_API_H_
#define KESTREL_HOST_API_APP_API_H_

#include <kestrel/plugin.hpp>

#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "api/api_http.h"
#include "api/api_targets.h"
#include "api/health_log.h"
#include "config/component_graph.h"
#include "runtime/component_runtime.h"

namespace kestrel::host {

class AppApi : public ApiHandler {
 public:
  // `runtime` and `graph` must outlive this object, and the components must
  // stay started while handle() may run (kestreld stops the HTTP server
  // before the components). `token`: "" means no token is required.
  AppApi(const ComponentRuntime& runtime, const ComponentGraph& graph, std::string token);

  // Serves one request. Never throws: failures become error responses (5xx
  // for component failures, with the component's message). Any thread,
  // concurrently.
  ApiResponse handle(const ApiRequest& request) const override;

  // Serves /api/sync-status and /api/force-sync as the HA API does (the
  // seeds name both on :8000). `ha` must outlive this object; nullptr: 404.
  void set_ha_api(const ApiHandler* ha) { ha_ = ha; }

  const ApiTargets& targets() const { return targets_; }

 private:
  ApiResponse route(const ApiRequest& request) const;

  ApiResponse health() const;
  ApiResponse crawl_start(const ApiRequest& request) const;
  ApiResponse crawl_stop() const;
  ApiResponse crawl_status(int http_status) const;
  ApiResponse list_images(const ApiRequest& request) const;
  ApiResponse get_image(int64_t id) const;
  ApiResponse delete_image(int64_t id) const;

  CrawlerClient crawler() const;
  CatalogClient catalog() const;
  BlobStoreClient files() const;

  const ComponentRuntime& runtime_;
  const ComponentGraph& graph_;
  const std::string token_;
  const ApiTargets targets_;
  const ApiHandler* ha_ = nullptr;  // the HA API, for its two endpoints the App API serves too
  mutable std::mutex start_mu_;   // makes "is one running? start" one step
  mutable std::mutex delete_mu_;  // makes "delete the row, count the others, remove the file" one step
  mutable HealthLog health_log_;  // /api/health: a line per state change, not per poll
};

}  // namespace kestrel::host

#endif  // KESTREL_HOST_API_APP_API_H_
