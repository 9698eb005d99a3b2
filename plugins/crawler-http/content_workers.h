// A small pool of threads doing the CPU and disk work of fetched bodies, so
// that it overlaps with the network and spreads over the cores: pages are
// typed, decoded and their links extracted (PageReader); images are sniffed,
// measured, hashed and stored (ImagePipeline, whose blob commits fsync). The
// crawl thread submits jobs and collects their outcomes; the frontier, the
// catalog batch and the counters stay on the crawl thread.
//
// Threads: submit/take_done/pending/shutdown from the crawl thread only.
// Started by the constructor, joined by shutdown() or the destructor.
#ifndef KESTREL_CRAWLER_HTTP_CONTENT_WORKERS_H_
#define KESTREL_CRAWLER_HTTP_CONTENT_WORKERS_H_

#include "body.h"
#include "image_pipeline.h"
#include "page_reader.h"
#include "scheduler.h"
#include "transfer.h"

#include <semaphore.h>

#include <atomic>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace kestrel::crawler {

// One fetched body to examine: a page (item.kind Page) or an image (Image).
struct ContentJob {
  WorkItem item;
  TransferResult response;
  Body body;                 // the whole response body (moved in)
  std::optional<CatalogedImage> known;  // images: the catalog row read before the request (else the pipeline reads it)
  int64_t fetched_at_us = 0; // UTC microseconds
};

// A finished job. `error` is set when the catalog or the blob store failed,
// or a spilled body could not be read (the crawl cannot go on); else
// page.type says what the body was, and for an image (an Image job, or a
// page that was an image) `image` holds the pipeline's outcome.
struct ContentDone {
  WorkItem item;
  TransferResult response;
  PageOutcome page;    // Page jobs only
  bool is_image = false;
  ImageOutcome image;  // when is_image
  std::exception_ptr error;
};

class ContentWorkers {
 public:
  // Starts `threads` (>= 1) workers. `pipeline` must outlive this and be
  // callable from any thread (ImagePipeline is). `wake` is called from a
  // worker after each finished job (e.g. curl_multi_wakeup), any thread.
  // css: pages' <style> and style="" are read for url()s.
  ContentWorkers(ImagePipeline& pipeline, size_t threads, std::function<void()> wake, int64_t crawl_session_id,
                 bool css);
  ContentWorkers(const ContentWorkers&) = delete;
  ContentWorkers& operator=(const ContentWorkers&) = delete;
  ~ContentWorkers();

  void submit(ContentJob job);
  // Finished jobs since the last call, in completion order.
  std::vector<ContentDone> take_done();
  // Jobs submitted and not yet taken back with take_done().
  size_t pending() const;
  size_t threads() const { return threads_.size(); }

  // Drops jobs not yet started (returning their items, which stay queued in
  // the frontier), lets running ones finish (so no blob upload is cut short),
  // and joins the threads. Finished jobs stay available to take_done().
  std::vector<WorkItem> shutdown();

 private:
  void work();
  ContentDone run(ContentJob& job) const;

  ImagePipeline& pipeline_;
  std::function<void()> wake_;
  int64_t crawl_session_id_;
  bool css_;
  // Counts jobs queued (plus one token per thread at shutdown). A POSIX semaphore rather than a
  // condition variable: sem_post never blocks, while glibc's pthread_cond_signal can wait for an
  // earlier-woken waiter to run, and workers run under SCHED_BATCH on busy cores. Measured before the
  // change: the crawl thread blocked 213 times in notify_one, 0.1 s per delayed crawl on 2 cores.
  class Semaphore {
   public:
    Semaphore() { sem_init(&sem_, 0, 0); }
    ~Semaphore() { sem_destroy(&sem_); }
    Semaphore(const Semaphore&) = delete;
    Semaphore& operator=(const Semaphore&) = delete;
    void post() { sem_post(&sem_); }  // a futex wake only when a thread waits
    void wait();                      // retries on EINTR
   private:
    sem_t sem_;
  };

  mutable std::mutex mu_;
  Semaphore queued_;
  std::deque<ContentJob> pages_;  // page jobs, taken before
  std::deque<ContentJob> queue_;  // image jobs
  std::vector<ContentDone> done_;
  std::atomic<size_t> pending_{0};  // written under mu_; read without it by pending()
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace kestrel::crawler

#endif  // KESTREL_CRAWLER_HTTP_CONTENT_WORKERS_H_
