// Live counters and the report of the current (or last) crawl.
//
// Thread-safety: every method may be called from any thread (one mutex). The
// crawl thread writes; crawl_progress()/crawl_report() callers read.
#ifndef KESTREL_CRAWLER_HTTP_CRAWL_STATS_H_
#define KESTREL_CRAWLER_HTTP_CRAWL_STATS_H_

#include "frontier.h"

#include <kestrel/plugin.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace kestrel::crawler {

class CrawlStats {
 public:
  // At most this many failed URLs are listed in the report; the rest are counted.
  static constexpr size_t kMaxFailedListed = 10000;

  // Starts a new crawl attempt: state RUNNING, clock at zero, counters from
  // `resumed` (zero for a new run), failure and skip counts and the failed
  // list as recorded in the frontier so far.
  void begin(const std::string& session_key, const std::vector<std::string>& seeds, const RunCounters& resumed,
             const std::map<std::string, std::map<std::string, uint64_t>>& reasons,
             const std::vector<FailedRow>& failed, bool resumed_run);

  void set_state(kestrel_crawl_state state);  // FINISHED/STOPPED/FAILED freeze the clock
  // Sets `next` only if the state is `expected` (so a late stop request cannot
  // overwrite a crawl's final state). Returns whether it did.
  bool set_state_if(kestrel_crawl_state expected, kestrel_crawl_state next);
  kestrel_crawl_state state() const;
  void set_session_id(int64_t id);  // crawl_sessions.id
  void set_queued(uint64_t n);      // frontier entries still queued
  void set_failure_message(const std::string& message);  // why the crawl FAILED

  void add_bytes(uint64_t n);   // body bytes received (decoded), any response
  void add_page();              // one HTML page fetched and parsed
  void add_image();             // one image stored (new or changed)
  void add_image_unchanged();   // one image found unchanged in the catalog
  // One failed URL: counted under `kind` (e.g. "http_404") and listed.
  void add_failure(const std::string& url, const std::string& source, const std::string& kind,
                   const std::string& detail);
  // One URL deliberately not fetched or not used (e.g. "robots_denied").
  void add_skip(const std::string& kind);

  RunCounters counters() const;  // pages, images, images_unchanged, bytes
  uint64_t errors() const;       // failures of all kinds
  // {"http_404": 3, ...}: for crawl_sessions.errors_json.
  std::string errors_json() const;
  kestrel_crawl_progress progress() const;
  // The JSON object of crawl_report() (see kestrel_crawler_v1.crawl_report);
  // {"state":"idle"} before any crawl.
  std::string report_json() const;

 private:
  uint64_t elapsed_ms_locked() const;

  mutable std::mutex mu_;
  kestrel_crawl_state state_ = KESTREL_CRAWL_IDLE;
  std::string session_key_;
  std::vector<std::string> seeds_;
  bool resumed_ = false;
  int64_t session_id_ = 0;
  RunCounters c_;
  uint64_t queued_ = 0;
  uint64_t errors_ = 0;
  std::map<std::string, uint64_t> errors_by_kind_;
  std::map<std::string, uint64_t> skipped_;
  std::vector<FailedRow> failed_;
  uint64_t failed_not_listed_ = 0;
  std::string failure_message_;
  std::chrono::steady_clock::time_point started_{};
  std::chrono::steady_clock::time_point ended_{};
  bool ended_set_ = false;
};

}  // namespace kestrel::crawler

#endif  // KESTREL_CRAWLER_HTTP_CRAWL_STATS_H_
