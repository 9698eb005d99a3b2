#include "ha/health_monitor.h"

#include <chrono>

namespace kestrel::host::ha {

HealthMonitor::HealthMonitor(MonitorOptions options, Probe probe, OnCheck on_check)
    : options_(options), probe_(std::move(probe)), on_check_(std::move(on_check)) {}

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
    for (const HealthTracker& t : trackers_) views.push_back(t.view());
  }
  if (on_check_) on_check_(views, changed);
}

void HealthMonitor::wake() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    // While a node is suspect the thread already checks every retry_interval;
    // an early check then would only count failures faster than the operator
    // asked for (a failing writer wakes the monitor on each retry: three
    // failures within ~150 ms instead of three retry_intervals).
    for (const HealthTracker& t : trackers_) {
      if (t.suspect(options_)) return;
    }
    woken_ = true;
  }
  cv_.notify_all();
}

void HealthMonitor::alarm() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    woken_ = true;
  }
  cv_.notify_all();
}

void HealthMonitor::run() {
  for (;;) {
    check_once();
    std::unique_lock<std::mutex> lock(mu_);
    std::vector<const HealthTracker*> all;
    for (const HealthTracker& t : trackers_) all.push_back(&t);
    const auto delay = std::chrono::milliseconds(next_delay_ms(all, options_));
    cv_.wait_for(lock, delay, [this] { return stopping_ || woken_; });
    if (stopping_) return;
    woken_ = false;
  }
}

}  // namespace kestrel::host::ha
