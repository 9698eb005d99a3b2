// kestrel-crawler-http.so: component type `crawler-http` providing
// kestrel.crawler.v1 (DESIGN §7). The component owns the configuration, the
// frontier database and the crawl thread; CrawlEngine does the crawling.
#include "crawl_engine.h"
#include "crawl_stats.h"
#include "crawler_config.h"
#include "frontier.h"

#include <kestrel/plugin.hpp>

#include <Poco/Crypto/Crypto.h>
#include <curl/curl.h>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

namespace kestrel::crawler {
namespace {

// One configured crawler. Lifecycle calls (constructor, start, stop,
// destructor) come from the host's control thread; the kestrel.crawler.v1
// calls from any thread, serialized by mu_. At most one crawl runs at a time,
// on its own thread, started by crawl_start and joined by the next
// crawl_start (once ended), stop() or the destructor.
class CrawlerHttp : public Provides<CrawlerProvider> {
 public:
  // Parses and checks the options only (no threads, files or network).
  // Logs once what parsing chose on the operator's behalf (config_.note).
  explicit CrawlerHttp(const CreateArgs& args) : config_(parse_crawler_config(args)), host_(args) {
    if (!config_.note.empty()) host_.log(KESTREL_LOG_INFO, config_.note);
  }

  ~CrawlerHttp() override {
    shutdown_crawl();
    if (curl_ready_) curl_global_cleanup();
  }

  // Resolves `catalog` and `files`, opens the frontier. Control thread.
  void start() override {
    // One process-wide reference on Poco::Crypto's OpenSSL set-up, so the
    // image workers' DigestEngines never tear it down under each other
    // (see plugins/blob-local/local_blob_store.cc).
    static const bool openssl_ready = (Poco::Crypto::initializeCrypto(), true);
    (void)openssl_ready;
    if (!curl_ready_) {
      const CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
      if (rc != CURLE_OK) throw Error(KESTREL_ERR_INTERNAL, std::string("curl_global_init: ") + curl_easy_strerror(rc));
      curl_ready_ = true;
    }
    if (!metrics_registered_) {  // the host keeps series for the process; register once
      metrics_ = CrawlMetrics::register_with(host_);
      metrics_registered_ = true;
    }
    catalog_ = CatalogClient(host_.lookup("catalog", KESTREL_IFACE_CATALOG_V1));
    files_ = BlobStoreClient(host_.lookup("files", KESTREL_IFACE_BLOBSTORE_V1));
    std::lock_guard<std::mutex> lock(mu_);
    frontier_ = std::make_unique<Frontier>(config_.state_path);
  }

  // Stops the crawl (abandoning in-flight transfers, flushing the pending
  // catalog batch) and joins its thread. Control thread.
  void stop(uint32_t deadline_ms) override {
    (void)deadline_ms;  // the crawl thread wakes within one poll; catalog retries are bounded (~3 s)
    shutdown_crawl();
    std::lock_guard<std::mutex> lock(mu_);
    frontier_.reset();
    catalog_ = CatalogClient();
    files_ = BlobStoreClient();
  }

  std::string status_json() override { return stats_.report_json(); }

  // Starts a crawl of `request.seeds` (empty: the configured seeds) on the
  // crawl thread, with the request's scope and limits (zero: configured).
  // Throws Error(INVALID) for a bad seed, no seeds, an unknown scope or robots
  // value; Error(BUSY) for a crawl already running; Error(UNAVAILABLE) before
  // start().
  void crawl_start(const CrawlRequest& request) override {
    std::vector<std::string> seeds = normalize_seeds(request.seeds, "crawl_start");
    if (seeds.empty()) seeds = config_.seeds;
    if (seeds.empty()) throw Error(KESTREL_ERR_INVALID, "crawl_start: no seeds given and option seeds is empty");
    const RunLimits limits = limits_for(config_, request);
    std::unique_lock<std::mutex> lock(mu_);
    if (running_) throw Error(KESTREL_ERR_BUSY, "crawl_start: a crawl is already running", true);
    if (!frontier_) throw Error(KESTREL_ERR_UNAVAILABLE, "crawl_start: component is not started", true);
    if (thread_.joinable()) thread_.join();  // the last crawl has ended; reap it
    engine_.reset();
    engine_ = std::make_unique<CrawlEngine>(config_, *frontier_, catalog_, files_, host_, stats_, metrics_, limits);
    // Progress reads "running" from here on, not the previous crawl's end state;
    // the crawl thread fills in the session once it is open.
    stats_.begin("", seeds, RunCounters{}, {}, {}, false);
    running_ = true;
    thread_ = std::thread([this, seeds] {
      engine_->run(seeds);
      std::lock_guard<std::mutex> l(mu_);
      running_ = false;
      done_.notify_all();
    });
  }

  // Asks the running crawl (if any) to stop; returns at once.
  void crawl_stop() override {
    std::lock_guard<std::mutex> lock(mu_);
    if (running_ && engine_) engine_->request_stop();
  }

  // True when no crawl runs (or it ended) within timeout_ms milliseconds.
  bool crawl_wait(uint32_t timeout_ms) override {
    std::unique_lock<std::mutex> lock(mu_);
    return done_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [this] { return !running_; });
  }

  kestrel_crawl_progress crawl_progress() override { return stats_.progress(); }

  std::string crawl_report() override { return stats_.report_json(); }

 private:
  // Stops and joins the crawl thread, if any. Not under mu_ while joining.
  void shutdown_crawl() {
    std::thread t;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (running_ && engine_) engine_->request_stop();
      t = std::move(thread_);
    }
    if (t.joinable()) t.join();
    std::lock_guard<std::mutex> lock(mu_);
    engine_.reset();
  }

  const CrawlerConfig config_;
  Host host_;
  bool curl_ready_ = false;
  CrawlStats stats_;
  CrawlMetrics metrics_;  // written in start() before any crawl thread exists
  bool metrics_registered_ = false;

  std::mutex mu_;  // guards everything below
  std::condition_variable done_;
  CatalogClient catalog_;
  BlobStoreClient files_;
  std::unique_ptr<Frontier> frontier_;
  std::unique_ptr<CrawlEngine> engine_;
  std::thread thread_;
  bool running_ = false;
};

}  // namespace
}  // namespace kestrel::crawler

KESTREL_PLUGIN("crawler-http", "0.1.0", "Crawls websites for images (libcurl multi, libxml2, libpng, libjpeg, giflib, libwebp)",
               kestrel::describe<kestrel::crawler::CrawlerHttp>("crawler-http",
                                                                 "image crawler over HTTP(S) with a persistent frontier",
                                                                 kestrel::crawler::kCrawlerOptions))
