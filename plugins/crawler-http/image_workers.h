// A small pool of threads running the ImagePipeline, so that hashing and the
// blob store's fsync'd commits of one image overlap with the network and with
// other images. The crawl thread submits jobs and collects their outcomes; the
// frontier, the catalog batch and the counters stay on the crawl thread.
//
// Threads: submit/take_done/pending/shutdown from the crawl thread only.
// Started by the constructor, joined by shutdown() or the destructor.
#ifndef KESTREL_CRAWLER_HTTP_IMAGE_WORKERS_H_
#define KESTREL_CRAWLER_HTTP_IMAGE_WORKERS_H_

#include "image_pipeline.h"
#include "scheduler.h"
#include "transfer.h"

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace kestrel::crawler {

// One fetched image body to examine and store.
struct ImageJob {
  WorkItem item;
  TransferResult response;
  std::string body;            // the whole response body (moved in)
  int64_t fetched_at_us = 0;   // UTC microseconds
};

// A finished job: `outcome`, or `error` when the catalog or blob store failed
// (the crawl cannot go on).
struct ImageDone {
  WorkItem item;
  ImageOutcome outcome;
  std::exception_ptr error;
};

class ImageWorkers {
 public:
  // Starts `threads` (>= 1) workers running `pipeline` (must outlive this and
  // be callable from any thread: ImagePipeline is). `wake` is called from a
  // worker after each finished job (e.g. curl_multi_wakeup), any thread.
  ImageWorkers(ImagePipeline& pipeline, size_t threads, std::function<void()> wake,
               int64_t crawl_session_id);
  ImageWorkers(const ImageWorkers&) = delete;
  ImageWorkers& operator=(const ImageWorkers&) = delete;
  ~ImageWorkers();

  void submit(ImageJob job);
  // Finished jobs since the last call, in completion order.
  std::vector<ImageDone> take_done();
  // Jobs submitted and not yet taken back with take_done().
  size_t pending() const;
  size_t threads() const { return threads_.size(); }

  // Drops jobs not yet started (returning their items, which stay queued in
  // the frontier), lets running ones finish (so no blob upload is cut short),
  // and joins the threads. Finished jobs stay available to take_done().
  std::vector<WorkItem> shutdown();

 private:
  void work();

  ImagePipeline& pipeline_;
  std::function<void()> wake_;
  int64_t crawl_session_id_;
  mutable std::mutex mu_;
  std::condition_variable ready_;
  std::deque<ImageJob> queue_;
  std::vector<ImageDone> done_;
  size_t pending_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace kestrel::crawler

#endif  // KESTREL_CRAWLER_HTTP_IMAGE_WORKERS_H_
