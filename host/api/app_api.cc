#include "api/app_api.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Logger.h>
#include <Poco/NumberParser.h>

#include <chrono>
#include <cstring>
#include <thread>

#include "api/api_error.h"
#include "api/api_json.h"
#include "api/crawl_request_json.h"
#include "runtime/metrics_registry.h"

namespace kestrel::host {
namespace {

constexpr uint32_t kDefaultLimit = 50;   // images per page when `limit` is not given
constexpr uint32_t kMaxLimit = 1000;     // largest `limit` accepted
constexpr uint64_t kMaxOffset = 100000000;  // an offset beyond this is surely a mistake (and slow)

// An unsigned decimal query parameter, at most `max`.
uint64_t unsigned_param(const ApiRequest& req, const std::string& name, uint64_t fallback, uint64_t max) {
  auto it = req.query.find(name);
  if (it == req.query.end()) return fallback;
  Poco::UInt64 v = 0;
  if (it->second.empty() || it->second.find_first_not_of("0123456789") != std::string::npos ||
      !Poco::NumberParser::tryParseUnsigned64(it->second, v))
    throw ApiError(400, "query parameter '" + name + "' must be a non-negative integer, not '" + it->second + "'");
  if (v > max) throw ApiError(400, "query parameter '" + name + "' is too large (at most " + std::to_string(max) + ")");
  return v;
}

// The image id of /api/images/{id}.
int64_t image_id(const std::string& text) {
  Poco::Int64 v = 0;
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos ||
      !Poco::NumberParser::tryParse64(text, v) || v <= 0)
    throw ApiError(400, "image id '" + text + "' must be a positive integer");
  return v;
}

kestrel_image_query new_query() {
  kestrel_image_query q;
  std::memset(&q, 0, sizeof q);
  q.struct_size = sizeof q;
  return q;
}

// HTTP status for a failed component call.
int status_for(const Error& e) {
  switch (e.code()) {
    case KESTREL_ERR_INVALID: return 400;
    case KESTREL_ERR_NOT_FOUND: return 404;
    case KESTREL_ERR_UNAVAILABLE:
    case KESTREL_ERR_FENCED:
    case KESTREL_ERR_TIMEOUT: return 503;
    case KESTREL_ERR_NO_SPACE: return 507;
    default: return 500;
  }
}

}  // namespace

AppApi::AppApi(const ComponentRuntime& runtime, const ComponentGraph& graph, std::string token)
    : runtime_(runtime), graph_(graph), token_(std::move(token)), targets_(find_api_targets(runtime, graph)) {}

CrawlerClient AppApi::crawler() const {
  if (targets_.crawler.empty())
    throw ApiError(503, std::string("the configuration has no component providing ") + KESTREL_IFACE_CRAWLER_V1);
  return CrawlerClient(runtime_.interface_of(targets_.crawler, KESTREL_IFACE_CRAWLER_V1));
}

CatalogClient AppApi::catalog() const {
  if (targets_.catalog.empty())
    throw ApiError(503, std::string("the configuration has no component providing ") + KESTREL_IFACE_CATALOG_V1);
  return CatalogClient(runtime_.interface_of(targets_.catalog, KESTREL_IFACE_CATALOG_V1));
}

BlobStoreClient AppApi::files() const {
  if (targets_.files.empty())
    throw ApiError(503, std::string("the configuration has no component providing ") + KESTREL_IFACE_BLOBSTORE_V1);
  return BlobStoreClient(runtime_.interface_of(targets_.files, KESTREL_IFACE_BLOBSTORE_V1));
}

ApiResponse AppApi::handle(const ApiRequest& request) const {
  // /api/health logs its own state changes (HealthLog): a monitor polling
  // a 503 every few seconds must not repeat the whole body each time.
  return handle_api("api", request, "/api/health", [this](const ApiRequest& r) { return route(r); }, status_for);
}

ApiResponse AppApi::route(const ApiRequest& req) const {
  const std::string& p = req.path;
  const std::string& m = req.method;
  if (p == "/api/health") return m == "GET" ? health() : method_not_allowed("GET");
  if (p == "/metrics") return m == "GET" ? metrics_response() : method_not_allowed("GET");
  if ((p == "/api/sync-status" || p == "/api/force-sync") && ha_ != nullptr) return ha_->handle(req);
  if (p == "/api/crawl/start") {
    if (m != "POST") return method_not_allowed("POST");
    authorize_bearer(req, token_);
    return crawl_start(req);
  }
  if (p == "/api/crawl/stop") {
    if (m != "POST") return method_not_allowed("POST");
    authorize_bearer(req, token_);
    return crawl_stop();
  }
  if (p == "/api/crawl/status") return m == "GET" ? crawl_status(200) : method_not_allowed("GET");
  if (p == "/api/images" || p == "/api/images/") return m == "GET" ? list_images(req) : method_not_allowed("GET");
  static const std::string kImage = "/api/images/";
  if (p.compare(0, kImage.size(), kImage) == 0) {
    const std::string rest = p.substr(kImage.size());
    if (m == "GET") return get_image(image_id(rest));
    if (m == "DELETE") {
      authorize_bearer(req, token_);
      return delete_image(image_id(rest));
    }
    return method_not_allowed("GET, DELETE");
  }
  throw ApiError(404, "no such endpoint: " + p +
                          " (see /api/health, /api/crawl/start|stop|status, /api/images[/{id}], /metrics)");
}

ApiResponse AppApi::health() const {
  Poco::JSON::Object::Ptr components = json_object();
  std::map<std::string, std::string> states;
  bool ok = true;
  for (const ComponentConfig& c : graph_.components) {
    std::string state = "started";
    if (c.type_info && !c.type_info->provides.empty()) {
      try {
        // interface_of fails unless the component is started; its instance
        // is what the plugin's optional health() takes.
        const kestrel_interface ref = runtime_.interface_of(c.id, c.type_info->provides.front());
        if (c.type_info->ops.health) {
          kestrel_status st = make_status();
          if (c.type_info->ops.health(ref.instance, &st) != KESTREL_OK)
            state = std::string("unhealthy: ") + (st.message[0] ? st.message : "health check failed");
        }
      } catch (const Error& e) {
        state = std::string("not started: ") + e.what();
      }
    }
    ok = ok && state == "started";
    components->set(c.id, state);
    states[c.id] = state;
  }
  Poco::Logger& log = Poco::Logger::get("kestreld.api");
  for (const HealthLog::Line& line : health_log_.record(states, HealthLog::Clock::now())) {
    if (line.warning) log.warning(line.text);
    else log.information(line.text);
  }
  Poco::JSON::Object::Ptr o = json_object();
  o->set("status", ok ? "ok" : "unavailable");
  o->set("components", components);
  return json_response(ok ? 200 : 503, o);
}

ApiResponse AppApi::crawl_status(int http_status) const {
  const CrawlerClient c = crawler();
  const kestrel_crawl_progress p = c.progress();
  Poco::JSON::Object::Ptr report;
  try {
    Poco::JSON::Parser parser;
    Poco::Dynamic::Var v = parser.parse(c.report());
    if (v.type() == typeid(Poco::JSON::Object::Ptr)) report = v.extract<Poco::JSON::Object::Ptr>();
  } catch (const Poco::Exception& e) {
    Poco::Logger::get("kestreld.api").warning("crawler '" + targets_.crawler + "' report is not JSON: " + e.displayText());
  }
  Poco::JSON::Object::Ptr o = json_object();
  o->set("component", targets_.crawler);
  o->set("state", std::string(crawl_state_name(p.state)));
  Poco::JSON::Object::Ptr session = json_object();
  session->set("id", static_cast<Poco::Int64>(p.crawl_session_id));
  session->set("key", report && report->has("session_key") ? report->get("session_key") : Poco::Dynamic::Var());
  o->set("session", session);
  o->set("pages", static_cast<Poco::UInt64>(p.pages));
  o->set("images", static_cast<Poco::UInt64>(p.images));
  o->set("images_unchanged", static_cast<Poco::UInt64>(p.images_unchanged));
  o->set("bytes", static_cast<Poco::UInt64>(p.bytes));
  o->set("errors", static_cast<Poco::UInt64>(p.errors));
  o->set("errors_by_kind", report && report->has("errors_by_kind") ? report->get("errors_by_kind")
                                                                    : Poco::Dynamic::Var(json_object()));
  o->set("queued", static_cast<Poco::UInt64>(p.queued));
  o->set("elapsed_ms", static_cast<Poco::UInt64>(p.elapsed_ms));
  if (report && report->has("seeds")) o->set("seeds", report->get("seeds"));
  o->set("report", report ? Poco::Dynamic::Var(report) : Poco::Dynamic::Var());
  return json_response(http_status, o);
}

ApiResponse AppApi::crawl_start(const ApiRequest& req) const {
  const CrawlRequest request = parse_crawl_request(req.body);
  const CrawlerClient c = crawler();
  {
    std::lock_guard<std::mutex> lock(start_mu_);
    auto busy = [&] {
      const int s = c.progress().state;
      return s == KESTREL_CRAWL_RUNNING || s == KESTREL_CRAWL_STOPPING;
    };
    if (busy()) throw ApiError(409, "a crawl is already running: stop it first (POST /api/crawl/stop)");
    try {
      c.start(request);
    } catch (const Error& e) {
      // A 1.3 crawler says BUSY for a crawl that runs already (started by
      // someone else meanwhile); an older one says INVALID, as for a bad
      // request: tell those apart by asking.
      if (e.code() == KESTREL_ERR_BUSY || (e.code() == KESTREL_ERR_INVALID && busy()))
        throw ApiError(409, "a crawl is already running");
      throw;
    }
  }
  // The crawl thread opens its session right away; wait a little for its id
  // so the answer can name it (a guard, not a promise: 0 when it is late).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (std::chrono::steady_clock::now() < deadline) {
    const kestrel_crawl_progress p = c.progress();
    if (p.crawl_session_id != 0 || p.state != KESTREL_CRAWL_RUNNING) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  Poco::Logger::get("kestreld.api").information("crawl started through the API: " + std::to_string(request.seeds.size()) +
                                                 " seed(s), first " + request.seeds.front());
  return crawl_status(202);
}

ApiResponse AppApi::crawl_stop() const {
  crawler().stop();
  return crawl_status(202);
}

ApiResponse AppApi::list_images(const ApiRequest& req) const {
  static const char* const kParams[] = {"offset", "limit", "after_id", "format", "min_width", "session"};
  for (const auto& [name, value] : req.query) {
    bool known = false;
    for (const char* k : kParams) known |= name == k;
    if (!known)
      throw ApiError(400, "unknown query parameter '" + name +
                              "'; valid: offset, limit, after_id, format, min_width, session");
  }
  const uint64_t offset = unsigned_param(req, "offset", 0, kMaxOffset);
  const uint64_t limit = unsigned_param(req, "limit", kDefaultLimit, kMaxLimit);
  if (limit == 0) throw ApiError(400, "query parameter 'limit' must be from 1 to " + std::to_string(kMaxLimit));
  kestrel_image_query q = new_query();
  q.after_id = static_cast<int64_t>(unsigned_param(req, "after_id", 0, INT64_MAX));
  q.min_width = static_cast<uint32_t>(unsigned_param(req, "min_width", 0, UINT32_MAX));
  q.crawl_session_id = static_cast<int64_t>(unsigned_param(req, "session", 0, INT64_MAX));
  std::string format;
  if (auto it = req.query.find("format"); it != req.query.end()) {
    format = it->second;
    if (format != "png" && format != "jpeg" && format != "gif" && format != "webp")
      throw ApiError(400, "query parameter 'format' must be png, jpeg, gif or webp, not '" + format + "'");
    q.format = format.c_str();
  }
  const CatalogClient cat = catalog();
  const uint64_t total = cat.count_images(0, q);  // after_id is ignored by count: the whole filtered set
  Poco::JSON::Array::Ptr rows = new Poco::JSON::Array;
  uint64_t seen = 0;
  int64_t last_id = 0;
  // Offset paging reads and skips `offset` rows (id order); after_id is the
  // cheap keyset alternative for deep pages.
  cat.read_images(0, q, [&](const kestrel_image_row& row) {
    if (seen++ < offset) return true;
    rows->add(image_json(row));
    last_id = row.id;
    return rows->size() < limit;
  });
  Poco::JSON::Object::Ptr o = json_object();
  o->set("total", static_cast<Poco::UInt64>(total));
  o->set("offset", static_cast<Poco::UInt64>(offset));
  o->set("limit", static_cast<Poco::UInt64>(limit));
  o->set("count", static_cast<Poco::UInt64>(rows->size()));
  // Pass as after_id (with offset 0) for the next page; null on the last one.
  o->set("next_after_id", rows->size() == limit ? Poco::Dynamic::Var(static_cast<Poco::Int64>(last_id))
                                                : Poco::Dynamic::Var());
  o->set("images", rows);
  return json_response(200, o);
}

ApiResponse AppApi::get_image(int64_t id) const {
  kestrel_image_query q = new_query();
  q.after_id = id - 1;
  q.limit = 1;
  Poco::JSON::Object::Ptr found;
  catalog().read_images(0, q, [&](const kestrel_image_row& row) {
    if (row.id == id) found = image_json(row);
    return false;
  });
  if (!found) throw ApiError(404, "no image with id " + std::to_string(id));
  return json_response(200, found);
}

ApiResponse AppApi::delete_image(int64_t id) const {
  const CatalogClient cat = catalog();
  std::lock_guard<std::mutex> lock(delete_mu_);
  kestrel_image_query q = new_query();
  q.after_id = id - 1;
  q.limit = 1;
  std::string url, sha256, file_path;
  bool found = false;
  cat.read_images(0, q, [&](const kestrel_image_row& row) {
    if (row.id == id && row.record) {
      const kestrel_image_record r = copy_in(row.record);
      found = true;
      url = r.url ? r.url : "";
      sha256 = r.sha256 ? r.sha256 : "";
      file_path = r.file_path ? r.file_path : "";
    }
    return false;
  });
  if (!found) throw ApiError(404, "no image with id " + std::to_string(id));

  kestrel_image_record rec;
  std::memset(&rec, 0, sizeof rec);
  rec.struct_size = sizeof rec;
  rec.url = url.c_str();
  kestrel_catalog_op op;
  std::memset(&op, 0, sizeof op);
  op.struct_size = sizeof op;
  op.kind = KESTREL_OP_DELETE_IMAGE;
  op.image = &rec;
  cat.write(0, &op, 1);

  // Content addressing: rows with the same sha256 share one file. It goes
  // only when none is left. (A crawl storing the same bytes again at this
  // very moment re-creates it on its own commit.)
  uint64_t others = 0;
  bool removed = false;
  if (!sha256.empty()) {
    kestrel_image_query same = new_query();
    same.sha256 = sha256.c_str();
    others = cat.count_images(0, same);
    if (others == 0 && !file_path.empty()) removed = files().remove(file_path);
  }
  Poco::Logger::get("kestreld.api").information("image " + std::to_string(id) + " (" + url + ") deleted" +
                                                 (removed ? ", file " + file_path + " removed" : ""));
  Poco::JSON::Object::Ptr o = json_object();
  o->set("deleted", static_cast<Poco::Int64>(id));
  o->set("url", url);
  o->set("file_path", file_path.empty() ? Poco::Dynamic::Var() : Poco::Dynamic::Var(file_path));
  o->set("file_removed", removed);
  o->set("rows_sharing_file", static_cast<Poco::UInt64>(others));
  return json_response(200, o);
}

}  // namespace kestrel::host
