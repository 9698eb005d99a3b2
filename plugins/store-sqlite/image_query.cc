#include "image_query.h"

#include <Poco/Data/SQLite/Utility.h>

#include <kestrel/plugin.hpp>
#include <string>
#include <variant>
#include <vector>

#include "sqlite_errors.h"

namespace kestrel {
namespace store_sqlite {
namespace {

// The WHERE clause of `q` ("" or " WHERE ... AND ...", ? placeholders) and
// the values to bind, in placeholder order. paging: also after_id.
struct Filter {
  std::string where;
  std::vector<std::variant<std::string, int64_t>> values;

  Filter(const kestrel_image_query& q, bool paging) {
    if (q.url != nullptr) add("url = ?", std::string(q.url));
    if (q.sha256 != nullptr) add("sha256 = ?", std::string(q.sha256));
    if (q.format != nullptr) add("format = ?", std::string(q.format));
    if (q.crawl_session_id != 0) add("crawl_session_id = ?", q.crawl_session_id);
    if (q.min_width != 0) add("width >= ?", static_cast<int64_t>(q.min_width));
    if (paging && q.after_id != 0) add("id > ?", q.after_id);
  }

  // Binds the values to placeholders 1..n of `stmt` (borrowed: the filter
  // must outlive the statement's use).
  void bind(sqlite3_stmt* stmt) const {
    int i = 1;
    for (const auto& v : values) {
      if (const auto* text = std::get_if<std::string>(&v)) {
        sqlite3_bind_text(stmt, i++, text->data(), static_cast<int>(text->size()), SQLITE_STATIC);
      } else {
        sqlite3_bind_int64(stmt, i++, std::get<int64_t>(v));
      }
    }
  }

 private:
  void add(const char* condition, std::variant<std::string, int64_t> value) {
    where += where.empty() ? " WHERE " : " AND ";
    where += condition;
    values.push_back(std::move(value));
  }
};

const char* column_or_null(sqlite3_stmt* s, int i) {
  return sqlite3_column_type(s, i) == SQLITE_NULL ? nullptr : reinterpret_cast<const char*>(sqlite3_column_text(s, i));
}

// Resets a cached statement however the loop ends, so it never holds a read
// snapshot (which would keep WAL checkpoints from finishing) between calls.
struct ResetOnExit {
  sqlite3_stmt* stmt;
  ~ResetOnExit() {
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
  }
};

}  // namespace

void stream_images(ReaderPool::Lease& lease, const kestrel_image_query& query,
                   const std::function<bool(const kestrel_image_row&)>& fn) {
  // Raw SQLite with a statement prepared once per reader connection and query
  // shape: the crawler looks up one URL per image it fetches, and building a
  // Poco Data statement for it (prepare, 18 typed extractions) cost ~80 us.
  const Filter filter(query, true);
  const std::string sql =
      "SELECT id, url, source_url, filename, file_path, file_size, width, height, format, mime_type, md5, sha256,"
      " etag, last_modified, category_id, crawl_session_id, created_at, updated_at FROM images" +
      filter.where + " ORDER BY id LIMIT ?";
  try {
    sqlite3* db = Poco::Data::SQLite::Utility::dbHandle(lease.session());
    sqlite3_stmt* s = lease.statements().get(db, sql);
    ResetOnExit reset{s};
    filter.bind(s);
    sqlite3_bind_int64(s, static_cast<int>(filter.values.size()) + 1,
                       query.limit != 0 ? static_cast<int64_t>(query.limit) : -1);  // -1: no limit
    for (;;) {
      const int rc = sqlite3_step(s);
      if (rc == SQLITE_DONE) return;
      if (rc != SQLITE_ROW) Poco::Data::SQLite::Utility::throwException(db, rc, "reading images");
      kestrel_image_record record{};
      record.struct_size = sizeof record;
      record.url = reinterpret_cast<const char*>(sqlite3_column_text(s, 1));
      record.source_url = column_or_null(s, 2);
      record.filename = column_or_null(s, 3);
      record.file_path = column_or_null(s, 4);
      record.file_size = static_cast<uint64_t>(sqlite3_column_int64(s, 5));
      record.width = static_cast<uint32_t>(sqlite3_column_int64(s, 6));
      record.height = static_cast<uint32_t>(sqlite3_column_int64(s, 7));
      record.format = column_or_null(s, 8);
      record.mime_type = column_or_null(s, 9);
      record.md5 = column_or_null(s, 10);
      record.sha256 = column_or_null(s, 11);
      record.etag = column_or_null(s, 12);
      record.last_modified = column_or_null(s, 13);
      record.category_id = sqlite3_column_int64(s, 14);  // NULL reads as 0
      record.crawl_session_id = sqlite3_column_int64(s, 15);
      record.fetched_at_us = sqlite3_column_int64(s, 17);
      kestrel_image_row row{};
      row.struct_size = sizeof row;
      row.id = sqlite3_column_int64(s, 0);
      row.record = &record;
      row.created_at_us = sqlite3_column_int64(s, 16);
      row.updated_at_us = record.fetched_at_us;
      if (!fn(row)) return;
    }
  } catch (const Error&) {
    throw;
  } catch (const Poco::Exception&) {
    rethrow_translated("reading images");
  }
}

uint64_t count_images(ReaderPool::Lease& lease, const kestrel_image_query& query) {
  const Filter filter(query, false);
  try {
    sqlite3* db = Poco::Data::SQLite::Utility::dbHandle(lease.session());
    sqlite3_stmt* s = lease.statements().get(db, "SELECT COUNT(*) FROM images" + filter.where);
    ResetOnExit reset{s};
    filter.bind(s);
    const int rc = sqlite3_step(s);
    if (rc != SQLITE_ROW) Poco::Data::SQLite::Utility::throwException(db, rc, "counting images");
    return static_cast<uint64_t>(sqlite3_column_int64(s, 0));
  } catch (...) {
    rethrow_translated("counting images");
  }
}

}  // namespace store_sqlite
}  // namespace kestrel
