#include "reader_pool.h"

#include <chrono>
#include <kestrel/plugin.hpp>

namespace kestrel {
namespace store_sqlite {

ReaderPool::ReaderPool(std::vector<std::unique_ptr<Poco::Data::Session>> sessions, int64_t wait_ms)
    : size_(sessions.size()), wait_ms_(wait_ms), idle_(std::move(sessions)) {}

ReaderPool::Lease::Lease(ReaderPool& pool, std::unique_ptr<Poco::Data::Session> session)
    : pool_(pool), session_(std::move(session)) {}

ReaderPool::Lease::~Lease() { pool_.give_back(std::move(session_)); }

ReaderPool::Lease ReaderPool::acquire() {
  std::unique_lock<std::mutex> lock(mu_);
  if (!returned_.wait_for(lock, std::chrono::milliseconds(wait_ms_), [this] { return !idle_.empty(); }))
    throw Error(KESTREL_ERR_UNAVAILABLE,
                "all " + std::to_string(size_) + " reader connections stayed busy for " + std::to_string(wait_ms_) +
                    " ms (raise the readers option)",
                true);
  std::unique_ptr<Poco::Data::Session> session = std::move(idle_.back());
  idle_.pop_back();
  return Lease(*this, std::move(session));
}

void ReaderPool::give_back(std::unique_ptr<Poco::Data::Session> session) noexcept {
  {
    std::lock_guard<std::mutex> lock(mu_);
    idle_.push_back(std::move(session));
  }
  returned_.notify_one();
}

}  // namespace store_sqlite
}  // namespace kestrel
