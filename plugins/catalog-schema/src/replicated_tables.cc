#include <catalog_schema/replicated_tables.h>

#include <kestrel/plugin.hpp>

namespace kestrel {
namespace catalog_schema {

const std::vector<ReplicatedTable>& replicated_tables() {
  static const std::vector<ReplicatedTable> kTables = {
      {"categories", {"id", "name", "parent_id", "created_at"}, true},
      {"crawl_sessions",
       {"id", "session_key", "node_name", "seeds", "state", "started_at", "finished_at", "pages", "images", "bytes",
        "errors", "errors_json", "updated_at"}},
      {"images",
       {"id", "url", "source_url", "filename", "file_path", "file_size", "width", "height", "format", "mime_type",
        "md5", "sha256", "etag", "last_modified", "category_id", "crawl_session_id", "created_at", "updated_at"}},
      {"failover_events",
       {"id", "event_key", "kind", "from_node", "to_node", "reason", "automatic", "succeeded", "epoch_before",
        "epoch_after", "started_at", "finished_at", "duration_ms", "lost_bytes", "write_pause_ms", "detail",
        "created_at"}},
  };
  return kTables;
}

size_t replicated_table_rank(const std::string& name) {
  const auto& all = replicated_tables();
  for (size_t i = 0; i < all.size(); ++i)
    if (name == all[i].name) return i;
  throw Error(KESTREL_ERR_INVALID, "change log entry for table '" + name + "', which is not replicated");
}

const ReplicatedTable& replicated_table(const std::string& name) {
  return replicated_tables()[replicated_table_rank(name)];
}

std::string sqlite_row_image(const ReplicatedTable& t, const char* prefix) {
  std::string s = "json_object(";
  for (size_t i = 0; i < t.columns.size(); ++i) {
    if (i) s += ", ";
    s += std::string("'") + t.columns[i] + "', " + prefix + t.columns[i];
  }
  return s + ")";
}

}  // namespace catalog_schema
}  // namespace kestrel
