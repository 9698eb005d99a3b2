#include "kestrelctl/commands.h"

#include <Poco/JSON/Array.h>
#include <Poco/URI.h>

#include <chrono>
#include <iomanip>
#include <sstream>
#include <thread>

#include "kestrelctl/progress_line.h"

namespace kestrel::ctl {
namespace {

int server_error(const std::string& what, const ApiReply& r, std::ostream& err) {
  err << "kestrelctl: " << what << ": " << r.error_message() << " (HTTP " << r.status << ")\n";
  return kExitServerError;
}

std::string text(const Poco::JSON::Object::Ptr& o, const char* key) {
  if (!o || !o->has(key) || o->isNull(key)) return "";
  return o->get(key).toString();
}

bool ended(const std::string& state) { return state == "finished" || state == "stopped" || state == "failed"; }

// Prints a crawl status object as "key: value" lines.
void print_crawl_status(const Poco::JSON::Object::Ptr& s, std::ostream& out) {
  out << "state: " << text(s, "state") << "\n";
  Poco::JSON::Object::Ptr session = s->getObject("session");
  const std::string key = text(session, "key");
  if (!key.empty() || text(session, "id") != "0")
    out << "session: " << (key.empty() ? "-" : key) << " (id " << text(session, "id") << ")\n";
  out << "pages: " << text(s, "pages") << "\n";
  out << "images: " << text(s, "images") << " stored, " << text(s, "images_unchanged") << " unchanged\n";
  out << "bytes: " << text(s, "bytes") << "\n";
  out << "errors: " << text(s, "errors");
  if (Poco::JSON::Object::Ptr kinds = s->getObject("errors_by_kind")) {
    std::string list;
    for (const auto& name : kinds->getNames()) list += (list.empty() ? "" : ", ") + name + ": " + text(kinds, name.c_str());
    if (!list.empty()) out << " (" << list << ")";
  }
  out << "\n";
  out << "queued: " << text(s, "queued") << "\n";
  const double seconds = CrawlCounters::from_json(s).elapsed_ms / 1000.0;
  std::ostringstream sec;
  sec << std::fixed << std::setprecision(3) << seconds;
  out << "elapsed: " << sec.str() << " s\n";
}

// Polls the status until the crawl has ended; returns the last status (or
// the failing reply's exit code through *code).
Poco::JSON::Object::Ptr wait_for_end(const ApiClient& api, const WaitStyle& style, std::ostream& out,
                                     std::ostream& err, int* code) {
  ProgressLine line(out, style.terminal);
  for (;;) {
    ApiReply r = api.call("GET", "/api/crawl/status");
    if (!r.ok() || !r.json) {
      line.finish();
      *code = server_error("crawl status", r, err);
      return nullptr;
    }
    const CrawlCounters c = CrawlCounters::from_json(r.json);
    line.update(c);
    if (ended(c.state) || c.state == "idle") {
      line.finish();
      *code = kExitOk;
      return r.json;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(style.poll_ms));
  }
}

}  // namespace

int cmd_status(const ApiClient& api, std::ostream& out, std::ostream& err) {
  ApiReply r = api.call("GET", "/api/health");
  if (!r.json) return server_error("health", r, err);
  out << "status: " << text(r.json, "status") << " (" << api.base_url() << ")\n";
  if (Poco::JSON::Object::Ptr comps = r.json->getObject("components"))
    for (const auto& id : comps->getNames()) out << "component " << id << ": " << text(comps, id.c_str()) << "\n";
  return r.ok() ? kExitOk : kExitServerError;
}

int cmd_crawl_start(const ApiClient& api, const CrawlStartOptions& o, const WaitStyle& style, std::ostream& out,
                    std::ostream& err) {
  Poco::JSON::Object body;
  Poco::JSON::Array seeds;
  for (const auto& s : o.seeds) seeds.add(s);
  body.set("seeds", seeds);
  if (!o.scope.empty()) body.set("scope", o.scope);
  if (o.max_pages) body.set("max_pages", static_cast<Poco::UInt64>(o.max_pages));
  if (o.max_depth) body.set("max_depth", static_cast<Poco::UInt64>(o.max_depth));
  if (o.max_bytes) body.set("max_bytes", static_cast<Poco::UInt64>(o.max_bytes));
  if (o.max_seconds) body.set("max_seconds", static_cast<Poco::UInt64>(o.max_seconds));
  if (!o.robots.empty()) body.set("robots", o.robots == "on");
  std::ostringstream json;
  body.stringify(json);
  ApiReply r = api.call("POST", "/api/crawl/start", json.str());
  if (!r.ok() || !r.json) return server_error("crawl start", r, err);
  Poco::JSON::Object::Ptr session = r.json->getObject("session");
  out << "crawl started: session " << (text(session, "key").empty() ? "-" : text(session, "key")) << " (id "
      << text(session, "id") << ")\n"
      << std::flush;
  if (!o.wait) return kExitOk;
  int code = kExitOk;
  Poco::JSON::Object::Ptr last = wait_for_end(api, style, out, err, &code);
  if (!last) return code;
  print_crawl_status(last, out);
  return text(last, "state") == "finished" ? kExitOk : kExitServerError;
}

int cmd_crawl_status(const ApiClient& api, std::ostream& out, std::ostream& err) {
  ApiReply r = api.call("GET", "/api/crawl/status");
  if (!r.ok() || !r.json) return server_error("crawl status", r, err);
  print_crawl_status(r.json, out);
  return kExitOk;
}

int cmd_crawl_stop(const ApiClient& api, bool wait, const WaitStyle& style, std::ostream& out, std::ostream& err) {
  ApiReply r = api.call("POST", "/api/crawl/stop");
  if (!r.ok() || !r.json) return server_error("crawl stop", r, err);
  const std::string state = text(r.json, "state");
  out << (ended(state) || state == "idle" ? "no crawl running (state: " + state + ")" : "stop requested") << "\n"
      << std::flush;
  if (!wait) return kExitOk;
  int code = kExitOk;
  Poco::JSON::Object::Ptr last = wait_for_end(api, style, out, err, &code);
  if (!last) return code;
  print_crawl_status(last, out);
  return kExitOk;
}

int cmd_images(const ApiClient& api, const ImagesOptions& o, std::ostream& out, std::ostream& err) {
  Poco::URI uri("/api/images");
  uri.addQueryParameter("limit", std::to_string(o.limit));
  if (o.offset) uri.addQueryParameter("offset", std::to_string(o.offset));
  if (!o.format.empty()) uri.addQueryParameter("format", o.format);
  if (o.min_width) uri.addQueryParameter("min_width", std::to_string(o.min_width));
  if (o.session) uri.addQueryParameter("session", std::to_string(o.session));
  ApiReply r = api.call("GET", uri.getPathAndQuery());
  if (!r.ok() || !r.json) return server_error("images", r, err);
  Poco::JSON::Array::Ptr images = r.json->getArray("images");
  const size_t n = images ? images->size() : 0;
  for (size_t i = 0; i < n; ++i) {
    Poco::JSON::Object::Ptr img = images->getObject(static_cast<unsigned>(i));
    out << text(img, "id") << "\t" << text(img, "format") << "\t" << text(img, "width") << "x" << text(img, "height")
        << "\t" << text(img, "file_size") << "\t" << text(img, "url") << "\n";
  }
  out << n << " of " << text(r.json, "total") << " image(s)";
  if (o.offset) out << " from offset " << o.offset;
  out << "\n";
  return kExitOk;
}

}  // namespace kestrel::ctl
