// ApiDaemon: kestreld in service mode with its App API on a free loopback
// port, and a small HTTP client to call it.
#ifndef KESTREL_INTEGRATION_API_API_DAEMON_H
#define KESTREL_INTEGRATION_API_API_DAEMON_H

#include <Poco/JSON/Object.h>

#include <cstdint>
#include <memory>
#include <string>

#include "kestrel/test/child_process.h"
#include "kestrel/test/temp_dir.h"

namespace kestrel {
namespace test {

// One HTTP answer.
struct HttpReply {
  int status = 0;                // HTTP status
  std::string content_type;      // Content-Type header
  std::string body;              // bytes
  Poco::JSON::Object::Ptr json;  // body as a JSON object, null if it is not one
};

// Sends one request to 127.0.0.1:port (30 s timeout). `token` empty: no
// Authorization header. Throws Poco::Exception when nothing answers.
HttpReply http_call(uint16_t port, const std::string& method, const std::string& path, const std::string& body = "",
                    const std::string& token = "");
// http_call, with status 0 (the error in body) while nothing listens yet.
HttpReply try_http_call(uint16_t port, const std::string& method, const std::string& path,
                        const std::string& body = "", const std::string& token = "");
// A JSON field as text ("" when absent or null).
std::string json_text(const Poco::JSON::Object::Ptr& o, const std::string& key);

// A single-node kestreld (store-sqlite, blob-local, crawler-http with no
// configured seeds) in its own TempDir, started in service mode by the
// constructor, which returns once GET /api/health answers 200 (or throws
// std::runtime_error with kestreld's stderr after 60 s or if it exits).
//   <tmp>/kestrel.yaml, <tmp>/data/ (catalog.db, images/, node.db), <tmp>/kestreld.out|err
// The destructor kills it if still running. One thread at a time.
class ApiDaemon {
 public:
  // `token`: api.token ("" for none).
  explicit ApiDaemon(const std::string& token = "");
  ~ApiDaemon();
  ApiDaemon(const ApiDaemon&) = delete;
  ApiDaemon& operator=(const ApiDaemon&) = delete;

  uint16_t port() const { return port_; }
  // The HA API's port (admin.listen; admin.token = the api token).
  uint16_t admin_port() const { return admin_port_; }
  std::string admin_url() const { return "http://127.0.0.1:" + std::to_string(admin_port_); }
  std::string api_url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string catalog_db() const { return data_dir_ + "/catalog.db"; }
  std::string images_dir() const { return data_dir_ + "/images"; }
  std::string scratch() const { return dir_.path(); }
  std::string stderr_text() const { return process_->stderr_text(); }

  // http_call on this daemon's port.
  HttpReply call(const std::string& method, const std::string& path, const std::string& body = "",
                 const std::string& token = "") const;

  // Polls GET /api/crawl/status until its state is not running/stopping
  // (deadline 120 s, a guard against hangs); returns the last status.
  Poco::JSON::Object::Ptr wait_crawl_end() const;

  // SIGTERM, then waits up to 60 s; returns the exit code.
  int stop();

 private:
  TempDir dir_;
  std::string data_dir_;
  uint16_t port_ = 0;
  uint16_t admin_port_ = 0;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace test
}  // namespace kestrel

#endif  // KESTREL_INTEGRATION_API_API_DAEMON_H
