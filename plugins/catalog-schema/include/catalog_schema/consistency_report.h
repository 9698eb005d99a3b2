// The consistency check's comparison, shared by the replicators (DESIGN §5):
// replicator-pg compares two PostgreSQL servers at a common WAL position,
// replicator-changelog two catalog files at a common change-log position.
// Each reads a CatalogSummary per node in one snapshot (how is its own: the
// checksum of a range is over each dialect's canonical row text, the same
// on both nodes of one replicator); this compares them and writes the
// report's "tables" object, so both reports have one shape.
//
// Range r of a table holds the ids (r * range_size, (r + 1) * range_size].
#ifndef KESTREL_CATALOG_SCHEMA_CONSISTENCY_REPORT_H
#define KESTREL_CATALOG_SCHEMA_CONSISTENCY_REPORT_H

#include <Poco/JSON/Object.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace kestrel {
namespace catalog_schema {

struct RangeChecksum {
  int64_t rows = 0;
  std::string md5;  // hex, over the range's rows in id order
};

struct TableSummary {
  bool exists = true;
  int64_t rows = 0;
  std::optional<int64_t> min_id, max_id;
  std::optional<int64_t> newest_updated_at;  // UTC microseconds; absent without an updated_at column or rows
  std::map<int64_t, RangeChecksum> ranges;   // by range index
};

using CatalogSummary = std::map<std::string, TableSummary>;  // by table name

struct RangeDifference {
  std::string table;
  int64_t from_id = 0;  // both ends included
  int64_t to_id = 0;
  int64_t primary_rows = 0;
  int64_t standby_rows = 0;
};

// The ranges whose row count or checksum differ, by table name then range.
std::vector<RangeDifference> differing_ranges(const CatalogSummary& primary, const CatalogSummary& standby,
                                              int64_t range_size);

// {"<table>": {"primary": {exists, rows, min_id, max_id, newest_updated_at,
// ranges (a count)}, "standby": {...}, "differences": [{from_id, to_id,
// primary_rows, standby_rows}...], "consistent"}}, for every table either
// node has; *consistent is false when any table differs (rows, existence or
// a range).
Poco::JSON::Object::Ptr tables_report(const CatalogSummary& primary, const CatalogSummary& standby, int64_t range_size,
                                      bool* consistent);

}  // namespace catalog_schema
}  // namespace kestrel

#endif  // KESTREL_CATALOG_SCHEMA_CONSISTENCY_REPORT_H
