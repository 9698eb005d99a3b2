#include "content_workers.h"

#include <pthread.h>
#include <sched.h>

#include <cerrno>
#include <utility>

namespace kestrel::crawler {

ContentWorkers::ContentWorkers(ImagePipeline& pipeline, size_t threads, std::function<void()> wake,
                               int64_t crawl_session_id, bool css)
    : pipeline_(pipeline), wake_(std::move(wake)), crawl_session_id_(crawl_session_id), css_(css) {
  if (threads < 1) threads = 1;
  threads_.reserve(threads);
  for (size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { work(); });
}

ContentWorkers::~ContentWorkers() { shutdown(); }

void ContentWorkers::Semaphore::wait() {
  while (sem_wait(&sem_) != 0 && errno == EINTR) {
  }
}

void ContentWorkers::submit(ContentJob job) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    (job.item.kind == UrlKind::Page ? pages_ : queue_).push_back(std::move(job));
    ++pending_;
  }
  // When every worker is busy this is an atomic increment: a worker finds the
  // job when it comes back for more, with no wake-up system call on the crawl
  // thread's path.
  queued_.post();
}

std::vector<ContentDone> ContentWorkers::take_done() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<ContentDone> out;
  out.swap(done_);
  pending_ -= out.size();
  return out;
}

size_t ContentWorkers::pending() const { return pending_.load(); }

std::vector<WorkItem> ContentWorkers::shutdown() {
  std::vector<WorkItem> dropped;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    for (auto* q : {&pages_, &queue_}) {
      for (auto& job : *q) dropped.push_back(std::move(job.item));
      pending_ -= q->size();
      q->clear();
    }
  }
  for (size_t i = 0; i < threads_.size(); ++i) queued_.post();  // each thread wakes, finds nothing, returns
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
  return dropped;
}

ContentDone ContentWorkers::run(ContentJob& job) const {
  ContentDone done;
  if (job.item.kind == UrlKind::Page) {
    const std::string& url = job.response.effective_url.empty() ? job.item.url : job.response.effective_url;
    done.page = read_page(job.body, job.response.content_type, url, css_);
    done.is_image = done.page.type == PageOutcome::Type::Image;
  } else {
    done.is_image = true;
  }
  if (done.is_image)
    done.image = pipeline_.process(job.body, job.item, job.response, job.known ? &*job.known : nullptr, crawl_session_id_,
                                  job.fetched_at_us);
  return done;
}

void ContentWorkers::work() {
#ifdef SCHED_BATCH
  // Throughput work: a worker woken by submit() should not preempt the crawl
  // thread, whose latency is every transfer's (Linux's SCHED_BATCH).
  sched_param param{};
  param.sched_priority = 0;
  pthread_setschedparam(pthread_self(), SCHED_BATCH, &param);
#endif
  for (;;) {
    ContentJob job;
    queued_.wait();
    {
      std::lock_guard<std::mutex> lock(mu_);
      // Pages first: their links keep the transfers busy; an image waiting a
      // little longer holds nothing up.
      std::deque<ContentJob>& from = pages_.empty() ? queue_ : pages_;
      if (from.empty()) {
        if (stopping_) return;  // a shutdown token (or a dropped job's): nothing left to start
        continue;
      }
      job = std::move(from.front());
      from.pop_front();
    }
    ContentDone done;
    try {
      done = run(job);
    } catch (...) {
      done.error = std::current_exception();
    }
    done.item = std::move(job.item);
    done.response = std::move(job.response);
    job.body.clear();  // free the body (or its spill file) before queueing the result
    {
      std::lock_guard<std::mutex> lock(mu_);
      done_.push_back(std::move(done));
    }
    wake_();
  }
}

}  // namespace kestrel::crawler
