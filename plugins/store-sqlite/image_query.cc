#include "image_query.h"

#include <Poco/Data/Statement.h>
#include <Poco/Nullable.h>

#include <kestrel/plugin.hpp>
#include <string>

#include "sqlite_errors.h"

namespace kestrel {
namespace store_sqlite {

using namespace Poco::Data::Keywords;
using Poco::Data::AbstractBindingVec;
using Poco::Data::Session;
using Poco::Data::Statement;

namespace {

// The WHERE clause of `q` and its bound values, in placeholder order.
struct Filter {
  std::string where;
  AbstractBindingVec values;

  Filter(const kestrel_image_query& q, bool paging) {
    if (q.url != nullptr) add("url = ?", bind(std::string(q.url)));
    if (q.sha256 != nullptr) add("sha256 = ?", bind(std::string(q.sha256)));
    if (q.format != nullptr) add("format = ?", bind(std::string(q.format)));
    if (q.crawl_session_id != 0) add("crawl_session_id = ?", bind(Poco::Int64{q.crawl_session_id}));
    if (q.min_width != 0) add("width >= ?", bind(Poco::Int64{q.min_width}));
    if (paging && q.after_id != 0) add("id > ?", bind(Poco::Int64{q.after_id}));
  }

 private:
  void add(const char* condition, Poco::Data::AbstractBinding::Ptr value) {
    where += where.empty() ? " WHERE " : " AND ";
    where += condition;
    values.push_back(value);
  }
};

const char* c_str(const Poco::Nullable<std::string>& s) { return s.isNull() ? nullptr : s.value().c_str(); }

}  // namespace

void stream_images(Session& session, const kestrel_image_query& query,
                   const std::function<bool(const kestrel_image_row&)>& fn) {
  Filter filter(query, true);
  std::string sql =
      "SELECT id, url, source_url, filename, file_path, file_size, width, height, format, mime_type, md5, sha256,"
      " etag, last_modified, category_id, crawl_session_id, created_at, updated_at FROM images" +
      filter.where + " ORDER BY id";
  if (query.limit != 0) sql += " LIMIT " + std::to_string(query.limit);

  Poco::Int64 id = 0, file_size = 0, width = 0, height = 0, created_at = 0, updated_at = 0;
  std::string url;
  Poco::Nullable<std::string> source_url, filename, file_path, format, mime_type, md5, sha256, etag, last_modified;
  Poco::Nullable<Poco::Int64> category_id, crawl_session_id;
  bool more = true;
  try {
    Statement stmt(session);
    stmt << sql, into(id), into(url), into(source_url), into(filename), into(file_path), into(file_size), into(width),
        into(height), into(format), into(mime_type), into(md5), into(sha256), into(etag), into(last_modified),
        into(category_id), into(crawl_session_id), into(created_at), into(updated_at), filter.values,
        range(0, 1);  // one row per execute(): rows stream, none pile up
    while (more && !stmt.done()) {
      if (stmt.execute() == 0) break;
      kestrel_image_record record{};
      record.struct_size = sizeof record;
      record.url = url.c_str();
      record.source_url = c_str(source_url);
      record.filename = c_str(filename);
      record.file_path = c_str(file_path);
      record.file_size = static_cast<uint64_t>(file_size);
      record.width = static_cast<uint32_t>(width);
      record.height = static_cast<uint32_t>(height);
      record.format = c_str(format);
      record.mime_type = c_str(mime_type);
      record.md5 = c_str(md5);
      record.sha256 = c_str(sha256);
      record.etag = c_str(etag);
      record.last_modified = c_str(last_modified);
      record.category_id = category_id.isNull() ? 0 : category_id.value();
      record.crawl_session_id = crawl_session_id.isNull() ? 0 : crawl_session_id.value();
      record.fetched_at_us = updated_at;
      kestrel_image_row row{};
      row.struct_size = sizeof row;
      row.id = id;
      row.record = &record;
      row.created_at_us = created_at;
      row.updated_at_us = updated_at;
      more = fn(row);
    }
  } catch (const Error&) {
    throw;
  } catch (const Poco::Exception&) {
    rethrow_translated("reading images");
  }
}

uint64_t count_images(Session& session, const kestrel_image_query& query) {
  Filter filter(query, false);
  Poco::Int64 count = 0;
  try {
    Statement stmt(session);
    stmt << "SELECT COUNT(*) FROM images" + filter.where, into(count), filter.values;
    stmt.execute();
  } catch (...) {
    rethrow_translated("counting images");
  }
  return static_cast<uint64_t>(count);
}

}  // namespace store_sqlite
}  // namespace kestrel
