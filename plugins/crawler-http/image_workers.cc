#include "image_workers.h"

#include <utility>

namespace kestrel::crawler {

ImageWorkers::ImageWorkers(ImagePipeline& pipeline, size_t threads, std::function<void()> wake,
                           int64_t crawl_session_id)
    : pipeline_(pipeline), wake_(std::move(wake)), crawl_session_id_(crawl_session_id) {
  if (threads < 1) threads = 1;
  threads_.reserve(threads);
  for (size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { work(); });
}

ImageWorkers::~ImageWorkers() { shutdown(); }

void ImageWorkers::submit(ImageJob job) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(std::move(job));
    ++pending_;
  }
  ready_.notify_one();
}

std::vector<ImageDone> ImageWorkers::take_done() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<ImageDone> out;
  out.swap(done_);
  pending_ -= out.size();
  return out;
}

size_t ImageWorkers::pending() const {
  std::lock_guard<std::mutex> lock(mu_);
  return pending_;
}

std::vector<WorkItem> ImageWorkers::shutdown() {
  std::vector<WorkItem> dropped;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    for (auto& job : queue_) dropped.push_back(std::move(job.item));
    pending_ -= queue_.size();
    queue_.clear();
  }
  ready_.notify_all();
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
  return dropped;
}

void ImageWorkers::work() {
  for (;;) {
    ImageJob job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and nothing left to start
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    ImageDone done;
    try {
      done.outcome = pipeline_.process(job.body, job.item, job.response, crawl_session_id_, job.fetched_at_us);
    } catch (...) {
      done.error = std::current_exception();
    }
    done.item = std::move(job.item);
    {
      std::string().swap(job.body);  // free the body before queueing the (small) result
      std::lock_guard<std::mutex> lock(mu_);
      done_.push_back(std::move(done));
    }
    wake_();
  }
}

}  // namespace kestrel::crawler
