// The crawl scheduler: per-origin FIFO queues of work and the concurrency
// caps (total and per origin), plus the robots.txt gate (an origin's robots.txt
// is fetched before any other URL of it).
//
// Politeness and back-off are per-origin "not before" times (milliseconds on a
// clock the caller passes in): a per-origin delay between request starts
// (per_host_delay, robots.txt Crawl-delay) and deferrals (retry back-off,
// Retry-After). A deferred origin never holds back the others.
//
// Pure bookkeeping: no I/O, no clock of its own, no locks. Used by the crawl
// thread only (not thread-safe).
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
enum class UrlKind { Page, Image, Robots, Sitemap, Stylesheet };

// "page", "image", "robots", "sitemap", "stylesheet".
const char* kind_name(UrlKind kind);

// One URL to fetch.
struct WorkItem {
  int64_t id = 0;            // frontier row id (0 for robots.txt, which is not in the frontier)
  std::string url;           // normalized absolute URL
  UrlKind kind = UrlKind::Page;
  uint32_t depth = 0;        // links from a seed (seeds: 0)
  std::string source_url;    // page that referenced it first ("" for seeds)
  std::string origin;        // origin_of(url): the unit of the per-host cap
  uint32_t attempts = 0;     // requests already made for it in this run (retries so far + 1 after a start)
};

class Scheduler {
 public:
  // total_cap >= 1 transfers at once; per_origin_cap >= 1 transfers per origin.
  // robots_first: a new origin hands out its robots.txt fetch before anything else.
  // default_delay_ms: every origin's least time between request starts until
  // set_delay changes it (per_host_delay: a floor with or without robots.txt).
  Scheduler(size_t total_cap, size_t per_origin_cap, bool robots_first, int64_t default_delay_ms = 0);

  // Appends `item` to its origin's queue (item.origin must be set).
  void push(WorkItem item);

  // The next item to start, round-robin over origins with a free slot, or
  // nullopt when nothing may start now. Takes a slot for the item's origin;
  // give it back with release(). For an origin whose robots.txt is not known
  // yet, returns a UrlKind::Robots item for "<origin>/robots.txt" (once) and
  // holds its other items until robots_known(origin). Origins whose "not
  // before" time is later than `now_ms` are passed over; an item handed out
  // moves its origin's "not before" to now_ms + the origin's delay.
  std::optional<WorkItem> next(int64_t now_ms = 0);

  // Least time between two request starts to `origin` (milliseconds, >= 0).
  void set_delay(const std::string& origin, int64_t delay_ms);
  // Nothing of `origin` starts before `until_ms` (a later deferral wins).
  void defer(const std::string& origin, int64_t until_ms);
  // Puts `item` back, to start no earlier than `until_ms`. With whole_origin
  // (the server asked to slow down: 429, 503, Retry-After) nothing else of the
  // origin starts before then either and the item goes first in line;
  // otherwise (a timeout, a dropped connection) only the item waits.
  void retry(WorkItem item, int64_t until_ms, bool whole_origin = true);
  // Milliseconds from `now_ms` until some waiting item may start because a
  // "not before" time passes; -1 when no waiting item is held back by one.
  int64_t wait_ms(int64_t now_ms) const;

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
    std::multimap<int64_t, WorkItem> delayed;  // items retried alone, by their "not before" time
    size_t in_flight = 0;
    Robots robots = Robots::Unknown;
    int64_t not_before_ms = 0;
    int64_t delay_ms = 0;
  };

  // The origin's entry, made with the default delay when new.
  Origin& origin(const std::string& name);

  size_t total_cap_;
  size_t per_origin_cap_;
  bool robots_first_;
  int64_t default_delay_ms_;
  std::map<std::string, Origin> origins_;
  std::string last_served_;  // round-robin position
  size_t queued_ = 0;
  size_t in_flight_ = 0;
};

}  // namespace kestrel::crawler

#endif  // KESTREL_CRAWLER_HTTP_SCHEDULER_H_
