#include "crawl_stats.h"

#include <kestrel/plugin.hpp>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <sstream>

namespace kestrel::crawler {
namespace {

Poco::JSON::Object::Ptr counts_object(const std::map<std::string, uint64_t>& m) {
  Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
  for (const auto& [k, v] : m) o->set(k, static_cast<Poco::UInt64>(v));
  return o;
}

std::string stringify(const Poco::JSON::Object::Ptr& o) {
  std::ostringstream out;
  o->stringify(out);
  return out.str();
}

}  // namespace

void CrawlStats::begin(const std::string& session_key, const std::vector<std::string>& seeds,
                       const RunCounters& resumed, const std::map<std::string, std::map<std::string, uint64_t>>& reasons,
                       const std::vector<FailedRow>& failed, bool resumed_run) {
  std::lock_guard<std::mutex> lock(mu_);
  state_ = KESTREL_CRAWL_RUNNING;
  session_key_ = session_key;
  seeds_ = seeds;
  resumed_ = resumed_run;
  session_id_ = 0;
  c_ = resumed;
  queued_ = 0;
  errors_ = 0;
  errors_by_kind_.clear();
  skipped_.clear();
  if (auto it = reasons.find("failed"); it != reasons.end()) {
    errors_by_kind_ = it->second;
    for (const auto& [k, v] : it->second) errors_ += v;
  }
  if (auto it = reasons.find("skipped"); it != reasons.end()) skipped_ = it->second;
  failed_ = failed;
  if (failed_.size() > kMaxFailedListed) failed_.resize(kMaxFailedListed);
  failed_not_listed_ = errors_ > failed_.size() ? errors_ - failed_.size() : 0;
  failure_message_.clear();
  started_ = std::chrono::steady_clock::now();
  ended_set_ = false;
}

void CrawlStats::set_state(kestrel_crawl_state state) {
  std::lock_guard<std::mutex> lock(mu_);
  state_ = state;
  if ((state == KESTREL_CRAWL_FINISHED || state == KESTREL_CRAWL_STOPPED || state == KESTREL_CRAWL_FAILED) &&
      !ended_set_) {
    ended_ = std::chrono::steady_clock::now();
    ended_set_ = true;
  }
}

bool CrawlStats::set_state_if(kestrel_crawl_state expected, kestrel_crawl_state next) {
  std::lock_guard<std::mutex> lock(mu_);
  if (state_ != expected) return false;
  state_ = next;
  return true;
}

kestrel_crawl_state CrawlStats::state() const {
  std::lock_guard<std::mutex> lock(mu_);
  return state_;
}

void CrawlStats::set_session_id(int64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  session_id_ = id;
}

void CrawlStats::set_queued(uint64_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  queued_ = n;
}

void CrawlStats::set_failure_message(const std::string& message) {
  std::lock_guard<std::mutex> lock(mu_);
  failure_message_ = message;
}

void CrawlStats::add_bytes(uint64_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  c_.bytes += n;
}

void CrawlStats::add_page() {
  std::lock_guard<std::mutex> lock(mu_);
  ++c_.pages;
}

void CrawlStats::add_image() {
  std::lock_guard<std::mutex> lock(mu_);
  ++c_.images;
}

void CrawlStats::add_image_unchanged() {
  std::lock_guard<std::mutex> lock(mu_);
  ++c_.images_unchanged;
}

void CrawlStats::add_failure(const std::string& url, const std::string& source, const std::string& kind,
                             const std::string& detail) {
  std::lock_guard<std::mutex> lock(mu_);
  ++errors_;
  ++errors_by_kind_[kind];
  if (failed_.size() < kMaxFailedListed)
    failed_.push_back({url, source, kind, detail});
  else
    ++failed_not_listed_;
}

void CrawlStats::add_skip(const std::string& kind) {
  std::lock_guard<std::mutex> lock(mu_);
  ++skipped_[kind];
}

RunCounters CrawlStats::counters() const {
  std::lock_guard<std::mutex> lock(mu_);
  return c_;
}

uint64_t CrawlStats::errors() const {
  std::lock_guard<std::mutex> lock(mu_);
  return errors_;
}

std::string CrawlStats::errors_json() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stringify(counts_object(errors_by_kind_));
}

uint64_t CrawlStats::elapsed_ms_locked() const {
  if (state_ == KESTREL_CRAWL_IDLE) return 0;
  const auto end = ended_set_ ? ended_ : std::chrono::steady_clock::now();
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(end - started_).count());
}

kestrel_crawl_progress CrawlStats::progress() const {
  std::lock_guard<std::mutex> lock(mu_);
  kestrel_crawl_progress p{};
  p.struct_size = sizeof p;
  p.state = state_;
  p.pages = c_.pages;
  p.images = c_.images;
  p.images_unchanged = c_.images_unchanged;
  p.bytes = c_.bytes;
  p.errors = errors_;
  p.queued = queued_;
  p.elapsed_ms = elapsed_ms_locked();
  p.crawl_session_id = session_id_;
  return p;
}

std::string CrawlStats::report_json() const {
  std::lock_guard<std::mutex> lock(mu_);
  Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
  o->set("state", std::string(crawl_state_name(state_)));
  if (state_ == KESTREL_CRAWL_IDLE) return stringify(o);
  o->set("session_key", session_key_);
  o->set("crawl_session_id", static_cast<Poco::Int64>(session_id_));
  o->set("resumed", resumed_);
  Poco::JSON::Array::Ptr seeds = new Poco::JSON::Array;
  for (const auto& s : seeds_) seeds->add(s);
  o->set("seeds", seeds);
  o->set("pages", static_cast<Poco::UInt64>(c_.pages));
  o->set("images", static_cast<Poco::UInt64>(c_.images));
  o->set("images_unchanged", static_cast<Poco::UInt64>(c_.images_unchanged));
  o->set("bytes", static_cast<Poco::UInt64>(c_.bytes));
  o->set("errors", static_cast<Poco::UInt64>(errors_));
  o->set("queued", static_cast<Poco::UInt64>(queued_));
  o->set("errors_by_kind", counts_object(errors_by_kind_));
  o->set("skipped", counts_object(skipped_));
  Poco::JSON::Array::Ptr failed = new Poco::JSON::Array;
  for (const auto& f : failed_) {
    Poco::JSON::Object::Ptr e = new Poco::JSON::Object;
    e->set("url", f.url);
    e->set("source", f.source_url);
    e->set("reason", f.reason);
    if (!f.detail.empty()) e->set("detail", f.detail);
    failed->add(e);
  }
  o->set("failed", failed);
  o->set("failed_not_listed", static_cast<Poco::UInt64>(failed_not_listed_));
  if (!failure_message_.empty()) o->set("failure", failure_message_);
  o->set("seconds", static_cast<double>(elapsed_ms_locked()) / 1000.0);
  return stringify(o);
}

}  // namespace kestrel::crawler
