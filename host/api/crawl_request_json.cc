#include "api/crawl_request_json.h"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <curl/curl.h>

#include <limits>
#include <memory>

#include "api/api_error.h"

namespace kestrel::host {
namespace {

struct UrlDeleter {
  void operator()(CURLU* u) const { curl_url_cleanup(u); }
};

// A non-negative integer field no larger than `max`.
uint64_t unsigned_field(const Poco::JSON::Object& o, const std::string& key, uint64_t max) {
  const Poco::Dynamic::Var v = o.get(key);
  if (!v.isInteger() || v.isBoolean())
    throw ApiError(400, "field '" + key + "' must be a non-negative integer (0: the configured value)");
  if (v.isSigned()) {
    const int64_t n = v.convert<Poco::Int64>();
    if (n < 0) throw ApiError(400, "field '" + key + "' must not be negative");
  }
  const uint64_t n = v.convert<Poco::UInt64>();
  if (n > max) throw ApiError(400, "field '" + key + "' is too large (at most " + std::to_string(max) + ")");
  return n;
}

}  // namespace

bool is_http_url(const std::string& url, std::string* why) {
  std::unique_ptr<CURLU, UrlDeleter> u(curl_url());
  if (!u) {
    *why = "out of memory";
    return false;
  }
  // No CURLU_DEFAULT_SCHEME: a seed must say http:// or https:// itself.
  const CURLUcode rc = curl_url_set(u.get(), CURLUPART_URL, url.c_str(), CURLU_NON_SUPPORT_SCHEME);
  if (rc != CURLUE_OK) {
    *why = std::string("not an absolute URL (") + curl_url_strerror(rc) + ")";
    return false;
  }
  char* scheme = nullptr;
  if (curl_url_get(u.get(), CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK || scheme == nullptr) {
    *why = "no scheme";
    return false;
  }
  const std::string s = scheme;
  curl_free(scheme);
  if (s != "http" && s != "https") {
    *why = "scheme '" + s + "' is not http or https";
    return false;
  }
  char* host = nullptr;
  if (curl_url_get(u.get(), CURLUPART_HOST, &host, 0) != CURLUE_OK || host == nullptr || host[0] == '\0') {
    if (host) curl_free(host);
    *why = "no host";
    return false;
  }
  curl_free(host);
  return true;
}

CrawlRequest parse_crawl_request(const std::string& body) {
  Poco::Dynamic::Var parsed;
  try {
    Poco::JSON::Parser parser;
    parsed = parser.parse(body);
  } catch (const Poco::Exception& e) {
    throw ApiError(400, "the body is not valid JSON: " + e.displayText());
  }
  if (parsed.type() != typeid(Poco::JSON::Object::Ptr))
    throw ApiError(400, "the body must be a JSON object such as {\"seeds\": [\"http://example.org/\"]}");
  const Poco::JSON::Object::Ptr o = parsed.extract<Poco::JSON::Object::Ptr>();

  static const char* const kKeys[] = {"seeds",     "scope",       "max_depth", "max_pages",
                                      "max_bytes", "max_seconds", "robots"};
  for (const auto& name : o->getNames()) {
    bool known = false;
    for (const char* k : kKeys) known |= name == k;
    if (!known)
      throw ApiError(400, "unknown field '" + name +
                              "'; valid fields: seeds, scope, max_depth, max_pages, max_bytes, max_seconds, robots");
  }

  CrawlRequest r;
  if (!o->has("seeds")) throw ApiError(400, "field 'seeds' is missing: give a list of absolute http(s) URLs");
  Poco::JSON::Array::Ptr seeds = o->getArray("seeds");
  if (!seeds) throw ApiError(400, "field 'seeds' must be a list of absolute http(s) URLs");
  if (seeds->size() == 0) throw ApiError(400, "field 'seeds' is empty: give at least one URL");
  for (unsigned i = 0; i < seeds->size(); ++i) {
    const Poco::Dynamic::Var v = seeds->get(i);
    const std::string field = "seeds[" + std::to_string(i) + "]";
    if (!v.isString()) throw ApiError(400, "field '" + field + "' must be a string");
    const std::string url = v.convert<std::string>();
    std::string why;
    if (!is_http_url(url, &why)) throw ApiError(400, "field '" + field + "' ('" + url + "'): " + why);
    r.seeds.push_back(url);
  }
  if (o->has("scope")) {
    const Poco::Dynamic::Var v = o->get("scope");
    const std::string s = v.isString() ? v.convert<std::string>() : std::string();
    if (s != "site" && s != "host" && s != "domain")
      throw ApiError(400, "field 'scope' must be \"site\", \"host\" or \"domain\"");
    r.scope = s;
  }
  constexpr uint64_t k32 = std::numeric_limits<uint32_t>::max();
  constexpr uint64_t k64 = std::numeric_limits<uint64_t>::max();
  if (o->has("max_depth")) r.max_depth = static_cast<uint32_t>(unsigned_field(*o, "max_depth", k32));
  if (o->has("max_pages")) r.max_pages = unsigned_field(*o, "max_pages", k64);
  if (o->has("max_bytes")) r.max_bytes = unsigned_field(*o, "max_bytes", k64);
  if (o->has("max_seconds")) r.max_seconds = static_cast<uint32_t>(unsigned_field(*o, "max_seconds", k32));
  if (o->has("robots")) {
    const Poco::Dynamic::Var v = o->get("robots");
    if (!v.isBoolean()) throw ApiError(400, "field 'robots' must be true or false");
    r.robots = v.convert<bool>() ? 1 : 2;
  }
  return r;
}

}  // namespace kestrel::host
