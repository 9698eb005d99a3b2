#include "pg_pool.h"

#include <chrono>
#include <kestrel/plugin.hpp>

namespace kestrel {
namespace store_postgres {

std::unique_ptr<PgPool::Lease> PgPool::acquire() {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::milliseconds(options_.connect_timeout_ms);
  std::vector<std::unique_ptr<PgConnection>> expired;  // closed outside the lock
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    const auto now = Clock::now();
    // Close connections idle past idle_timeout (oldest first in the vector).
    while (!idle_.empty() && now - idle_.front()->last_used > std::chrono::milliseconds(options_.idle_timeout_ms)) {
      expired.push_back(std::move(idle_.front()));
      idle_.erase(idle_.begin());
      --open_;
    }
    if (!idle_.empty()) {
      std::unique_ptr<PgConnection> c = std::move(idle_.back());
      idle_.pop_back();
      lock.unlock();
      expired.clear();
      return std::make_unique<Lease>(*this, std::move(c));
    }
    if (open_ < options_.pool_size) {
      ++open_;
      lock.unlock();
      expired.clear();
      try {
        return std::make_unique<Lease>(*this, std::make_unique<PgConnection>(options_));
      } catch (...) {
        std::lock_guard<std::mutex> relock(mu_);
        --open_;
        returned_.notify_one();
        throw;
      }
    }
    if (returned_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() && open_ >= options_.pool_size)
      throw Error(KESTREL_ERR_UNAVAILABLE,
                  options_.server + ": all " + std::to_string(options_.pool_size) +
                      " pooled connections stayed busy for " + std::to_string(options_.connect_timeout_ms) +
                      " ms (raise pool_size)",
                  true);
  }
}

int PgPool::open_count() {
  std::lock_guard<std::mutex> lock(mu_);
  return open_;
}

void PgPool::give_back(std::unique_ptr<PgConnection> conn) noexcept {
  if (!conn) return;
  conn->rollback();
  const bool keep = !conn->broken();
  if (keep) {
    conn->take_notices();
    conn->last_used = std::chrono::steady_clock::now();
  } else {
    conn.reset();  // closed outside the lock
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (keep)
    idle_.push_back(std::move(conn));
  else
    --open_;
  returned_.notify_one();
}

}  // namespace store_postgres
}  // namespace kestrel
