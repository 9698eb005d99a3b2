// JSON pieces of the App API's responses (Poco::JSON, RFC 8259).
#ifndef KESTREL_HOST_API_API_JSON_H_
#define KESTREL_HOST_API_API_JSON_H_

#include <kestrel/plugin.h>

#include <Poco/JSON/Object.h>

#include <string>

namespace kestrel::host {

// A new object that keeps keys in insertion order (readable output).
Poco::JSON::Object::Ptr json_object();

// `o` serialized compactly.
std::string json_text(const Poco::JSON::Object::Ptr& o);

// {"error": message, "status": status}.
std::string json_error(int status, const std::string& message);

// An images row: id, url, source_url, filename, file_path, file_size (bytes),
// width, height (pixels), format, mime_type, md5, sha256, etag,
// last_modified, category_id, crawl_session_id, created_at_us, updated_at_us
// (UTC microseconds). SQL NULL strings become JSON null.
Poco::JSON::Object::Ptr image_json(const kestrel_image_row& row);

}  // namespace kestrel::host

#endif  // KESTREL_HOST_API_API_JSON_H_
