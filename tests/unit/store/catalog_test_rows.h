// Builders for catalog write batches and an owned copy of rows read back,
// shared by the store-sqlite tests.
#ifndef KESTREL_TESTS_UNIT_STORE_CATALOG_TEST_ROWS_H
#define KESTREL_TESTS_UNIT_STORE_CATALOG_TEST_ROWS_H

#include <cstdint>
#include <deque>
#include <kestrel/plugin.hpp>
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

// Owns the records and the op array of one batch. Pointers stay valid while
// the Batch lives and no more ops are added.
class Batch {
 public:
  Batch& upsert(const ImageSpec& spec);
  Batch& remove(const std::string& url);
  Batch& session(const SessionSpec& spec);
  const kestrel_catalog_op* ops() const { return ops_.data(); }
  size_t size() const { return ops_.size(); }

 private:
  const char* keep(const std::string& s);  // NULL for ""
  std::deque<std::string> strings_;
  std::deque<kestrel_image_record> images_;
  std::deque<kestrel_session_record> sessions_;
  std::vector<kestrel_catalog_op> ops_;
};

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
