// catalog_schema/replicated_tables.h — the catalog tables the change log
// replicates (DESIGN §5), with their columns in schema order, for the
// capture triggers of migration 3 and for the replicator that applies row
// images on a standby. One list, so that a column added by a later
// migration is added here once (and captured and applied alike).
//
// A row image is a JSON object {"column": value, ...} of every column below
// (NULL as JSON null), keyed by the row's `id`.
#ifndef KESTREL_CATALOG_SCHEMA_REPLICATED_TABLES_H
#define KESTREL_CATALOG_SCHEMA_REPLICATED_TABLES_H

#include <string>
#include <vector>

namespace kestrel {
namespace catalog_schema {

struct ReplicatedTable {
  const char* name;
  std::vector<const char*> columns;  // "id" first
  // A row may reference another row of this table (categories.parent_id),
  // possibly one with a higher id: a copy writes the whole table in one
  // statement, since foreign keys hold at each statement's end.
  bool self_referencing = false;
};

// In the order a standby applies a batch's rows safely (parents before the
// rows that reference them; the change log keeps the primary's order anyway).
const std::vector<ReplicatedTable>& replicated_tables();

// The replicated table `name`; throws kestrel::Error(KESTREL_ERR_INVALID)
// for a table that is not replicated (a change log entry naming it). Any thread.
const ReplicatedTable& replicated_table(const std::string& name);
// Its place in replicated_tables() (parents before children); throws as replicated_table.
size_t replicated_table_rank(const std::string& name);

// The SQLite text of `json_object('id', <prefix>id, ...)` over `t`'s columns
// (prefix "NEW." or "OLD." in a trigger). Any thread.
std::string sqlite_row_image(const ReplicatedTable& t, const char* prefix);

// replication_state.role values (one row, id = 1): what this catalog file is.
//   none     not replicated (a single catalog): no capture, writes allowed
//   primary  its writes are captured into change_log
//   standby  only the replicator's apply may write (writes raise kReadOnlyMessage)
//   fenced   a former primary: no writes at all
//   applying set by the replicator inside its apply transaction only
inline constexpr const char* kReadOnlyMessage = "kestrel: read-only catalog (a standby or a fenced former primary)";

}  // namespace catalog_schema
}  // namespace kestrel

#endif  // KESTREL_CATALOG_SCHEMA_REPLICATED_TABLES_H
