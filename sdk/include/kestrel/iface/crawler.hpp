// kestrel/iface/crawler.hpp — kestrel.crawler.v1 for the C++ wrapper: the provider a
// component implements, the client a caller uses, and the C trampolines
// between them, together. Needs only the core (kestrel/plugin_core.hpp);
// kestrel/plugin.hpp includes it with every other interface.
#ifndef KESTREL_IFACE_CRAWLER_HPP
#define KESTREL_IFACE_CRAWLER_HPP

#include <kestrel/plugin_core.hpp>

#include <cstring>
#include <string>
#include <vector>

namespace kestrel {

// A crawl to start (kestrel_crawl_request as C++). Empty/zero fields mean
// "as configured".
struct CrawlRequest {
  std::vector<std::string> seeds;  // absolute http(s) URLs
  std::string scope;               // "site", "host" or "domain"
  uint32_t max_depth = 0;          // link depth from the seeds
  uint64_t max_pages = 0;          // HTML pages
  uint64_t max_bytes = 0;          // body bytes
  uint32_t max_seconds = 0;        // wall-clock seconds
  int32_t robots = 0;              // 1 honour robots.txt, 2 ignore it
};

// Implement this to provide kestrel.crawler.v1. Any thread may call.
class CrawlerProvider {
 public:
  virtual ~CrawlerProvider() = default;
  virtual void crawl_start(const CrawlRequest& request) = 0;
  virtual void crawl_stop() = 0;
  // true when the crawl ended (or none runs) within timeout_ms milliseconds.
  virtual bool crawl_wait(uint32_t timeout_ms) = 0;
  virtual kestrel_crawl_progress crawl_progress() = 0;
  // JSON object: counters, errors by kind, failed URLs with reasons.
  virtual std::string crawl_report() = 0;

  // The one declaration of this interface: its name and its C table. The
  // dispatch (Provides<>, Component::interface_table) and describe()'s
  // provides list are derived from these two.
  static constexpr const char* interface_name = KESTREL_IFACE_CRAWLER_V1;
  static const kestrel_crawler_v1* table();
};

// Caller side of kestrel.crawler.v1; throws Error on failure.
class CrawlerClient {
 public:
  CrawlerClient() = default;
  explicit CrawlerClient(const kestrel_interface& ref)
      : vt_(static_cast<const kestrel_crawler_v1*>(ref.vtable)), inst_(ref.instance) {}
  explicit operator bool() const { return vt_ != nullptr; }

  void start(const std::vector<std::string>& seeds) const {
    CrawlRequest r;
    r.seeds = seeds;
    start(r);
  }
  void start(const CrawlRequest& request) const {
    std::vector<const char*> raw;
    for (const auto& s : request.seeds) raw.push_back(s.c_str());
    kestrel_crawl_request req;
    std::memset(&req, 0, sizeof req);
    req.struct_size = sizeof req;
    req.seeds = raw.empty() ? nullptr : raw.data();
    req.seed_count = raw.size();
    req.scope = request.scope.empty() ? nullptr : request.scope.c_str();
    req.max_depth = request.max_depth;
    req.max_pages = request.max_pages;
    req.max_bytes = request.max_bytes;
    req.max_seconds = request.max_seconds;
    req.robots = request.robots;
    kestrel_status st = make_status();
    check(vt_->crawl_start(inst_, &req, &st), st, "crawl start");
  }
  void stop() const {
    kestrel_status st = make_status();
    check(vt_->crawl_stop(inst_, &st), st, "crawl stop");
  }
  bool wait(uint32_t timeout_ms) const {
    kestrel_status st = make_status();
    kestrel_result rc = vt_->crawl_wait(inst_, timeout_ms, &st);
    if (rc == KESTREL_ERR_TIMEOUT) return false;
    check(rc, st, "crawl wait");
    return true;
  }
  kestrel_crawl_progress progress() const {
    kestrel_crawl_progress p;
    std::memset(&p, 0, sizeof p);
    p.struct_size = sizeof p;
    kestrel_status st = make_status();
    check(vt_->crawl_progress(inst_, &p, &st), st, "crawl progress");
    return p;
  }
  std::string report() const {
    std::string out;
    kestrel_status st = make_status();
    check(vt_->crawl_report(inst_, &string_sink, &out, &st), st, "crawl report");
    return out;
  }

 private:
  const kestrel_crawler_v1* vt_ = nullptr;
  void* inst_ = nullptr;
};

// C trampolines: the instance is always the Component*; detail::as casts it.

inline const kestrel_crawler_v1* CrawlerProvider::table() {
  static const kestrel_crawler_v1 vt = {
      sizeof(kestrel_crawler_v1),
      [](void* inst, const kestrel_crawl_request* r, kestrel_status* st) {
        return detail::guard(st, [&] {
          kestrel_crawl_request req = copy_in(r);
          CrawlRequest request;
          for (size_t i = 0; i < req.seed_count; ++i) request.seeds.emplace_back(req.seeds[i] ? req.seeds[i] : "");
          request.scope = req.scope ? req.scope : "";
          request.max_depth = req.max_depth;
          request.max_pages = req.max_pages;
          request.max_bytes = req.max_bytes;
          request.max_seconds = req.max_seconds;
          request.robots = req.robots;
          detail::as<CrawlerProvider>(inst).crawl_start(request);
        });
      },
      [](void* inst, kestrel_status* st) {
        return detail::guard(st, [&] { detail::as<CrawlerProvider>(inst).crawl_stop(); });
      },
      [](void* inst, uint32_t timeout_ms, kestrel_status* st) {
        bool done = false;
        kestrel_result rc = detail::guard(st, [&] { done = detail::as<CrawlerProvider>(inst).crawl_wait(timeout_ms); });
        if (rc == KESTREL_OK && !done) return set_status(st, KESTREL_ERR_TIMEOUT, true, "crawl still running");
        return rc;
      },
      [](void* inst, kestrel_crawl_progress* p, kestrel_status* st) {
        return detail::guard(st, [&] {
          kestrel_crawl_progress full = detail::as<CrawlerProvider>(inst).crawl_progress();
          full.struct_size = sizeof full;
          copy_out(p, full);
        });
      },
      [](void* inst, kestrel_write_fn write, void* sink, kestrel_status* st) {
        return detail::guard(st, [&] {
          std::string r = detail::as<CrawlerProvider>(inst).crawl_report();
          write(sink, r.data(), r.size());
        });
      },
  };
  return &vt;
}

// Lets Component::interface_table's default (components not derived from
// Provides<>) find this interface; see plugin_core.hpp.
namespace detail {
inline const InterfaceRegistration<CrawlerProvider> crawler_v1_registration;
}  // namespace detail

}  // namespace kestrel

#endif  // KESTREL_IFACE_CRAWLER_HPP
