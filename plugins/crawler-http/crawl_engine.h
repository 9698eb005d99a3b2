// The crawl loop: one thread driving a libcurl multi handle, fed by the
// Scheduler from the persistent Frontier, sending pages to the HTML
// extractor and images through the ImagePipeline into the catalog in batches.
//
// Threads: run() is the crawl thread (everything but request_stop runs there).
// request_stop() may be called from any thread. The engine must outlive the
// thread that runs it.
#ifndef KESTREL_CRAWLER_HTTP_CRAWL_ENGINE_H_
#define KESTREL_CRAWLER_HTTP_CRAWL_ENGINE_H_

#include "catalog_batch.h"
#include "catalog_committer.h"
#include "crawl_metrics.h"
#include "crawl_stats.h"
#include "crawler_config.h"
#include "frontier.h"
#include "image_pipeline.h"
#include "content_workers.h"
#include "parse/robots.h"
#include "scheduler.h"
#include "transfer.h"

#include <kestrel/plugin.hpp>

#include <curl/curl.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <unordered_set>
#include <string>
#include <vector>

namespace kestrel::crawler {

// Per-crawl scope and limits (kestrel_crawl_request, ABI 1.1), already
// merged with the configured values.
struct RunLimits {
  enum class Scope { Site, Host, Domain };
  Scope scope = Scope::Site;  // site: the seeds' origins; host: their hosts, any scheme/port;
                              // domain: their hosts and subdomains
  uint32_t max_depth = 32;
  uint64_t max_pages = 100000;
  uint64_t max_bytes = 0;     // body bytes received; 0: no cap
  uint32_t max_seconds = 0;   // wall-clock seconds of this attempt; 0: no cap
  bool robots = true;
};

// The configured limits, overridden by the non-zero fields of `request`.
// Throws kestrel::Error(KESTREL_ERR_INVALID) for an unknown scope. Any thread.
RunLimits limits_for(const CrawlerConfig& config, const CrawlRequest& request);

// Whether `origin` ("scheme://host[:port]") is inside `scope` around the seeds'
// origins: Site: one of them; Host: the same host, any scheme or port; Domain:
// the same host or a subdomain of one ("a.example.org" for "example.org").
// Pure; any thread.
bool scope_allows(RunLimits::Scope scope, const std::set<std::string>& seed_origins, const std::string& origin);

class CrawlEngine {
 public:
  // Everything is borrowed and must outlive the engine. Creates the multi
  // handle (no network yet). Throws kestrel::Error(KESTREL_ERR_INTERNAL) if
  // libcurl cannot. libcurl must be globally initialized.
  CrawlEngine(const CrawlerConfig& config, Frontier& frontier, CatalogClient catalog, BlobStoreClient files,
              Host host, CrawlStats& stats, const CrawlMetrics& metrics, RunLimits limits);
  CrawlEngine(const CrawlEngine&) = delete;
  CrawlEngine& operator=(const CrawlEngine&) = delete;
  ~CrawlEngine();

  // Crawls `seeds` (normalized, sorted: see normalize_seeds) until the
  // frontier is empty (FINISHED), request_stop() (STOPPED), or the catalog,
  // blob store or frontier fails (FAILED). Resumes the latest unfinished run
  // with the same seeds, else starts a new session. Never throws: the outcome
  // is in `stats`. Crawl thread.
  void run(const std::vector<std::string>& seeds);

  // Asks run() to stop soon: in-flight transfers are abandoned (their URLs
  // stay queued in the frontier for a resume), the pending catalog batch is
  // flushed. Returns at once. Any thread.
  void request_stop();

 private:
  struct MultiCloser {
    void operator()(CURLM* m) const { curl_multi_cleanup(m); }
  };

  void open_session(const std::vector<std::string>& seeds);
  void loop();
  // curl_multi_perform, each finished transfer handled (on_done) and its slot refilled (feed); again while
  // that started transfers (at most kMaxPerformPasses), so their requests go out before the caller's
  // bookkeeping. Throws Error on a curl multi failure.
  void perform();
  // Moves queued frontier entries into the scheduler (bounded window).
  void refill();
  // Starts every transfer the scheduler, the limits and the image backlog allow.
  void dispatch();
  // refill() then dispatch(): called wherever new work or a free slot may have appeared.
  void feed();
  // Most bodies waiting for (or in) a worker before dispatch() holds new
  // transfers back: max(concurrency, 5 x worker threads).
  size_t max_backlog() const;
  void start_transfer(WorkItem item);
  // Hands a fetched page or image body to the workers (with the image's
  // catalog row read before the request, if it was).
  void submit_content(const WorkItem& item, const TransferResult& res, Body body, std::optional<CatalogedImage> known);
  void on_done(CURL* easy, CURLcode code);
  void on_robots(const WorkItem& item, const TransferResult& res, const Body& body);
  void on_sitemap(const WorkItem& item, const TransferResult& res, const std::string& body);
  void on_stylesheet(const WorkItem& item, const TransferResult& res, const std::string& body);
  bool maybe_retry(WorkItem item, const TransferResult& res);
  // Queues `url` in the frontier unless known; a URL over max_url_length is
  // recorded as skipped instead. Inside the caller's transaction. True when queued.
  bool enqueue(const std::string& url, UrlKind kind, uint32_t depth, const std::string& source);
  bool limits_reached();
  // Nothing in flight, nothing queued in the scheduler, no body with a worker.
  bool idle() const { return active_.empty() && scheduler_.queued() == 0 && workers_->pending() == 0; }
  int64_t now_ms() const;
  void on_content_done(ContentDone& done);
  void on_page_done(const ContentDone& done);
  void on_image_done(const WorkItem& item, ImageOutcome& out);
  void drain_workers();
  void fail(const WorkItem& item, const std::string& kind, const std::string& detail);
  void skip(const WorkItem& item, const std::string& kind, const std::string& detail);
  // Hands the pending image rows (and the session row when with_session) to the committer.
  void flush(bool with_session, kestrel_session_state state);
  // Marks done in the frontier the entries whose rows the committer wrote.
  void collect_written();
  void checkpoint(bool force);
  void abandon_in_flight();
  SessionRow session_row(kestrel_session_state state) const;
  // `n` new frontier entries were queued (the frontier has work again).
  void queued_more(size_t n) {
    queued_ += n;
    if (n > 0) frontier_exhausted_ = false;
  }
  // `n` frontier entries left the queued state.
  void settled(uint64_t n) { queued_ = n > queued_ ? 0 : queued_ - n; }
  bool in_scope(const std::string& origin) const;

  const CrawlerConfig& config_;
  Frontier& frontier_;
  CatalogClient catalog_;
  BlobStoreClient files_;
  Host host_;
  CrawlStats& stats_;
  const CrawlMetrics& metrics_;
  RunLimits limits_;
  TransferSettings settings_;
  ImagePipeline images_;
  CatalogBatch batch_;
  std::unique_ptr<CURLM, MultiCloser> multi_;
  std::atomic<bool> stop_{false};
  std::unique_ptr<ContentWorkers> workers_;  // after multi_: joined before the multi handle goes
  std::unique_ptr<CatalogCommitter> committer_;

  // Crawl-thread state of the current run.
  Scheduler scheduler_;
  std::string session_key_;
  std::string seeds_json_;
  int64_t started_at_us_ = 0;
  int64_t session_id_ = 0;
  std::set<std::string> seed_origins_;
  std::map<std::string, uint64_t> pages_per_origin_;  // pages started this attempt
  std::chrono::steady_clock::time_point run_started_;
  std::map<std::string, RobotsRules> robots_;  // by origin
  std::unordered_set<std::string> known_urls_;  // URLs of this run known to be in the frontier (bounded)
  int64_t cursor_ = 0;                          // highest frontier id loaded into the scheduler
  bool frontier_exhausted_ = false;             // no queued id > cursor_ at the last look
  uint64_t pages_started_ = 0;
  uint64_t transfers_started_ = 0;  // curl handles added, for loop(): did a perform pass start any?
  uint64_t queued_ = 0;                         // frontier entries still queued
  std::vector<std::unique_ptr<Transfer>> idle_;  // handle pool
  struct InFlight {
    std::unique_ptr<Transfer> transfer;
    std::optional<CatalogedImage> known;  // images: the catalog row read before the request
  };
  std::map<CURL*, InFlight> active_;
  std::chrono::steady_clock::time_point last_checkpoint_;
};

// Now as UTC microseconds since the Unix epoch.
int64_t now_utc_us();

}  // namespace kestrel::crawler

#endif  // KESTREL_CRAWLER_HTTP_CRAWL_ENGINE_H_
