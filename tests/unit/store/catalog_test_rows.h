// Builders for catalog write batches and an owned copy of rows read back,
// shared by the store-sqlite tests.
#ifndef KESTREL_TESTS_UNIT_STORE_CATALOG_TEST_ROWS_H
#define KESTREL_TESTS_UNIT_STORE_CATALOG_TEST_ROWS_H

#include <cstdint>
#include <deque>
#include <kestrel/plugin.hpp>
#include <optional>
#include <string>
#include <vector>

namespace kestrel {
namespace store_test {

// One image to upsert; empty strings become SQL NULL (except url).
struct ImageSpec {
  std::string url = {};
  std::string source_url = {};
  std::string format = "png";
  std::string sha256 = {};       // empty: sha256 of the url
  uint32_t width = 100;          // pixels
  uint32_t height = 50;          // pixels
  uint64_t file_size = 1234;     // bytes
  int64_t crawl_session_id = 0;  // 0: none
  int64_t fetched_at_us = 0;     // 0: the store's now
};

// One crawl session to upsert.
struct SessionSpec {
  std::string key = {};
  int32_t state = KESTREL_SESSION_RUNNING;
  uint64_t pages = 0;
  std::string seeds_json = "[\"http://127.0.0.1/\"]";
};

// One failover_events record (KESTREL_OP_RECORD_FAILOVER); empty strings
// become NULL. The defaults are a valid automatic failover 2 -> 3.
struct FailoverSpec {
  std::string event_key = {};
  std::string kind = "failover";
  std::string from_node = "node-a";
  std::string to_node = "node-b";
  std::string reason = "primary down: 3 probes failed";
  int32_t automatic = 1;
  int32_t succeeded = 1;
  uint64_t epoch_before = 2;
  uint64_t epoch_after = 3;
  int64_t started_at_us = 1760000000000000;   // UTC microseconds
  int64_t finished_at_us = 1760000001500000;  // UTC microseconds (1.5 s later)
  int64_t lost_bytes = 0;                     // bytes; -1: unknown
  int64_t write_pause_ms = -1;                // milliseconds; -1: not measured
  std::string detail = {};
};

// Owns the records and the op array of one batch. Pointers stay valid while
// the Batch lives and no more ops are added.
class Batch {
 public:
  Batch& upsert(const ImageSpec& spec);
  Batch& remove(const std::string& url);
  Batch& session(const SessionSpec& spec);
  // A RECORD_FAILOVER op; `record_size` is the record's struct_size (smaller
  // values play a sender that knows fewer fields).
  Batch& failover(const FailoverSpec& spec, uint32_t record_size = sizeof(kestrel_failover_record));
  // A RECORD_FAILOVER op whose `failover` is NULL.
  Batch& null_failover();
  const kestrel_catalog_op* ops() const { return ops_.data(); }
  size_t size() const { return ops_.size(); }

 private:
  const char* keep(const std::string& s);  // NULL for ""
  std::deque<std::string> strings_;
  std::deque<kestrel_image_record> images_;
  std::deque<kestrel_session_record> sessions_;
  std::deque<kestrel_failover_record> failovers_;
  std::vector<kestrel_catalog_op> ops_;
};

// A failover_events row as read back, owned; std::nullopt for NULL.
struct FailoverRow {
  int64_t id = 0;
  std::string event_key, kind;
  std::optional<std::string> from_node;
  std::string to_node;
  std::optional<std::string> reason;
  int32_t automatic = 0, succeeded = 0;
  uint64_t epoch_before = 0, epoch_after = 0;
  int64_t started_at_us = 0, finished_at_us = 0, lost_bytes = 0, write_pause_ms = 0;
  std::optional<std::string> detail;
};

// Reads failover_events through the catalog, newest first, at most `limit` (0: all).
std::vector<FailoverRow> read_failovers(const CatalogClient& catalog, uint32_t limit = 0);

// An images row as read back, owned.
struct Row {
  int64_t id = 0;
  std::string url = {};
  std::string source_url = {};  // "" for NULL
  std::string format;
  std::string sha256 = {};
  std::string md5;
  uint32_t width = 0;
  uint64_t file_size = 0;
  int64_t crawl_session_id = 0;
  int64_t created_at_us = 0;
  int64_t updated_at_us = 0;
};

// Reads every row matching `query` (streamed, copied as they come).
std::vector<Row> read_rows(const CatalogClient& catalog, const kestrel_image_query& query);

// A zeroed query with struct_size set.
kestrel_image_query all_images();

// Lower-case hex sha256 of `text`.
std::string sha256_hex(const std::string& text);

}  // namespace store_test
}  // namespace kestrel

#endif  // KESTREL_TESTS_UNIT_STORE_CATALOG_TEST_ROWS_H
