// The crawl scheduler: per-origin FIFO queues of work and the concurrency
// caps (total and per origin), plus the robots.txt gate (an origin's robots.txt
// is fetched before any other URL of it).
//
// Pure bookkeeping: no I/O, no clock, no locks. Used by the crawl thread only
// (not thread-safe). Later politeness rules (Crawl-delay, Retry-After, backoff)
// belong here as per-origin "not before" times.
#ifndef KESTREL_CRAWLER_HTTP_SCHEDULER_H_
#define KESTREL_CRAWLER_HTTP_SCHEDULER_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>

namespace kestrel::crawler {

// What a fetched URL is expected to be.
enum class UrlKind { Page, Image, Robots };

// "page", "image", "robots".
const char* kind_name(UrlKind kind);

// One URL to fetch.
struct WorkItem {
  int64_t id = 0;            // frontier row id (0 for robots.txt, which is not in the frontier)
  std::string url;           // normalized absolute URL
  UrlKind kind = UrlKind::Page;
  uint32_t depth = 0;        // links from a seed (seeds: 0)
  std::string source_url;    // page that referenced it first ("" for seeds)
  std::string origin;        // origin_of(url): the unit of the per-host cap
};

class Scheduler {
 public:
  // total_cap >= 1 transfers at once; per_origin_cap >= 1 transfers per origin.
  // robots_first: a new origin hands out its robots.txt fetch before anything else.
  Scheduler(size_t total_cap, size_t per_origin_cap, bool robots_first);

  // Appends `item` to its origin's queue (item.origin must be set).
  void push(WorkItem item);

  // The next item to start, round-robin over origins with a free slot, or
  // nullopt when nothing may start now. Takes a slot for the item's origin;
  // give it back with release(). For an origin whose robots.txt is not known
  // yet, returns a UrlKind::Robots item for "<origin>/robots.txt" (once) and
  // holds its other items until robots_known(origin).
  std::optional<WorkItem> next();

  // Gives back the slot taken by next() for `origin`.
  void release(const std::string& origin);

  // The robots.txt of `origin` is known (fetched, failed, or not needed): its
  // queued items may start.
  void robots_known(const std::string& origin);

  // Items waiting (not started), all origins.
  size_t queued() const { return queued_; }
  // Items started and not released, all origins.
  size_t in_flight() const { return in_flight_; }
  // Items started and not released for one origin.
  size_t in_flight(const std::string& origin) const;
  // Drops every waiting item (the frontier keeps them for a resume).
  void clear_queued();

 private:
  enum class Robots { Unknown, Fetching, Known };
  struct Origin {
    std::deque<WorkItem> queue;
    size_t in_flight = 0;
    Robots robots = Robots::Unknown;
  };

  size_t total_cap_;
  size_t per_origin_cap_;
  bool robots_first_;
  std::map<std::string, Origin> origins_;
  std::string last_served_;  // round-robin position
  size_t queued_ = 0;
  size_t in_flight_ = 0;
};

}  // namespace kestrel::crawler

#endif  // KESTREL_CRAWLER_HTTP_SCHEDULER_H_
