#include "catalog_test_rows.h"

#include <Poco/DigestEngine.h>
#include <Poco/SHA2Engine.h>

namespace kestrel {
namespace store_test {

const char* Batch::keep(const std::string& s) {
  if (s.empty()) return nullptr;
  strings_.push_back(s);
  return strings_.back().c_str();
}

Batch& Batch::upsert(const ImageSpec& spec) {
  kestrel_image_record r{};
  r.struct_size = sizeof r;
  r.url = keep(spec.url);
  r.source_url = keep(spec.source_url);
  r.filename = keep(spec.url.substr(spec.url.rfind('/') + 1));
  r.file_path = keep("aa/" + spec.url.substr(spec.url.rfind('/') + 1));
  r.file_size = spec.file_size;
  r.width = spec.width;
  r.height = spec.height;
  r.format = keep(spec.format);
  r.mime_type = keep(spec.format.empty() ? "" : "image/" + spec.format);
  r.md5 = keep("0123456789abcdef0123456789abcdef");
  r.sha256 = keep(spec.sha256.empty() ? sha256_hex(spec.url) : spec.sha256);
  r.etag = keep("\"etag-1\"");
  r.last_modified = keep("Sat, 21 Nov 2026 10:00:00 GMT");
  r.crawl_session_id = spec.crawl_session_id;
  r.fetched_at_us = spec.fetched_at_us;
  images_.push_back(r);
  kestrel_catalog_op op{};
  op.struct_size = sizeof op;
  op.kind = KESTREL_OP_UPSERT_IMAGE;
  op.image = &images_.back();
  ops_.push_back(op);
  return *this;
}

Batch& Batch::remove(const std::string& url) {
  kestrel_image_record r{};
  r.struct_size = sizeof r;
  r.url = keep(url);
  images_.push_back(r);
  kestrel_catalog_op op{};
  op.struct_size = sizeof op;
  op.kind = KESTREL_OP_DELETE_IMAGE;
  op.image = &images_.back();
  ops_.push_back(op);
  return *this;
}

Batch& Batch::session(const SessionSpec& spec) {
  kestrel_session_record s{};
  s.struct_size = sizeof s;
  s.session_key = keep(spec.key);
  s.node_name = keep("test-node");
  s.seeds_json = keep(spec.seeds_json);
  s.state = spec.state;
  s.started_at_us = 1700000000000000;
  s.pages = spec.pages;
  s.errors_json = keep("{}");
  sessions_.push_back(s);
  kestrel_catalog_op op{};
  op.struct_size = sizeof op;
  op.kind = KESTREL_OP_UPSERT_SESSION;
  op.session = &sessions_.back();
  ops_.push_back(op);
  return *this;
}

Batch& Batch::failover(const FailoverSpec& spec, uint32_t record_size) {
  kestrel_failover_record f{};
  f.struct_size = record_size;
  f.event_key = keep(spec.event_key);
  f.kind = keep(spec.kind);
  f.from_node = keep(spec.from_node);
  f.to_node = keep(spec.to_node);
  f.reason = keep(spec.reason);
  f.automatic = spec.automatic;
  f.succeeded = spec.succeeded;
  f.epoch_before = spec.epoch_before;
  f.epoch_after = spec.epoch_after;
  f.started_at_us = spec.started_at_us;
  f.finished_at_us = spec.finished_at_us;
  f.lost_bytes = spec.lost_bytes;
  f.write_pause_ms = spec.write_pause_ms;
  f.detail = keep(spec.detail);
  failovers_.push_back(f);
  kestrel_catalog_op op{};
  op.struct_size = sizeof op;
  op.kind = KESTREL_OP_RECORD_FAILOVER;
  op.failover = &failovers_.back();
  ops_.push_back(op);
  return *this;
}

Batch& Batch::null_failover() {
  kestrel_catalog_op op{};
  op.struct_size = sizeof op;
  op.kind = KESTREL_OP_RECORD_FAILOVER;
  ops_.push_back(op);
  return *this;
}

std::vector<FailoverRow> read_failovers(const CatalogClient& catalog, uint32_t limit) {
  auto opt = [](const char* s) { return s ? std::optional<std::string>(s) : std::nullopt; };
  std::vector<FailoverRow> rows;
  catalog.read_failover_events(0, limit, [&](int64_t id, const kestrel_failover_record& r) {
    FailoverRow row;
    row.id = id;
    row.event_key = r.event_key;
    row.kind = r.kind;
    row.from_node = opt(r.from_node);
    row.to_node = r.to_node;
    row.reason = opt(r.reason);
    row.automatic = r.automatic;
    row.succeeded = r.succeeded;
    row.epoch_before = r.epoch_before;
    row.epoch_after = r.epoch_after;
    row.started_at_us = r.started_at_us;
    row.finished_at_us = r.finished_at_us;
    row.lost_bytes = r.lost_bytes;
    row.write_pause_ms = r.write_pause_ms;
    row.detail = opt(r.detail);
    rows.push_back(row);
    return true;
  });
  return rows;
}

std::vector<Row> read_rows(const CatalogClient& catalog, const kestrel_image_query& query) {
  std::vector<Row> rows;
  catalog.read_images(0, query, [&rows](const kestrel_image_row& r) {
    Row row;
    row.id = r.id;
    row.url = r.record->url;
    row.source_url = r.record->source_url ? r.record->source_url : "";
    row.format = r.record->format ? r.record->format : "";
    row.sha256 = r.record->sha256 ? r.record->sha256 : "";
    row.md5 = r.record->md5 ? r.record->md5 : "";
    row.width = r.record->width;
    row.file_size = r.record->file_size;
    row.crawl_session_id = r.record->crawl_session_id;
    row.created_at_us = r.created_at_us;
    row.updated_at_us = r.updated_at_us;
    rows.push_back(row);
    return true;
  });
  return rows;
}

kestrel_image_query all_images() {
  kestrel_image_query q{};
  q.struct_size = sizeof q;
  return q;
}

std::string sha256_hex(const std::string& text) {
  Poco::SHA2Engine engine(Poco::SHA2Engine::SHA_256);
  engine.update(text);
  return Poco::DigestEngine::digestToHex(engine.digest());
}

}  // namespace store_test
}  // namespace kestrel
