// The wire format between replicator-changelog instances in two kestreld
// daemons (POST /api/changes/{method} on the HA API): JSON for every value a
// CatalogNode call takes or returns. Row images travel as JSON text inside a
// JSON string, so a standby stores exactly the primary's bytes.
//
// Decoders throw Error(KESTREL_ERR_INVALID) naming the missing or mistyped
// field. Any thread.
#ifndef KESTREL_REPLICATOR_CHANGELOG_WIRE_H
#define KESTREL_REPLICATOR_CHANGELOG_WIRE_H

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <string>
#include <vector>

#include "catalog_node.h"

namespace kestrel {
namespace replicator_changelog {
namespace wire {

// {"seq", "commit_seq", "epoch", "table", "op", "row_id", "image" (string or null), "created_at_us"}
Poco::JSON::Array::Ptr entries_json(const std::vector<Entry>& entries);
std::vector<Entry> entries_from(const Poco::JSON::Array::Ptr& a);

// {"role", "source", "promoted_at_seq", "epoch", "head_seq", "first_seq", "commit_seq"}
Poco::JSON::Object::Ptr state_json(const FileState& s);
FileState state_from(const Poco::JSON::Object::Ptr& o);

// [{"id", "image"}...]
Poco::JSON::Array::Ptr rows_json(const std::vector<RowImage>& rows);
std::vector<RowImage> rows_from(const Poco::JSON::Array::Ptr& a);

// {"<table>": {"exists", "rows", "min_id", "max_id", "newest_updated_at" (absent: none),
//              "ranges": {"<index>": {"rows", "md5"}}}}
Poco::JSON::Object::Ptr summary_json(const catalog_schema::CatalogSummary& s);
catalog_schema::CatalogSummary summary_from(const Poco::JSON::Object::Ptr& o);

// Parses `text` as a JSON object / array (INVALID naming `what` otherwise).
Poco::JSON::Object::Ptr parse_object(const std::string& text, const std::string& what);
Poco::JSON::Array::Ptr parse_array(const std::string& text, const std::string& what);
std::string to_text(const Poco::JSON::Object::Ptr& o);

// Typed fields; INVALID naming the field when missing or of another type.
int64_t int_field(const Poco::JSON::Object::Ptr& o, const std::string& name);
std::string string_field(const Poco::JSON::Object::Ptr& o, const std::string& name);
Poco::JSON::Array::Ptr array_field(const Poco::JSON::Object::Ptr& o, const std::string& name);
Poco::JSON::Object::Ptr object_field(const Poco::JSON::Object::Ptr& o, const std::string& name);

}  // namespace wire
}  // namespace replicator_changelog
}  // namespace kestrel

#endif  // KESTREL_REPLICATOR_CHANGELOG_WIRE_H
