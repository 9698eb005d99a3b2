// Image rows waiting to be written to the catalog, and the write of a batch
// (one catalog `write` of several KESTREL_OP_UPSERT_IMAGE ops, plus
// optionally the crawl_sessions row), retrying retryable failures.
//
// A CatalogBatch is used by one thread (the crawl thread); write_rows and
// write_session by any (the catalog may be called from any thread).
#ifndef KESTREL_CRAWLER_HTTP_CATALOG_BATCH_H_
#define KESTREL_CRAWLER_HTTP_CATALOG_BATCH_H_

#include <kestrel/plugin.hpp>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace kestrel::crawler {

// One images row, owning its strings (kestrel_image_record borrows them).
struct ImageRow {
  int64_t frontier_id = 0;  // frontier entry to mark done once the row is committed
  std::string url, source_url, filename, file_path, format, mime_type, md5, sha256, etag, last_modified;
  uint64_t file_size = 0;   // bytes
  uint32_t width = 0;       // pixels
  uint32_t height = 0;      // pixels
  int64_t crawl_session_id = 0;
  int64_t fetched_at_us = 0;  // UTC microseconds
};

// A crawl_sessions row, owning its strings.
struct SessionRow {
  std::string session_key, node_name, seeds_json, errors_json;
  kestrel_session_state state = KESTREL_SESSION_RUNNING;
  int64_t started_at_us = 0;   // UTC microseconds
  int64_t finished_at_us = 0;  // UTC microseconds, 0 while running
  uint64_t pages = 0, images = 0, bytes = 0, errors = 0;
};

class CatalogBatch {
 public:
  // `catalog` must outlive the batch; batch_size >= 1 rows per write.
  CatalogBatch(CatalogClient catalog, size_t batch_size) : catalog_(catalog), batch_size_(batch_size) {}

  void add(ImageRow row) { rows_.push_back(std::move(row)); }
  bool full() const { return rows_.size() >= batch_size_; }
  bool empty() const { return rows_.empty(); }
  size_t size() const { return rows_.size(); }

  // Moves the pending rows out (the batch is left empty).
  std::vector<ImageRow> take() { return std::exchange(rows_, {}); }

  // Drops the pending rows (their frontier entries stay queued: fetched again on resume).
  void clear() { rows_.clear(); }

 private:
  CatalogClient catalog_;
  size_t batch_size_;
  std::vector<ImageRow> rows_;
};

// Writes `rows` (and `session` if non-null) atomically in one catalog write.
// Retryable failures (KESTREL_ERR_UNAVAILABLE, KESTREL_ERR_UNKNOWN_OUTCOME:
// the upserts are idempotent) are retried up to 4 times, 0.1-1.6 s apart.
// Throws the last kestrel::Error otherwise. Any thread.
void write_rows(const CatalogClient& catalog, const std::vector<ImageRow>& rows, const SessionRow* session);

// Writes one session row on its own (same retry rules as write_rows).
void write_session(const CatalogClient& catalog, const SessionRow& session);

}  // namespace kestrel::crawler

#endif  // KESTREL_CRAWLER_HTTP_CATALOG_BATCH_H_
