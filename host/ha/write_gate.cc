#include "ha/write_gate.h"

namespace kestrel::host::ha {

bool WriteGate::begin() {
  std::lock_guard<std::mutex> lock(mu_);
  if (in_progress_) return false;
  in_progress_ = true;
  ++generation_;
  held_since_ = std::chrono::steady_clock::now();
  return true;
}

int64_t WriteGate::end(uint64_t epoch) {
  int64_t held_ms;
  {
    std::lock_guard<std::mutex> lock(mu_);
    in_progress_ = false;
    if (epoch > epoch_) epoch_ = epoch;  // epochs only grow
    held_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - held_since_)
                  .count();
  }
  cv_.notify_all();
  return held_ms;
}

uint64_t WriteGate::epoch() const {
  std::lock_guard<std::mutex> lock(mu_);
  return epoch_;
}

bool WriteGate::in_progress() const {
  std::lock_guard<std::mutex> lock(mu_);
  return in_progress_;
}

uint64_t WriteGate::wait_open(int64_t timeout_ms) const {
  std::unique_lock<std::mutex> lock(mu_);
  if (!cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [this] { return !in_progress_; })) return 0;
  return epoch_;
}

CallOutcome WriteGate::run(const std::function<CallOutcome(uint64_t)>& call, int64_t timeout_ms, bool* timed_out) {
  *timed_out = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    uint64_t epoch;
    uint64_t generation;
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (!cv_.wait_until(lock, deadline, [this] { return !in_progress_; })) {
        *timed_out = true;
        return CallOutcome::kRetryable;
      }
      epoch = epoch_;
      generation = generation_;
    }
    CallOutcome outcome = call(epoch);
    if (outcome != CallOutcome::kRetryable) return outcome;
    std::lock_guard<std::mutex> lock(mu_);
    // A retryable error without a failover is the caller's to retry (the
    // crawler backs off); one caused by a failover is ours, after it ends.
    if (!in_progress_ && generation_ == generation) return outcome;
  }
}

}  // namespace kestrel::host::ha
