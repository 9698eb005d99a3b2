#include "api/api_json.h"

#include <kestrel/plugin.hpp>

#include <sstream>

namespace kestrel::host {
namespace {

Poco::Dynamic::Var text_or_null(const char* s) {
  if (s == nullptr) return Poco::Dynamic::Var();
  return std::string(s);
}

}  // namespace

Poco::JSON::Object::Ptr json_object() { return new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER); }

std::string json_text(const Poco::JSON::Object::Ptr& o) {
  std::ostringstream out;
  o->stringify(out);
  return out.str();
}

std::string json_error(int status, const std::string& message) {
  Poco::JSON::Object::Ptr o = json_object();
  o->set("error", message);
  o->set("status", status);
  return json_text(o);
}

Poco::JSON::Object::Ptr image_json(const kestrel_image_row& row) {
  const kestrel_image_record r = copy_in(row.record);  // the store may be older: missing tail fields read 0
  Poco::JSON::Object::Ptr o = json_object();
  o->set("id", static_cast<Poco::Int64>(row.id));
  o->set("url", text_or_null(r.url));
  o->set("source_url", text_or_null(r.source_url));
  o->set("filename", text_or_null(r.filename));
  o->set("file_path", text_or_null(r.file_path));
  o->set("file_size", static_cast<Poco::UInt64>(r.file_size));
  o->set("width", r.width);
  o->set("height", r.height);
  o->set("format", text_or_null(r.format));
  o->set("mime_type", text_or_null(r.mime_type));
  o->set("md5", text_or_null(r.md5));
  o->set("sha256", text_or_null(r.sha256));
  o->set("etag", text_or_null(r.etag));
  o->set("last_modified", text_or_null(r.last_modified));
  o->set("category_id", static_cast<Poco::Int64>(r.category_id));
  o->set("crawl_session_id", static_cast<Poco::Int64>(r.crawl_session_id));
  o->set("created_at_us", static_cast<Poco::Int64>(row.created_at_us));
  o->set("updated_at_us", static_cast<Poco::Int64>(row.updated_at_us));
  return o;
}

}  // namespace kestrel::host
