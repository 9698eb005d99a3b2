// Writes the crawl's image rows on a thread of its own, so the crawl thread
// never waits for the disk: per batch, the blob store's group-commit sync
// (the batch's files become durable) and then the catalog write of the rows
// (and the session row), in submission order. The crawl thread collects which
// frontier entries are now safe to mark done.
//
// Group commit of batches: the writing thread takes every batch queued while
// it was busy and writes them as one group (one sync, one catalog write, the
// latest session row), so a disk that slows down makes groups larger instead
// of making the crawl thread wait. Measured before this, under a 20 ms server
// delay: the crawl thread sat blocked in submit() up to 0.35 s per crawl
// while syncs took 0.8 s, and its request turnaround doubled.
//
// Threads: every method from the crawl thread; the writing thread is started
// by the constructor and joined by finish() or the destructor.
#ifndef KESTREL_CRAWLER_HTTP_CATALOG_COMMITTER_H_
#define KESTREL_CRAWLER_HTTP_CATALOG_COMMITTER_H_

#include "catalog_batch.h"

#include <kestrel/plugin.hpp>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace kestrel::crawler {

class CatalogCommitter {
 public:
  // `catalog` and `files` must outlive this. `wake` is called from the
  // writing thread after each batch (e.g. curl_multi_wakeup), any thread.
  CatalogCommitter(CatalogClient catalog, BlobStoreClient files, std::function<void()> wake);
  CatalogCommitter(const CatalogCommitter&) = delete;
  CatalogCommitter& operator=(const CatalogCommitter&) = delete;
  ~CatalogCommitter();

  // Queues a batch: `rows` (their files committed with commit_deferred) and
  // the session row if any. Waits only while kMaxQueued batches are queued
  // (the disk is a whole group behind): then a slow disk slows the crawl
  // instead of piling up rows and open deferred uploads.
  void submit(std::vector<ImageRow> rows, std::optional<SessionRow> session);

  // Frontier ids of the rows written since the last call, in order. Throws
  // the first failure (a kestrel::Error of the blob store or the catalog):
  // the batches after it are not written, their entries stay queued.
  std::vector<int64_t> take_written();

  // Catalog writes done so far (each holding one or more batches).
  uint64_t groups_written() const;

  // Waits until every submitted batch is written or has failed; the results
  // are left for take_written().
  void finish();

  // Drops the batches not yet started and joins the thread. Never throws.
  void abandon() noexcept;

 private:
  struct Batch {
    std::vector<ImageRow> rows;
    std::optional<SessionRow> session;
  };
  // Queued behind the group being written. With 64-row batches at most
  // ~(kMaxQueued + 1) x 64 deferred uploads are open, well under 1024 files.
  static constexpr size_t kMaxQueued = 6;

  void work();

  CatalogClient catalog_;
  BlobStoreClient files_;
  std::function<void()> wake_;
  mutable std::mutex mu_;
  std::condition_variable changed_;
  std::deque<Batch> queue_;
  bool writing_ = false;  // the thread holds a batch
  bool stopping_ = false;
  std::vector<int64_t> written_;
  uint64_t groups_ = 0;
  std::exception_ptr error_;
  std::thread thread_;
};

}  // namespace kestrel::crawler

#endif  // KESTREL_CRAWLER_HTTP_CATALOG_COMMITTER_H_
