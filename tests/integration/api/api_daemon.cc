#include "api_daemon.h"

#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>

#include <stdexcept>

#include "integration_helpers.h"
#include "kestrel/test/files.h"
#include "kestrel/test/paths.h"
#include "kestrel/test/ports.h"

namespace kestrel {
namespace test {

HttpReply http_call(uint16_t port, const std::string& method, const std::string& path, const std::string& body,
                    const std::string& token) {
  Poco::Net::HTTPClientSession session("127.0.0.1", port);
  session.setTimeout(Poco::Timespan(30, 0));
  Poco::Net::HTTPRequest request(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
  if (!token.empty()) request.set("Authorization", "Bearer " + token);
  if (!body.empty() || method == "POST") {
    request.setContentType("application/json");
    request.setContentLength64(static_cast<Poco::Int64>(body.size()));
  }
  session.sendRequest(request) << body;
  Poco::Net::HTTPResponse response;
  std::istream& in = session.receiveResponse(response);
  HttpReply r;
  Poco::StreamCopier::copyToString(in, r.body);
  r.status = static_cast<int>(response.getStatus());
  r.content_type = response.getContentType();
  try {
    Poco::JSON::Parser parser;
    Poco::Dynamic::Var v = parser.parse(r.body);
    if (v.type() == typeid(Poco::JSON::Object::Ptr)) r.json = v.extract<Poco::JSON::Object::Ptr>();
  } catch (const Poco::Exception&) {
    // not JSON: json stays null
  }
  return r;
}

ApiDaemon::ApiDaemon(const std::string& token) : dir_("api-daemon") {
  std::string missing;
  if (!kestrel_chain_built(&missing)) throw std::runtime_error("not built: " + missing);
  data_dir_ = dir_.make_dir("data");
  port_ = free_loopback_port();
  do admin_port_ = free_loopback_port();
  while (admin_port_ == port_);
  std::string yaml =
      "node:\n"
      "  name: api-node\n"
      "plugins:\n"
      "  paths: [\"" + plugin_dir() + "\"]\n"
      "api:\n"
      "  listen: \"127.0.0.1:" + std::to_string(port_) + "\"\n";
  if (!token.empty()) yaml += "  token: \"${env:KESTREL_TEST_API_TOKEN}\"\n";
  yaml += "admin:\n  listen: \"127.0.0.1:" + std::to_string(admin_port_) + "\"\n";
  if (!token.empty()) yaml += "  token: \"${env:KESTREL_TEST_API_TOKEN}\"\n";
  yaml +=
      "components:\n"
      "  catalog:\n"
      "    type: store-sqlite\n"
      "  images:\n"
      "    type: blob-local\n"
      "  crawler:\n"
      "    type: crawler-http\n"
      "    catalog: catalog\n"
      "    files: images\n"
      "    per_host_connections: 4\n";
  write_file(dir_.file("kestrel.yaml"), yaml);
  ChildProcess::Options options;
  options.env["KESTREL_TEST_API_TOKEN"] = token;  // also checks ${env:...} in api.token
  process_ = std::make_unique<ChildProcess>(
      kestreld_path(), std::vector<std::string>{"--config", dir_.file("kestrel.yaml"), "--data-dir", data_dir_},
      dir_.file("kestreld.out"), dir_.file("kestreld.err"), options);
  const bool up = poll_until(
      [&] {
        if (!process_->running()) return true;  // exited: no use waiting
        return http_call(port_, "GET", "/api/health").status == 200 &&
               http_call(admin_port_, "GET", "/api/status").status == 200;
      },
      std::chrono::seconds(60), std::chrono::milliseconds(50));
  if (!up || !process_->running())
    throw std::runtime_error("kestreld's App API did not come up on port " + std::to_string(port_) +
                             "; stderr:\n" + process_->stderr_text());
}

ApiDaemon::~ApiDaemon() = default;  // ChildProcess kills a process still running

HttpReply ApiDaemon::call(const std::string& method, const std::string& path, const std::string& body,
                          const std::string& token) const {
  return http_call(port_, method, path, body, token);
}

Poco::JSON::Object::Ptr ApiDaemon::wait_crawl_end() const {
  Poco::JSON::Object::Ptr last;
  const bool ended = poll_until(
      [&] {
        HttpReply r = call("GET", "/api/crawl/status");
        if (r.status != 200 || !r.json) return false;
        last = r.json;
        const std::string s = last->getValue<std::string>("state");
        return s != "running" && s != "stopping";
      },
      std::chrono::seconds(120), std::chrono::milliseconds(50));
  if (!ended) throw std::runtime_error("the crawl did not end within 120 s; stderr:\n" + stderr_text());
  return last;
}

int ApiDaemon::stop() {
  process_->terminate();
  return process_->wait_or_kill(std::chrono::seconds(60));
}

HttpReply try_http_call(uint16_t port, const std::string& method, const std::string& path, const std::string& body,
                        const std::string& token) {
  try {
    return http_call(port, method, path, body, token);
  } catch (const std::exception& e) {
    HttpReply r;
    r.body = e.what();
    return r;
  }
}

std::string json_text(const Poco::JSON::Object::Ptr& o, const std::string& key) {
  if (!o || !o->has(key) || o->isNull(key)) return "";
  return o->get(key).toString();
}

}  // namespace test
}  // namespace kestrel
