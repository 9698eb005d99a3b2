#include "scheduler.h"

#include <algorithm>
#include <utility>

namespace kestrel::crawler {

const char* kind_name(UrlKind kind) {
  switch (kind) {
    case UrlKind::Page: return "page";
    case UrlKind::Image: return "image";
    case UrlKind::Robots: return "robots";
    case UrlKind::Sitemap: return "sitemap";
    case UrlKind::Stylesheet: return "stylesheet";
  }
  return "page";
}

Scheduler::Scheduler(size_t total_cap, size_t per_origin_cap, bool robots_first, int64_t default_delay_ms)
    : total_cap_(total_cap < 1 ? 1 : total_cap),
      per_origin_cap_(per_origin_cap < 1 ? 1 : per_origin_cap),
      robots_first_(robots_first),
      default_delay_ms_(default_delay_ms < 0 ? 0 : default_delay_ms) {}

Scheduler::Origin& Scheduler::origin(const std::string& name) {
  auto [it, inserted] = origins_.try_emplace(name);
  if (inserted) it->second.delay_ms = default_delay_ms_;
  return it->second;
}

void Scheduler::push(WorkItem item) {
  Origin& o = origin(item.origin);
  if (!robots_first_) o.robots = Robots::Known;
  o.queue.push_back(std::move(item));
  ++queued_;
}

std::optional<WorkItem> Scheduler::next(int64_t now_ms) {
  if (in_flight_ >= total_cap_ || origins_.empty()) return std::nullopt;
  // Visit origins once each, starting after the one served last.
  auto start = origins_.upper_bound(last_served_);
  for (size_t visited = 0; visited < origins_.size(); ++visited, ++start) {
    if (start == origins_.end()) start = origins_.begin();
    Origin& o = start->second;
    const bool delayed_ready = !o.delayed.empty() && o.delayed.begin()->first <= now_ms;
    if (o.in_flight >= per_origin_cap_ || (o.queue.empty() && !delayed_ready)) continue;
    if (o.robots == Robots::Fetching) continue;
    if (now_ms < o.not_before_ms) continue;
    WorkItem item;
    if (o.robots == Robots::Unknown) {
      o.robots = Robots::Fetching;
      item.url = start->first + "/robots.txt";
      item.kind = UrlKind::Robots;
      item.origin = start->first;
    } else if (delayed_ready) {
      item = std::move(o.delayed.begin()->second);
      o.delayed.erase(o.delayed.begin());
      --queued_;
    } else {
      item = std::move(o.queue.front());
      o.queue.pop_front();
      --queued_;
    }
    ++o.in_flight;
    ++in_flight_;
    if (o.delay_ms > 0) o.not_before_ms = std::max(o.not_before_ms, now_ms + o.delay_ms);
    last_served_ = start->first;
    return item;
  }
  return std::nullopt;
}

void Scheduler::release(const std::string& origin) {
  auto it = origins_.find(origin);
  if (it == origins_.end() || it->second.in_flight == 0) return;
  --it->second.in_flight;
  --in_flight_;
}

void Scheduler::set_delay(const std::string& origin, int64_t delay_ms) {
  this->origin(origin).delay_ms = delay_ms < 0 ? 0 : delay_ms;
}

void Scheduler::defer(const std::string& origin, int64_t until_ms) {
  Origin& o = this->origin(origin);
  o.not_before_ms = std::max(o.not_before_ms, until_ms);
}

void Scheduler::retry(WorkItem item, int64_t until_ms, bool whole_origin) {
  Origin& o = origin(item.origin);
  if (!robots_first_) o.robots = Robots::Known;
  if (whole_origin) {
    o.not_before_ms = std::max(o.not_before_ms, until_ms);
    o.queue.push_front(std::move(item));
  } else {
    o.delayed.emplace(until_ms, std::move(item));
  }
  ++queued_;
}

int64_t Scheduler::wait_ms(int64_t now_ms) const {
  int64_t best = -1;
  for (const auto& [name, o] : origins_) {
    if (o.robots == Robots::Fetching) continue;
    // The earliest time something of this origin could start.
    int64_t at = -1;
    if (!o.queue.empty()) at = o.not_before_ms;
    if (!o.delayed.empty()) {
      const int64_t d = std::max(o.delayed.begin()->first, o.not_before_ms);
      at = at < 0 ? d : std::min(at, d);
    }
    if (at <= now_ms) continue;  // nothing waiting, or ready now
    const int64_t w = at - now_ms;
    if (best < 0 || w < best) best = w;
  }
  return best;
}

void Scheduler::robots_known(const std::string& origin) { this->origin(origin).robots = Robots::Known; }

size_t Scheduler::in_flight(const std::string& origin) const {
  auto it = origins_.find(origin);
  return it == origins_.end() ? 0 : it->second.in_flight;
}

void Scheduler::clear_queued() {
  for (auto& [name, o] : origins_) {
    o.queue.clear();
    o.delayed.clear();
  }
  queued_ = 0;
}

}  // namespace kestrel::crawler
