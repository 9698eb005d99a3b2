#include "catalog_committer.h"

#include <iterator>
#include <utility>

namespace kestrel::crawler {

CatalogCommitter::CatalogCommitter(CatalogClient catalog, BlobStoreClient files, std::function<void()> wake)
    : catalog_(catalog), files_(files), wake_(std::move(wake)), thread_([this] { work(); }) {}

CatalogCommitter::~CatalogCommitter() { abandon(); }

void CatalogCommitter::submit(std::vector<ImageRow> rows, std::optional<SessionRow> session) {
  std::unique_lock<std::mutex> lock(mu_);
  changed_.wait(lock, [this] { return queue_.size() < kMaxQueued || error_ || stopping_; });
  queue_.push_back(Batch{std::move(rows), std::move(session)});
  changed_.notify_all();
}

std::vector<int64_t> CatalogCommitter::take_written() {
  std::lock_guard<std::mutex> lock(mu_);
  if (error_) std::rethrow_exception(error_);
  return std::exchange(written_, {});
}

uint64_t CatalogCommitter::groups_written() const {
  std::lock_guard<std::mutex> lock(mu_);
  return groups_;
}

void CatalogCommitter::finish() {
  std::unique_lock<std::mutex> lock(mu_);
  changed_.wait(lock, [this] { return (queue_.empty() && !writing_) || error_; });
}

void CatalogCommitter::abandon() noexcept {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    queue_.clear();
  }
  changed_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void CatalogCommitter::work() {
  for (;;) {
    Batch batch;
    {
      std::unique_lock<std::mutex> lock(mu_);
      changed_.wait(lock, [this] { return stopping_ || (!queue_.empty() && !error_); });
      if (stopping_) return;
      batch = std::move(queue_.front());
      queue_.pop_front();
      for (; !queue_.empty(); queue_.pop_front()) {  // the group: everything queued meanwhile, in order
        Batch& next = queue_.front();
        batch.rows.insert(batch.rows.end(), std::make_move_iterator(next.rows.begin()),
                          std::make_move_iterator(next.rows.end()));
        if (next.session) batch.session = std::move(next.session);  // counters only grow: the latest wins
      }
      writing_ = true;
    }
    std::exception_ptr failed;
    try {
      // The rows name files committed with commit_deferred: durable first.
      if (!batch.rows.empty()) files_.sync();
      write_rows(catalog_, batch.rows, batch.session ? &*batch.session : nullptr);
    } catch (...) {
      failed = std::current_exception();
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      writing_ = false;
      if (failed) {
        error_ = failed;
        queue_.clear();  // written after a failed one, they could not be trusted to be ordered
      } else {
        for (const auto& r : batch.rows) written_.push_back(r.frontier_id);
        ++groups_;
      }
    }
    changed_.notify_all();
    wake_();
  }
}

}  // namespace kestrel::crawler
