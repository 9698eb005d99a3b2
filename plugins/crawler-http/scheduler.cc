#include "scheduler.h"

#include <utility>

namespace kestrel::crawler {

const char* kind_name(UrlKind kind) {
  switch (kind) {
    case UrlKind::Page: return "page";
    case UrlKind::Image: return "image";
    case UrlKind::Robots: return "robots";
  }
  return "page";
}

Scheduler::Scheduler(size_t total_cap, size_t per_origin_cap, bool robots_first)
    : total_cap_(total_cap < 1 ? 1 : total_cap),
      per_origin_cap_(per_origin_cap < 1 ? 1 : per_origin_cap),
      robots_first_(robots_first) {}

void Scheduler::push(WorkItem item) {
  Origin& o = origins_[item.origin];
  if (!robots_first_) o.robots = Robots::Known;
  o.queue.push_back(std::move(item));
  ++queued_;
}

std::optional<WorkItem> Scheduler::next() {
  if (in_flight_ >= total_cap_ || origins_.empty()) return std::nullopt;
  // Visit origins once each, starting after the one served last.
  auto start = origins_.upper_bound(last_served_);
  for (size_t visited = 0; visited < origins_.size(); ++visited, ++start) {
    if (start == origins_.end()) start = origins_.begin();
    Origin& o = start->second;
    if (o.in_flight >= per_origin_cap_ || o.queue.empty()) continue;
    if (o.robots == Robots::Fetching) continue;
    WorkItem item;
    if (o.robots == Robots::Unknown) {
      o.robots = Robots::Fetching;
      item.url = start->first + "/robots.txt";
      item.kind = UrlKind::Robots;
      item.origin = start->first;
    } else {
      item = std::move(o.queue.front());
      o.queue.pop_front();
      --queued_;
    }
    ++o.in_flight;
    ++in_flight_;
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

void Scheduler::robots_known(const std::string& origin) { origins_[origin].robots = Robots::Known; }

size_t Scheduler::in_flight(const std::string& origin) const {
  auto it = origins_.find(origin);
  return it == origins_.end() ? 0 : it->second.in_flight;
}

void Scheduler::clear_queued() {
  for (auto& [name, o] : origins_) o.queue.clear();
  queued_ = 0;
}

}  // namespace kestrel::crawler
