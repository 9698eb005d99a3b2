// NginxSite: a private nginx on loopback serving a folder, for one test.
#ifndef KESTREL_TEST_NGINX_SITE_H
#define KESTREL_TEST_NGINX_SITE_H

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include "kestrel/test/temp_dir.h"

namespace kestrel {
namespace test {

// Starts tests/fixtures/demo-site.sh on a free 127.0.0.1 port with its prefix
// (config, pid file, logs) in a TempDir of its own, serving `root`. The
// constructor returns once the site answers HTTP; the destructor stops nginx
// and removes the prefix. Owns the nginx processes. Not copyable.
// Throws std::runtime_error with the script's stderr when nginx cannot start.
class NginxSite {
 public:
  explicit NginxSite(const std::string& root);
  ~NginxSite();
  NginxSite(const NginxSite&) = delete;
  NginxSite& operator=(const NginxSite&) = delete;

  // Base URL with a trailing slash, e.g. "http://127.0.0.1:40085/".
  const std::string& url() const { return url_; }
  uint16_t port() const { return port_; }
  const std::string& root() const { return root_; }
  std::string access_log_path() const { return prefix_.file("logs/access.log"); }
  std::string error_log_path() const { return prefix_.file("logs/error.log"); }

  // What the access log says so far, without demo-site.sh's own readiness
  // probes (User-Agent kestrel-demo-site-probe).
  struct AccessStats {
    size_t requests = 0;                    // log lines
    size_t connections = 0;                 // distinct $connection serial numbers
    std::map<int, size_t> by_status;        // HTTP status -> requests
    std::map<std::string, size_t> by_path;  // request path (as sent) -> requests
  };
  AccessStats access_stats() const;

  // Stops nginx now (idempotent; the destructor calls it). Never throws.
  void stop() noexcept;

 private:
  TempDir prefix_;
  std::string root_;
  std::string url_;
  uint16_t port_ = 0;
  bool running_ = false;
};

}  // namespace test
}  // namespace kestrel

#endif  // KESTREL_TEST_NGINX_SITE_H
