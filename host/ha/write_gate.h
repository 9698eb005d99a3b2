// WriteGate: the router's hold on writes during a failover or switchover
// (issue 9 item 6) and the epoch every catalog call carries.
//
// One failover at a time: begin() fails while one runs (the HA API's 409).
// A write waits while a failover runs, bounded by failover_timeout, then
// fails with a retryable UNAVAILABLE; a write whose store call failed with a
// retryable or UNKNOWN_OUTCOME status while a failover ran (or that straddled
// an epoch change) is run again in the new epoch: writes are idempotent
// upserts keyed by URL, so a repeat is safe. Thread-safe; no thread of its own.
#ifndef KESTREL_HOST_HA_WRITE_GATE_H_
#define KESTREL_HOST_HA_WRITE_GATE_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>

namespace kestrel::host::ha {

// How one store call ended, as far as retrying is concerned.
enum class CallOutcome {
  kOk,         // committed
  kRetryable,  // retryable or KESTREL_ERR_UNKNOWN_OUTCOME: safe to repeat (idempotent)
  kFailed      // a final error: returned to the caller as is
};

class WriteGate {
 public:
  explicit WriteGate(uint64_t epoch) : epoch_(epoch) {}

  // Starts holding writes. False when a failover already runs (BUSY).
  bool begin();
  // Stops holding writes; the new epoch (unchanged if the failover failed).
  // Returns how long writes were held, milliseconds.
  int64_t end(uint64_t epoch);

  uint64_t epoch() const;
  bool in_progress() const;

  // Waits up to timeout_ms milliseconds for no failover to run; the epoch
  // to call with, or 0 on timeout (the caller answers retryable UNAVAILABLE).
  uint64_t wait_open(int64_t timeout_ms) const;

  // Runs `call(epoch)` through the gate: waits while a failover runs; repeats
  // a kRetryable outcome if a failover ran meanwhile (or runs now) once it
  // ended. At most timeout_ms milliseconds of waiting in all. Returns the
  // last outcome; kRetryable with *timed_out = true when the gate stayed shut.
  CallOutcome run(const std::function<CallOutcome(uint64_t epoch)>& call, int64_t timeout_ms, bool* timed_out);

 private:
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  uint64_t epoch_;
  bool in_progress_ = false;
  uint64_t generation_ = 0;  // failovers begun, so a call can tell one happened meanwhile
  std::chrono::steady_clock::time_point held_since_;
};

}  // namespace kestrel::host::ha

#endif  // KESTREL_HOST_HA_WRITE_GATE_H_
