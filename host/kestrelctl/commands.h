// kestrelctl's commands over the App API. Each prints to `out` (results) and
// `err` (errors) and returns an exit code (see kExit*).
#ifndef KESTREL_HOST_KESTRELCTL_COMMANDS_H_
#define KESTREL_HOST_KESTRELCTL_COMMANDS_H_

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "kestrelctl/api_client.h"

namespace kestrel::ctl {

// Exit codes (also in --help and the README).
enum ExitCode : int {
  kExitOk = 0,           // success (crawl start --wait: the crawl finished)
  kExitServerError = 1,  // the server answered with an error, or the waited-for crawl failed or was stopped
  kExitUsage = 2,        // bad command line
  kExitConnect = 3       // the API could not be reached
};

// Options of `crawl start` (0 / empty: the crawler's configured value).
struct CrawlStartOptions {
  std::vector<std::string> seeds;  // absolute http(s) URLs
  std::string scope;               // site | host | domain
  uint64_t max_pages = 0;
  uint64_t max_depth = 0;
  uint64_t max_bytes = 0;          // bytes
  uint64_t max_seconds = 0;        // seconds
  std::string robots;              // "", "on" or "off"
  bool wait = false;               // follow the crawl until it ends
};

// Options of `images`.
struct ImagesOptions {
  uint64_t limit = 50;
  uint64_t offset = 0;
  std::string format;   // png | jpeg | gif | webp
  uint64_t min_width = 0;
  uint64_t session = 0;  // crawl session id
};

// How progress is shown while waiting.
struct WaitStyle {
  bool terminal = false;         // a redrawn bar (isatty) instead of plain lines
  unsigned poll_ms = 500;        // milliseconds between status requests
};

// `health`: GET /api/health: "status: ok" and one "component ID: state" line each.
int cmd_status(const ApiClient& api, std::ostream& out, std::ostream& err);
// POST /api/crawl/start; with wait, follows GET /api/crawl/status to the end.
int cmd_crawl_start(const ApiClient& api, const CrawlStartOptions& o, const WaitStyle& style, std::ostream& out,
                    std::ostream& err);
// GET /api/crawl/status as "key: value" lines.
int cmd_crawl_status(const ApiClient& api, std::ostream& out, std::ostream& err);
// POST /api/crawl/stop; with wait, until the crawl has ended.
int cmd_crawl_stop(const ApiClient& api, bool wait, const WaitStyle& style, std::ostream& out, std::ostream& err);
// GET /api/images: one line per image (id, format, WxH, bytes, url) and a total.
int cmd_images(const ApiClient& api, const ImagesOptions& o, std::ostream& out, std::ostream& err);

}  // namespace kestrel::ctl

#endif  // KESTREL_HOST_KESTRELCTL_COMMANDS_H_
