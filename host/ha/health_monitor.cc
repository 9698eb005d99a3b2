#include "ha/health_monitor.h"

#include <chrono>

namespace kestrel::host::ha {

HealthMonitor::HealthMonitor(MonitorOptions options, Probe probe, OnChange on_change)
    : options_(options), probe_(std::move(probe)), on_change_(std::move(on_change)) {}

void HealthMonitor::start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
}

void HealthMonitor::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::vector<NodeView> HealthMonitor::snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<NodeView> out;
  for (const HealthTracker& t : trackers_) out.push_back(t.view());
  return out;
}

void HealthMonitor::check_once() {
  // The probe blocks (up to health_check_timeout per node): never under mu_.
  std::vector<CheckResult> results = probe_();
  bool changed = false;
  std::vector<NodeView> views;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const CheckResult& r : results) {
      HealthTracker* tracker = nullptr;
      for (HealthTracker& t : trackers_) {
        if (t.view().name == r.name) tracker = &t;
      }
      if (tracker == nullptr) tracker = &trackers_.emplace_back(r.name);
      changed = tracker->record(r, options_) || changed;
    }
    if (changed) {
      for (const HealthTracker& t : trackers_) views.push_back(t.view());
    }
  }
  if (changed && on_change_) on_change_(views);
}

void HealthMonitor::run() {
  for (;;) {
    check_once();
    std::unique_lock<std::mutex> lock(mu_);
    std::vector<const HealthTracker*> all;
    for (const HealthTracker& t : trackers_) all.push_back(&t);
    const auto delay = std::chrono::milliseconds(next_delay_ms(all, options_));
    if (cv_.wait_for(lock, delay, [this] { return stopping_; })) return;
  }
}

}  // namespace kestrel::host::ha
