#include "catalog_batch.h"

#include <chrono>
#include <thread>

namespace kestrel::crawler {
namespace {

const char* or_null(const std::string& s) { return s.empty() ? nullptr : s.c_str(); }

kestrel_image_record to_record(const ImageRow& r) {
  kestrel_image_record rec{};
  rec.struct_size = sizeof rec;
  rec.url = r.url.c_str();
  rec.source_url = or_null(r.source_url);
  rec.filename = or_null(r.filename);
  rec.file_path = or_null(r.file_path);
  rec.file_size = r.file_size;
  rec.width = r.width;
  rec.height = r.height;
  rec.format = or_null(r.format);
  rec.mime_type = or_null(r.mime_type);
  rec.md5 = or_null(r.md5);
  rec.sha256 = or_null(r.sha256);
  rec.etag = or_null(r.etag);
  rec.last_modified = or_null(r.last_modified);
  rec.crawl_session_id = r.crawl_session_id;
  rec.fetched_at_us = r.fetched_at_us;
  return rec;
}

kestrel_session_record to_record(const SessionRow& s) {
  kestrel_session_record rec{};
  rec.struct_size = sizeof rec;
  rec.session_key = s.session_key.c_str();
  rec.node_name = or_null(s.node_name);
  rec.seeds_json = s.seeds_json.c_str();
  rec.state = s.state;
  rec.started_at_us = s.started_at_us;
  rec.finished_at_us = s.finished_at_us;
  rec.pages = s.pages;
  rec.images = s.images;
  rec.bytes = s.bytes;
  rec.errors = s.errors;
  rec.errors_json = s.errors_json.c_str();
  return rec;
}

// Runs one catalog write, retrying what the catalog says is retryable.
void write_with_retry(const CatalogClient& catalog, const std::vector<kestrel_catalog_op>& ops) {
  auto delay = std::chrono::milliseconds(100);
  for (int attempt = 0;; ++attempt) {
    try {
      catalog.write(0, ops.data(), ops.size());
      return;
    } catch (const Error& e) {
      const bool retry = e.retryable() || e.code() == KESTREL_ERR_UNAVAILABLE || e.code() == KESTREL_ERR_UNKNOWN_OUTCOME;
      if (!retry || attempt >= 4) throw;
      std::this_thread::sleep_for(delay);
      delay *= 2;
    }
  }
}

}  // namespace

void write_rows(const CatalogClient& catalog, const std::vector<ImageRow>& rows, const SessionRow* session) {
  std::vector<kestrel_image_record> images;
  images.reserve(rows.size());
  for (const auto& r : rows) images.push_back(to_record(r));
  kestrel_session_record sess{};
  std::vector<kestrel_catalog_op> ops;
  ops.reserve(images.size() + 1);
  if (session) {
    sess = to_record(*session);
    ops.push_back(kestrel_catalog_op{sizeof(kestrel_catalog_op), KESTREL_OP_UPSERT_SESSION, nullptr, &sess, nullptr});
  }
  for (const auto& rec : images)
    ops.push_back(kestrel_catalog_op{sizeof(kestrel_catalog_op), KESTREL_OP_UPSERT_IMAGE, &rec, nullptr, nullptr});
  if (!ops.empty()) write_with_retry(catalog, ops);
}

void write_session(const CatalogClient& catalog, const SessionRow& session) {
  kestrel_session_record rec = to_record(session);
  write_with_retry(catalog, {kestrel_catalog_op{sizeof(kestrel_catalog_op), KESTREL_OP_UPSERT_SESSION, nullptr, &rec, nullptr}});
}

}  // namespace kestrel::crawler
