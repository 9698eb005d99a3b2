#include "kestreld/crawl_once.h"

#include <kestrel/plugin.hpp>

#include <Poco/JSON/Parser.h>
#include <Poco/Logger.h>

#include <chrono>
#include <fstream>
#include <iomanip>
#include <sstream>

#include "kestreld/exit_codes.h"

namespace kestrel::host {
namespace {

// Prints the crawl summary: one "key: value" line each, then one line per failed URL.
void print_summary(const std::string& id, const kestrel_crawl_progress& p, const std::string& report_json,
                   std::ostream& out) {
  std::string errors_by_kind, session_key;
  std::vector<std::string> failed_lines;
  size_t failed_more = 0;
  double seconds = static_cast<double>(p.elapsed_ms) / 1000.0;
  try {
    Poco::JSON::Parser parser;
    auto obj = parser.parse(report_json).extract<Poco::JSON::Object::Ptr>();
    if (obj->has("session_key")) session_key = obj->getValue<std::string>("session_key");
    if (obj->has("seconds")) seconds = obj->getValue<double>("seconds");
    if (auto kinds = obj->getObject("errors_by_kind")) {
      for (const auto& name : kinds->getNames())
        errors_by_kind += (errors_by_kind.empty() ? "" : ", ") + name + ": " + kinds->get(name).toString();
    }
    if (auto failed = obj->getArray("failed")) {
      for (size_t i = 0; i < failed->size(); ++i) {
        auto f = failed->getObject(static_cast<unsigned>(i));
        if (!f) continue;
        std::string line = f->optValue<std::string>("url", "?");
        std::string source = f->optValue<std::string>("source", "");
        if (!source.empty()) line += " (from " + source + ")";
        line += ": " + f->optValue<std::string>("reason", "?");
        failed_lines.push_back(line);
      }
    }
    failed_more = obj->optValue<size_t>("failed_not_listed", 0);
  } catch (const std::exception& e) {
    Poco::Logger::get("kestreld").warning("crawl report of '" + id + "' is not valid JSON: " + e.what());
  }
  out << "crawl " << crawl_state_name(p.state) << " (component " << id << ")\n";
  if (!session_key.empty()) out << "  session: " << session_key << " (id " << p.crawl_session_id << ")\n";
  out << "  pages: " << p.pages << "\n";
  out << "  images: " << p.images << " stored, " << p.images_unchanged << " unchanged\n";
  out << "  bytes: " << p.bytes << "\n";
  out << "  errors: " << p.errors;
  if (!errors_by_kind.empty()) out << " (" << errors_by_kind << ")";
  out << "\n";
  out << "  seconds: " << std::fixed << std::setprecision(3) << seconds << "\n";
  for (const auto& line : failed_lines) out << "  failed: " << line << "\n";
  if (failed_more) out << "  failed: ... and " << failed_more << " more (see the report)\n";
  out.flush();
}

}  // namespace

int run_crawl_once(const ComponentRuntime& runtime, const CrawlOnceOptions& options, std::ostream& out,
                   std::ostream& err) {
  std::vector<std::string> ids = runtime.providers_of(KESTREL_IFACE_CRAWLER_V1);
  if (ids.empty()) {
    err << "kestreld: --once needs a component that provides " << KESTREL_IFACE_CRAWLER_V1
        << " (e.g. type crawler-http); the configuration has none\n";
    return kExitConfig;
  }
  std::vector<std::pair<std::string, CrawlerClient>> crawlers;
  for (const auto& id : ids) {
    CrawlerClient c(runtime.interface_of(id, KESTREL_IFACE_CRAWLER_V1));
    try {
      c.start(options.seeds);
    } catch (const Error& e) {
      err << "kestreld: crawler '" << id << "' could not start: " << e.what() << "\n";
      for (auto& started : crawlers) started.second.stop();
      for (auto& started : crawlers) started.second.wait(60000);
      return e.code() == KESTREL_ERR_INVALID ? kExitUsage : kExitFailure;
    }
    crawlers.emplace_back(id, c);
  }

  bool interrupted = false;
  for (;;) {
    bool all_done = true;
    for (auto& c : crawlers) all_done = c.second.wait(200) && all_done;
    if (all_done) break;
    if (!interrupted && options.stop_requested && options.stop_requested()) {
      interrupted = true;
      Poco::Logger::get("kestreld").notice("stop requested: stopping the crawl (it resumes on the next run)");
      for (auto& c : crawlers) c.second.stop();
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
      for (auto& c : crawlers) {
        while (!c.second.wait(500) && std::chrono::steady_clock::now() < deadline) {
        }
      }
      break;
    }
  }

  int code = kExitOk;
  std::string all_reports = "{";
  for (size_t i = 0; i < crawlers.size(); ++i) {
    const auto& [id, client] = crawlers[i];
    kestrel_crawl_progress p = client.progress();
    std::string report = client.report();
    print_summary(id, p, report, out);
    all_reports += (i ? "," : "") + std::string("\"") + id + "\":" + (report.empty() ? "null" : report);
    if (p.state == KESTREL_CRAWL_FAILED) code = kExitFailure;
    else if (p.state != KESTREL_CRAWL_FINISHED && code == kExitOk) code = kExitInterrupted;
  }
  all_reports += "}";
  if (!options.report_file.empty()) {
    std::ofstream f(options.report_file, std::ios::trunc);
    f << all_reports << "\n";
    if (!f) err << "kestreld: cannot write the report to " << options.report_file << "\n";
  }
  return code;
}

}  // namespace kestrel::host
