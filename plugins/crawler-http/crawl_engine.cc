#include "crawl_engine.h"

#include "page_reader.h"

#include "parse/charset.h"
#include "parse/css_urls.h"
#include "parse/html_extract.h"
#include "parse/sitemap.h"
#include "parse/image_info.h"
#include "parse/url.h"

#include <Poco/JSON/Array.h>
#include <Poco/UUIDGenerator.h>

#include <algorithm>
#include <cctype>
#include <random>
#include <sstream>

namespace kestrel::crawler {
namespace {

constexpr uint64_t kRobotsMaxBytes = 512 * 1024;   // RFC 9309 §2.5: parse at least 500 KiB
constexpr auto kCheckpointEvery = std::chrono::seconds(5);
constexpr int kPollMs = 1000;
constexpr size_t kMaxWorkers = 4;  // threads parsing pages, hashing and storing images
constexpr size_t kBacklogPerWorker = 4;  // fetched bodies waiting per worker thread, beyond those being worked on
constexpr uint64_t kSpillAt = 1 << 20;  // body bytes kept in memory; the rest of a larger body goes to a file
constexpr size_t kKnownUrlCache = 50000;  // URLs remembered as in the frontier (~100 bytes each); the rest asks SQLite
// curl_multi_perform passes per round: a pass that started transfers runs another at once, so their
// requests leave before the round's bookkeeping (worker results, frontier commit). Bounded, so a
// stream of instant completions cannot starve that bookkeeping.
constexpr int kMaxPerformPasses = 4;
constexpr uint32_t kRobotsMaxRedirects = 5;  // RFC 9309 §2.3.1.2: follow at least five

// The host of an origin "scheme://host[:port]" (IPv6 keeps its brackets).
std::string host_of_origin(const std::string& origin) {
  const auto b = origin.find("://");
  std::string rest = b == std::string::npos ? origin : origin.substr(b + 3);
  const auto close = rest.rfind(']');
  const auto colon = rest.rfind(':');
  if (colon != std::string::npos && (close == std::string::npos || colon > close)) rest.resize(colon);
  return rest;
}

std::string seeds_json_of(const std::vector<std::string>& seeds) {
  Poco::JSON::Array a;
  for (const auto& s : seeds) a.add(s);
  std::ostringstream out;
  a.stringify(out);
  return out.str();
}

}  // namespace

RunLimits limits_for(const CrawlerConfig& config, const CrawlRequest& request) {
  RunLimits l;
  if (request.scope.empty() || request.scope == "site") {
    l.scope = RunLimits::Scope::Site;
  } else if (request.scope == "host") {
    l.scope = RunLimits::Scope::Host;
  } else if (request.scope == "domain") {
    l.scope = RunLimits::Scope::Domain;
  } else {
    throw Error(KESTREL_ERR_INVALID, "crawl_start: scope '" + request.scope + "' is not site, host or domain");
  }
  l.max_depth = request.max_depth != 0 ? request.max_depth : config.max_depth;
  l.max_pages = request.max_pages != 0 ? request.max_pages : config.max_pages;
  l.max_bytes = request.max_bytes;
  l.max_seconds = request.max_seconds;
  if (request.robots != 0 && request.robots != 1 && request.robots != 2)
    throw Error(KESTREL_ERR_INVALID, "crawl_start: robots " + std::to_string(request.robots) + " is not 0, 1 or 2");
  l.robots = request.robots == 0 ? config.robots : request.robots == 1;
  return l;
}

bool scope_allows(RunLimits::Scope scope, const std::set<std::string>& seed_origins, const std::string& origin) {
  if (scope == RunLimits::Scope::Site) return seed_origins.count(origin) != 0;
  const std::string host = host_of_origin(origin);
  for (const auto& seed_origin : seed_origins) {
    const std::string seed = host_of_origin(seed_origin);
    if (host == seed) return true;
    if (scope == RunLimits::Scope::Domain && host.size() > seed.size() &&
        host.compare(host.size() - seed.size(), seed.size(), seed) == 0 && host[host.size() - seed.size() - 1] == '.')
      return true;
  }
  return false;
}

int64_t now_utc_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

CrawlEngine::CrawlEngine(const CrawlerConfig& config, Frontier& frontier, CatalogClient catalog,
                         BlobStoreClient files, Host host, CrawlStats& stats, const CrawlMetrics& metrics,
                         RunLimits limits)
    : config_(config),
      frontier_(frontier),
      catalog_(catalog),
      files_(files),
      host_(host),
      stats_(stats),
      metrics_(metrics),
      limits_(limits),
      images_(catalog, files, config.max_pixels),
      batch_(catalog, config.batch_size),
      multi_(curl_multi_init()),
      scheduler_(config.concurrency, config.per_host_connections, limits.robots, config.per_host_delay_ms) {
  if (!multi_) throw Error(KESTREL_ERR_INTERNAL, "curl_multi_init failed");
  settings_.user_agent = config.user_agent;
  settings_.connect_timeout_ms = config.connect_timeout_ms;
  settings_.timeout_ms = config.timeout_ms;
  settings_.low_speed_limit = config.low_speed_limit;
  settings_.low_speed_time_ms = config.low_speed_time_ms;
  settings_.max_redirects = config.max_redirects;
  settings_.spill_dir = config.state_path.substr(0, config.state_path.rfind('/'));
  if (settings_.spill_dir.empty()) settings_.spill_dir = "/";
  settings_.spill_at = kSpillAt;
  // libcurl's own caps back up the scheduler's (which counts transfers, not sockets).
  curl_multi_setopt(multi_.get(), CURLMOPT_MAX_HOST_CONNECTIONS, static_cast<long>(config.per_host_connections));
  curl_multi_setopt(multi_.get(), CURLMOPT_MAX_TOTAL_CONNECTIONS, static_cast<long>(config.concurrency));
}

CrawlEngine::~CrawlEngine() {
  if (workers_) workers_->shutdown();
  // Handles must leave the multi handle before either is cleaned up.
  for (auto& [easy, flight] : active_) curl_multi_remove_handle(multi_.get(), easy);
}

void CrawlEngine::request_stop() {
  stop_.store(true);
  stats_.set_state_if(KESTREL_CRAWL_RUNNING, KESTREL_CRAWL_STOPPING);
  curl_multi_wakeup(multi_.get());
}

SessionRow CrawlEngine::session_row(kestrel_session_state state) const {
  const RunCounters c = stats_.counters();
  SessionRow s;
  s.session_key = session_key_;
  s.node_name = config_.node_name;
  s.seeds_json = seeds_json_;
  s.state = state;
  s.started_at_us = started_at_us_;
  s.finished_at_us = state == KESTREL_SESSION_RUNNING ? 0 : now_utc_us();
  s.pages = c.pages;
  s.images = c.images;
  s.bytes = c.bytes;
  s.errors = stats_.errors();
  s.errors_json = stats_.errors_json();
  return s;
}

void CrawlEngine::open_session(const std::vector<std::string>& seeds) {
  seeds_json_ = seeds_json_of(seeds);
  for (const auto& s : seeds) seed_origins_.insert(origin_of(s));
  RunCounters counters;
  bool resumed = false;
  if (auto run = frontier_.find_unfinished(seeds_json_)) {
    resumed = true;
    session_key_ = run->session_key;
    started_at_us_ = run->started_at_us;
    counters = frontier_.recount(session_key_);  // run->counters may predate a crash
    pages_started_ = frontier_.count_settled(session_key_, UrlKind::Page);
  } else {
    session_key_ = Poco::UUIDGenerator::defaultGenerator().createRandom().toString();
    started_at_us_ = now_utc_us();
    Frontier::Transaction tx(frontier_);
    frontier_.create_run(session_key_, seeds_json_, started_at_us_);
    for (const auto& s : seeds) frontier_.add(session_key_, s, UrlKind::Page, 0, "");
    tx.commit();
  }
  queued_ = frontier_.count_queued(session_key_);
  stats_.begin(session_key_, seeds, counters, frontier_.count_reasons(session_key_),
               frontier_.failed(session_key_, CrawlStats::kMaxFailedListed), resumed);
  stats_.set_queued(queued_);
  write_session(catalog_, session_row(KESTREL_SESSION_RUNNING));
  session_id_ = catalog_.session_id(0, session_key_);
  stats_.set_session_id(session_id_);
  frontier_.update_run(session_key_, "running", counters, 0);
  host_.logf(KESTREL_LOG_INFO, "crawl %s %s: %zu seed(s), %llu URL(s) queued, session id %lld",
             resumed ? "resumed" : "started", session_key_.c_str(), seeds.size(),
             static_cast<unsigned long long>(queued_), static_cast<long long>(session_id_));
}

void CrawlEngine::run(const std::vector<std::string>& seeds) {
  kestrel_crawl_state final_state = KESTREL_CRAWL_FAILED;
  try {
    open_session(seeds);
    CURLM* multi = multi_.get();
    workers_ = std::make_unique<ContentWorkers>(
        images_, std::min<size_t>(kMaxWorkers, config_.concurrency), [multi] { curl_multi_wakeup(multi); },
        session_id_, config_.css_images);
    committer_ = std::make_unique<CatalogCommitter>(catalog_, files_, [multi] { curl_multi_wakeup(multi); });
    last_checkpoint_ = std::chrono::steady_clock::now();
    run_started_ = last_checkpoint_;
    frontier_.set_batching(true);
    loop();
    const bool stopped = stop_.load();
    abandon_in_flight();
    // Images being stored finish (no upload is cut short); those not started
    // stay queued in the frontier for a resume.
    workers_->shutdown();
    drain_workers();
    final_state = stopped ? KESTREL_CRAWL_STOPPED : KESTREL_CRAWL_FINISHED;
    const kestrel_session_state ss = stopped ? KESTREL_SESSION_STOPPED : KESTREL_SESSION_FINISHED;
    flush(true, ss);
    committer_->finish();
    collect_written();
    frontier_.update_run(session_key_, stopped ? "stopped" : "finished", stats_.counters(), now_utc_us());
    frontier_.set_batching(false);  // commits
  } catch (const std::exception& e) {
    final_state = KESTREL_CRAWL_FAILED;
    stats_.set_failure_message(e.what());
    host_.logf(KESTREL_LOG_ERROR, "crawl %s failed: %s", session_key_.c_str(), e.what());
    abandon_in_flight();
    if (workers_) workers_->shutdown();
    if (committer_) committer_->abandon();
    // What the failed iteration wrote is dropped: its URLs stay queued.
    frontier_.rollback_pending();
    frontier_.set_batching(false);
    batch_.clear();  // not committed: those images stay queued and are fetched again on resume
    if (!session_key_.empty()) {
      try {
        write_session(catalog_, session_row(KESTREL_SESSION_FAILED));
      } catch (const std::exception& e2) {
        host_.logf(KESTREL_LOG_ERROR, "crawl %s: cannot record the failed session: %s", session_key_.c_str(),
                   e2.what());
      }
      try {
        frontier_.update_run(session_key_, "failed", stats_.counters(), now_utc_us());
      } catch (const std::exception&) {
        // The frontier itself may be what failed; the run stays resumable either way.
      }
    }
  }
  stats_.set_queued(queued_);
  stats_.set_state(final_state);
  const auto p = stats_.progress();
  host_.logf(KESTREL_LOG_INFO,
             "crawl %s %s: %llu pages, %llu images (%llu unchanged), %llu bytes, %llu errors, %.1f s",
             session_key_.c_str(),
             final_state == KESTREL_CRAWL_FINISHED  ? "finished"
             : final_state == KESTREL_CRAWL_STOPPED ? "stopped"
                                                    : "failed",
             static_cast<unsigned long long>(p.pages), static_cast<unsigned long long>(p.images),
             static_cast<unsigned long long>(p.images_unchanged), static_cast<unsigned long long>(p.bytes),
             static_cast<unsigned long long>(p.errors), static_cast<double>(p.elapsed_ms) / 1000.0);
}

int64_t CrawlEngine::now_ms() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

bool CrawlEngine::in_scope(const std::string& origin) const {
  return scope_allows(limits_.scope, seed_origins_, origin);
}

bool CrawlEngine::limits_reached() {
  const char* why = nullptr;
  if (limits_.max_bytes > 0 && stats_.counters().bytes >= limits_.max_bytes) why = "max_bytes";
  if (limits_.max_seconds > 0 &&
      std::chrono::steady_clock::now() - run_started_ >= std::chrono::seconds(limits_.max_seconds))
    why = "max_seconds";
  if (!why) return false;
  // The crawl stops as if asked to: what is queued stays queued for a resume.
  host_.logf(KESTREL_LOG_INFO, "crawl %s: %s reached, stopping", session_key_.c_str(), why);
  stop_.store(true);
  stats_.set_state_if(KESTREL_CRAWL_RUNNING, KESTREL_CRAWL_STOPPING);
  return true;
}

void CrawlEngine::loop() {
  while (!stop_.load()) {
    if (limits_reached()) return;
    // The network first: responses are read and freed slots refilled before the
    // workers' results (links to insert, rows written) are taken in, so a request
    // never waits for that bookkeeping.
    perform();
    drain_workers();
    collect_written();
    checkpoint(false);
    if (stop_.load()) return;
    feed();
    if (idle()) {
      if (frontier_exhausted_) return;  // nothing queued anywhere: finished (checked before the poll,
      continue;                         // which would wait a whole kPollMs); else refill found more
    }
    // Everything startable has started (a new handle makes curl_multi_poll
    // return at once: libcurl arms a zero timeout for it). What waits now waits
    // for a socket, an image worker (which wakes the poll with
    // curl_multi_wakeup), or a deferred origin's "not before" time (delay,
    // back-off, Retry-After).
    int64_t wait = scheduler_.wait_ms(now_ms());
    int timeout = kPollMs;
    if (wait >= 0 && wait < kPollMs) timeout = static_cast<int>(wait) + 1;
    frontier_.commit_pending();  // before waiting: one frontier transaction per round of completions
    curl_multi_poll(multi_.get(), nullptr, 0, timeout, nullptr);
  }
}

void CrawlEngine::perform() {
  for (int pass = 0; pass < kMaxPerformPasses; ++pass) {
    const uint64_t started_before = transfers_started_;
    int running = 0;
    const CURLMcode mc = curl_multi_perform(multi_.get(), &running);
    if (mc != CURLM_OK) throw Error(KESTREL_ERR_INTERNAL, std::string("curl_multi_perform: ") + curl_multi_strerror(mc));
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi_.get(), &left)) {
      if (msg->msg != CURLMSG_DONE) continue;
      on_done(msg->easy_handle, msg->data.result);
      if (!stop_.load()) feed();  // the freed slot starts its next transfer now
    }
    // A started transfer sends its request on the next perform (on a reused
    // connection: at once), so run it now rather than after the poll.
    if (transfers_started_ == started_before) return;
  }
}

void CrawlEngine::feed() {
  refill();
  dispatch();
}

void CrawlEngine::refill() {
  // Keep a bounded window of the frontier in memory; the rest waits in SQLite.
  const size_t window = std::max<size_t>(1000, size_t{config_.concurrency} * 16);
  if (frontier_exhausted_ || scheduler_.queued() >= window / 2) return;
  const size_t want = window - scheduler_.queued();
  std::vector<WorkItem> items = frontier_.load_queued(session_key_, cursor_, want);
  frontier_exhausted_ = items.size() < want;
  for (auto& w : items) {
    cursor_ = std::max(cursor_, w.id);
    w.origin = origin_of(w.url);
    scheduler_.push(std::move(w));
  }
}

void CrawlEngine::dispatch() {
  // Back-pressure on images only: the scheduler caps transfers at
  // `concurrency`; bodies waiting for an image worker hold no transfer slot but
  // stop new transfers once the backlog reaches max_backlog(), so memory
  // stays bounded by ~(concurrency + backlog) bodies while the network is kept
  // busy when the workers briefly fall behind.
  const size_t backlog = max_backlog();
  while (!stop_.load() && workers_->pending() < backlog) {
    std::optional<WorkItem> next = scheduler_.next(now_ms());
    if (!next) return;
    WorkItem& item = *next;
    if (item.kind != UrlKind::Robots) {
      if (limits_.robots) {
        auto it = robots_.find(item.origin);
        if (it != robots_.end() && !it->second.allowed(path_and_query(item.url))) {
          scheduler_.release(item.origin);
          skip(item, "robots_denied", "disallowed by " + item.origin + "/robots.txt");
          continue;
        }
      }
      if (item.kind == UrlKind::Page) {
        if (item.attempts == 0 && pages_started_ >= limits_.max_pages) {
          scheduler_.release(item.origin);
          skip(item, "max_pages", "max_pages " + std::to_string(limits_.max_pages) + " reached");
          continue;
        }
        uint64_t& per_origin = pages_per_origin_[item.origin];
        if (config_.max_pages_per_host > 0 && per_origin >= config_.max_pages_per_host && item.attempts == 0) {
          scheduler_.release(item.origin);
          skip(item, "max_pages_per_host",
               "max_pages_per_host " + std::to_string(config_.max_pages_per_host) + " reached for " + item.origin);
          continue;
        }
        if (item.attempts == 0) {  // a retry was counted when it first started
          ++pages_started_;
          ++per_origin;
        }
      }
    }
    start_transfer(std::move(item));
  }
}

size_t CrawlEngine::max_backlog() const {
  return std::max<size_t>(config_.concurrency, workers_->threads() * (1 + kBacklogPerWorker));
}

void CrawlEngine::start_transfer(WorkItem item) {
  std::unique_ptr<Transfer> t;
  if (idle_.empty()) {
    t = std::make_unique<Transfer>();
  } else {
    t = std::move(idle_.back());
    idle_.pop_back();
  }
  const bool robots = item.kind == UrlKind::Robots;
  uint64_t cap = config_.max_body_size;
  if (robots) cap = kRobotsMaxBytes;
  if (item.kind == UrlKind::Sitemap) cap = config_.max_sitemap_size;  // compressed; parse_sitemap caps the rest
  ++item.attempts;
  const bool image = item.kind == UrlKind::Image;
  const std::string url = item.url;
  if (robots) {
    TransferSettings s = settings_;
    s.max_redirects = std::min(s.max_redirects, kRobotsMaxRedirects);
    t->prepare(std::move(item), s, cap, true);
  } else {
    t->prepare(std::move(item), settings_, cap, false);
  }
  InFlight flight;
  if (image) {
    // Recrawl: ask only for what changed (the catalog keeps each image's
    // validators). The row read here also serves the pipeline's dedup check.
    const CatalogedImage& known = flight.known.emplace(lookup_image(catalog_, url));
    if (known.found && (!known.etag.empty() || !known.last_modified.empty()) && !known.file_path.empty() &&
        files_.exists(known.file_path))
      t->set_conditional(known.etag, known.last_modified);
  }
  CURL* easy = t->handle();
  const CURLMcode mc = curl_multi_add_handle(multi_.get(), easy);
  if (mc != CURLM_OK) throw Error(KESTREL_ERR_INTERNAL, std::string("curl_multi_add_handle: ") + curl_multi_strerror(mc));
  ++transfers_started_;
  flight.transfer = std::move(t);
  active_.emplace(easy, std::move(flight));
}

void CrawlEngine::on_done(CURL* easy, CURLcode code) {
  auto it = active_.find(easy);
  if (it == active_.end()) return;
  InFlight flight = std::move(it->second);
  std::unique_ptr<Transfer>& t = flight.transfer;
  active_.erase(it);
  curl_multi_remove_handle(multi_.get(), easy);
  const WorkItem& item = t->item();
  scheduler_.release(item.origin);
  stats_.add_bytes(t->received());
  metrics_.bytes.add(static_cast<double>(t->received()));
  double seconds = 0;
  if (curl_easy_getinfo(easy, CURLINFO_TOTAL_TIME, &seconds) == CURLE_OK) metrics_.fetch_seconds.observe(seconds);
  const TransferResult res = t->finish(code);
  if (item.id != 0) {
    FetchRecord record;
    record.http_status = res.status;
    record.attempts = item.attempts;
    record.bytes = t->received();
    record.final_url = res.effective_url;
    frontier_.record_fetch(item.id, record);
  }
  if (!res.kind.empty() && item.kind != UrlKind::Robots && maybe_retry(item, res)) {
    t->release_body();
    idle_.push_back(std::move(t));
    return;
  }
  if (res.kind == "not_modified") {
    stats_.add_image_unchanged();
    frontier_.set_state(item.id, "done", "unchanged", res.detail);
    settled(1);
    t->release_body();
    idle_.push_back(std::move(t));
    return;
  }
  if (item.kind == UrlKind::Robots) {
    on_robots(item, res, t->body());  // a failed robots.txt fetch has rules of its own (RFC 9309 §2.3.1)
  } else if (!res.kind.empty()) {
    fail(item, res.kind, res.detail);
  } else {
    switch (item.kind) {
      case UrlKind::Sitemap: on_sitemap(item, res, t->body().str()); break;
      case UrlKind::Stylesheet: on_stylesheet(item, res, t->body().str()); break;
      case UrlKind::Page: submit_content(item, res, t->take_body(), std::nullopt); break;
      case UrlKind::Image:
        submit_content(item, res, t->take_body(), std::move(flight.known));
        break;
      case UrlKind::Robots: break;  // handled above
    }
  }
  t->release_body();
  idle_.push_back(std::move(t));
}

void CrawlEngine::on_robots(const WorkItem& item, const TransferResult& res, const Body& body) {
  // RFC 9309 §2.3.1: 2xx parse; 4xx "unavailable": allow all; 5xx or no
  // answer "unreachable": disallow all.
  RobotsRules rules = RobotsRules::allow_all();
  const char* how = "parsed";
  if (res.kind.empty()) {
    rules = RobotsRules::parse(body.str(), config_.robots_token);
  } else if (res.status >= 400 && res.status < 500) {
    how = "unavailable (allow all)";
  } else {
    rules = RobotsRules::disallow_all();
    how = "unreachable (disallow all)";
  }
  host_.logf(KESTREL_LOG_INFO, "robots.txt %s: %s (%s)", item.url.c_str(), how,
             res.kind.empty() ? "ok" : res.detail.c_str());
  int64_t delay = config_.per_host_delay_ms;
  if (config_.honor_crawl_delay)
    delay = std::max<int64_t>(delay, std::min<int64_t>(rules.crawl_delay_ms(), config_.max_crawl_delay_ms));
  scheduler_.set_delay(item.origin, delay);
  if (delay > 0) scheduler_.defer(item.origin, now_ms() + delay);  // the robots.txt request itself counts
  if (config_.sitemaps && !rules.sitemaps().empty()) {
    size_t added = 0;
    Frontier::Transaction tx(frontier_);
    for (const auto& raw : rules.sitemaps()) {
      auto url = normalize_url(raw);
      // Sitemaps protocol: a sitemap lists URLs of its own host; others are not followed.
      if (url && in_scope(origin_of(*url)) && enqueue(*url, UrlKind::Sitemap, 0, item.url)) ++added;
    }
    tx.commit();
    queued_more(added);
  }
  robots_.insert_or_assign(item.origin, std::move(rules));
  scheduler_.robots_known(item.origin);
}

bool CrawlEngine::maybe_retry(WorkItem item, const TransferResult& res) {
  if (!retryable(res) || item.attempts > config_.max_retries || stop_.load()) return false;
  int64_t delay;
  const bool asked = (res.status == 429 || res.status == 503) && res.retry_after_ms >= 0;
  if (asked) {
    delay = std::min(res.retry_after_ms, config_.max_retry_after_ms);  // RFC 9110 §10.2.3
  } else {
    // Exponential back-off with "equal jitter": half fixed, half random, so
    // clients that failed together do not come back together.
    const int shift = static_cast<int>(std::min<uint32_t>(item.attempts - 1, 30));
    const int64_t base = std::min(config_.max_retry_backoff_ms, config_.retry_backoff_ms << shift);
    static thread_local std::minstd_rand rng(std::random_device{}());
    delay = base / 2 + (base > 1 ? static_cast<int64_t>(rng() % static_cast<uint64_t>(base / 2 + 1)) : 0);
  }
  host_.logf(KESTREL_LOG_INFO, "%s %s: %s (%s), retry %u of %u in %lld ms%s", kind_name(item.kind), item.url.c_str(),
             res.kind.c_str(), res.detail.c_str(), item.attempts, config_.max_retries, static_cast<long long>(delay),
             asked ? " (Retry-After)" : "");
  // 429/503 mean the server is overloaded: slow the whole origin. A timeout or
  // a dropped connection is about this URL: only it waits.
  const bool whole_origin = res.status == 429 || res.status == 503;
  scheduler_.retry(std::move(item), now_ms() + delay, whole_origin);
  return true;
}

bool CrawlEngine::enqueue(const std::string& url, UrlKind kind, uint32_t depth, const std::string& source) {
  if (url.size() > config_.max_url_length) {
    // Recorded (so an operator sees it) but never fetched: endless link generators grow their URLs.
    if (frontier_.add_settled(session_key_, url.substr(0, config_.max_url_length), kind, depth, source, "skipped",
                              "url_too_long",
                              std::to_string(url.size()) + " bytes, over max_url_length " +
                                  std::to_string(config_.max_url_length) + " (URL cut here)"))
      stats_.add_skip("url_too_long");
    return false;
  }
  // Most links of a page were seen before (the GIMP manual: 24,700 links to
  // 2,700 URLs); the cache answers those without a SQLite statement.
  if (known_urls_.count(url) != 0) return false;
  const bool added = frontier_.add(session_key_, url, kind, depth, source);
  if (known_urls_.size() < kKnownUrlCache) known_urls_.insert(url);
  return added;
}

void CrawlEngine::on_sitemap(const WorkItem& item, const TransferResult&, const std::string& body) {
  const SitemapLinks links = parse_sitemap(body, config_.max_sitemap_size);
  size_t added = 0;
  Frontier::Transaction tx(frontier_);
  // parse_sitemap returns normalize_url's output: the origin is read from the text (normalized_origin).
  for (const auto& url : links.pages)
    if (in_scope(normalized_origin(url)) && enqueue(url, UrlKind::Page, 0, item.url)) ++added;
  for (const auto& url : links.sitemaps)
    if (in_scope(normalized_origin(url)) && enqueue(url, UrlKind::Sitemap, 0, item.url)) ++added;
  if (links.error.empty() || !links.pages.empty() || !links.sitemaps.empty())
    frontier_.set_state(item.id, "done", "", links.error);
  tx.commit();
  queued_more(added);
  if (!links.error.empty() && links.pages.empty() && links.sitemaps.empty()) {
    fail(item, "bad_sitemap", links.error);
    return;
  }
  settled(1);
  host_.logf(KESTREL_LOG_INFO, "sitemap %s: %zu page(s), %zu sitemap(s)%s%s", item.url.c_str(), links.pages.size(),
             links.sitemaps.size(), links.error.empty() ? "" : "; ", links.error.c_str());
}

void CrawlEngine::on_stylesheet(const WorkItem& item, const TransferResult& res, const std::string& body) {
  const std::string base = normalize_url(res.effective_url.empty() ? item.url : res.effective_url).value_or(item.url);
  size_t added = 0;
  Frontier::Transaction tx(frontier_);
  for (const auto& ref : css_urls(body)) {
    auto url = resolve_url(base, ref);
    if (!url) {
      stats_.add_skip("invalid_url");
      continue;
    }
    // The image's source is the page that linked the stylesheet (catalog source_url is a page).
    const std::string& page = item.source_url.empty() ? item.url : item.source_url;
    if ((config_.offsite_images || in_scope(origin_of(*url))) && enqueue(*url, UrlKind::Image, item.depth, page))
      ++added;
  }
  frontier_.set_state(item.id, "done", "", "");
  tx.commit();
  queued_more(added);
  settled(1);
}

void CrawlEngine::submit_content(const WorkItem& item, const TransferResult& res, Body body,
                                 std::optional<CatalogedImage> known) {
  ContentJob job;
  job.item = item;
  job.response = res;
  job.body = std::move(body);
  job.known = std::move(known);
  job.fetched_at_us = now_utc_us();
  workers_->submit(std::move(job));
}

void CrawlEngine::drain_workers() {
  for (ContentDone& done : workers_->take_done()) on_content_done(done);
}

void CrawlEngine::on_content_done(ContentDone& done) {
  // The catalog or blob store failed, or a spilled body could not be read: the crawl cannot go on.
  if (done.error) std::rethrow_exception(done.error);
  if (done.is_image) {
    on_image_done(done.item, done.image);
  } else if (done.page.type == PageOutcome::Type::Other) {
    skip(done.item, "not_html", done.page.detail);
  } else {
    on_page_done(done);
  }
}

void CrawlEngine::on_page_done(const ContentDone& done) {
  const WorkItem& item = done.item;
  const TransferResult& res = done.response;
  const std::string document_url = res.effective_url.empty() ? item.url : res.effective_url;
  if (!in_scope(origin_of(normalize_url(document_url).value_or(document_url)))) {
    skip(item, "offsite_redirect", "redirected to " + document_url);
    return;
  }
  const ExtractedLinks& links = done.page.links;
  stats_.add_page();
  metrics_.pages.add(1);
  size_t added = 0;
  Frontier::Transaction tx(frontier_);
  // The links are resolve_url's (normalized) output: the origin is read from the text (normalized_origin).
  if (item.depth < limits_.max_depth) {
    for (const auto& url : links.pages)
      if (in_scope(normalized_origin(url)) && enqueue(url, UrlKind::Page, item.depth + 1, item.url)) ++added;
  }
  for (const auto& url : links.images)
    if ((config_.offsite_images || in_scope(normalized_origin(url))) &&
        enqueue(url, UrlKind::Image, item.depth + 1, item.url))
      ++added;
  for (const auto& url : links.stylesheets)
    if ((config_.offsite_images || in_scope(normalized_origin(url))) &&
        enqueue(url, UrlKind::Stylesheet, item.depth + 1, item.url))
      ++added;
  frontier_.set_state(item.id, "done", "", "");
  tx.commit();
  queued_more(added);
  settled(1);
  for (const auto& bad : links.invalid) {
    stats_.add_skip("invalid_url");
    host_.logf(KESTREL_LOG_DEBUG, "page %s: unusable reference '%s'", item.url.c_str(), bad.c_str());
  }
}

void CrawlEngine::on_image_done(const WorkItem& item, ImageOutcome& out) {
  switch (out.status) {
    case ImageOutcome::Status::Rejected: fail(item, out.kind, out.detail); return;
    case ImageOutcome::Status::Unchanged:
      stats_.add_image_unchanged();
      frontier_.set_state(item.id, "done", "unchanged", "");
      settled(1);
      return;
    case ImageOutcome::Status::Stored:
      stats_.add_image();
      metrics_.images.add(1);
      batch_.add(std::move(out.row));
      // Marked done in the frontier only once its row is committed (flush):
      // a crash before that fetches it again instead of losing it.
      if (batch_.full()) flush(false, KESTREL_SESSION_RUNNING);
      return;
  }
}

void CrawlEngine::fail(const WorkItem& item, const std::string& kind, const std::string& detail) {
  frontier_.set_state(item.id, "failed", kind, detail);
  settled(1);
  stats_.add_failure(item.url, item.source_url, kind, detail);
  metrics_.error(kind);
  host_.logf(KESTREL_LOG_WARNING, "%s %s failed: %s: %s (referenced by %s)", kind_name(item.kind), item.url.c_str(),
             kind.c_str(), detail.c_str(), item.source_url.empty() ? "seed" : item.source_url.c_str());
}

void CrawlEngine::skip(const WorkItem& item, const std::string& kind, const std::string& detail) {
  frontier_.set_state(item.id, "skipped", kind, detail);
  settled(1);
  stats_.add_skip(kind);
  host_.logf(KESTREL_LOG_INFO, "%s %s skipped: %s: %s", kind_name(item.kind), item.url.c_str(), kind.c_str(),
             detail.c_str());
}

void CrawlEngine::flush(bool with_session, kestrel_session_state state) {
  if (batch_.empty() && !with_session) return;
  std::optional<SessionRow> session;
  if (with_session) session = session_row(state);
  // Written by the committer's thread: the blob store's sync (the files were
  // committed with commit_deferred), then the rows.
  committer_->submit(batch_.take(), std::move(session));
}

void CrawlEngine::collect_written() {
  const std::vector<int64_t> ids = committer_->take_written();  // throws a failed write
  if (ids.empty()) return;
  Frontier::Transaction tx(frontier_);
  for (int64_t id : ids) frontier_.set_state(id, "done", "", "");
  tx.commit();
  // Committed now, not with the next round: the rows are in the catalog, and a
  // crash must not make a resume fetch them again.
  frontier_.commit_pending();
  settled(ids.size());
}

void CrawlEngine::checkpoint(bool force) {
  const auto now = std::chrono::steady_clock::now();
  stats_.set_queued(queued_);
  if (!force && now - last_checkpoint_ < kCheckpointEvery) return;
  last_checkpoint_ = now;
  flush(true, KESTREL_SESSION_RUNNING);
  frontier_.update_run(session_key_, "running", stats_.counters(), 0);
}

void CrawlEngine::abandon_in_flight() {
  for (auto& [easy, flight] : active_) {
    curl_multi_remove_handle(multi_.get(), easy);
    scheduler_.release(flight.transfer->item().origin);
    flight.transfer->release_body();
    idle_.push_back(std::move(flight.transfer));
  }
  active_.clear();
  scheduler_.clear_queued();
}

}  // namespace kestrel::crawler
