#include "catalog_schema/consistency_report.h"

#include <Poco/JSON/Array.h>

#include <set>

namespace kestrel {
namespace catalog_schema {
namespace {

const TableSummary kAbsent = [] {
  TableSummary t;
  t.exists = false;
  return t;
}();

const TableSummary& find(const CatalogSummary& s, const std::string& table) {
  auto it = s.find(table);
  return it == s.end() ? kAbsent : it->second;
}

std::set<std::string> table_names(const CatalogSummary& a, const CatalogSummary& b) {
  std::set<std::string> names;
  for (const auto& kv : a) names.insert(kv.first);
  for (const auto& kv : b) names.insert(kv.first);
  return names;
}

void differences_of(const std::string& table, const TableSummary& a, const TableSummary& b, int64_t range_size,
                    std::vector<RangeDifference>* out) {
  std::set<int64_t> keys;
  for (const auto& kv : a.ranges) keys.insert(kv.first);
  for (const auto& kv : b.ranges) keys.insert(kv.first);
  for (int64_t k : keys) {
    auto ia = a.ranges.find(k);
    auto ib = b.ranges.find(k);
    const bool same = ia != a.ranges.end() && ib != b.ranges.end() && ia->second.rows == ib->second.rows &&
                      ia->second.md5 == ib->second.md5;
    if (same) continue;
    RangeDifference d;
    d.table = table;
    d.from_id = k * range_size + 1;
    d.to_id = (k + 1) * range_size;
    d.primary_rows = ia == a.ranges.end() ? 0 : ia->second.rows;
    d.standby_rows = ib == b.ranges.end() ? 0 : ib->second.rows;
    out->push_back(std::move(d));
  }
}

Poco::JSON::Object::Ptr summary_json(const TableSummary& t) {
  Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
  o->set("exists", t.exists);
  o->set("rows", t.rows);
  if (t.min_id) o->set("min_id", *t.min_id);
  if (t.max_id) o->set("max_id", *t.max_id);
  if (t.newest_updated_at) o->set("newest_updated_at", *t.newest_updated_at);
  o->set("ranges", static_cast<int64_t>(t.ranges.size()));
  return o;
}

}  // namespace

std::vector<RangeDifference> differing_ranges(const CatalogSummary& primary, const CatalogSummary& standby,
                                              int64_t range_size) {
  std::vector<RangeDifference> out;
  for (const std::string& table : table_names(primary, standby))
    differences_of(table, find(primary, table), find(standby, table), range_size, &out);
  return out;
}

Poco::JSON::Object::Ptr tables_report(const CatalogSummary& primary, const CatalogSummary& standby, int64_t range_size,
                                      bool* consistent) {
  Poco::JSON::Object::Ptr tables = new Poco::JSON::Object;
  *consistent = true;
  for (const std::string& table : table_names(primary, standby)) {
    const TableSummary& a = find(primary, table);
    const TableSummary& b = find(standby, table);
    std::vector<RangeDifference> diffs;
    differences_of(table, a, b, range_size, &diffs);
    Poco::JSON::Array::Ptr list = new Poco::JSON::Array;
    for (const RangeDifference& d : diffs) {
      Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
      o->set("from_id", d.from_id);
      o->set("to_id", d.to_id);
      o->set("primary_rows", d.primary_rows);
      o->set("standby_rows", d.standby_rows);
      list->add(o);
    }
    const bool same = diffs.empty() && a.exists == b.exists && a.rows == b.rows;
    *consistent = *consistent && same;
    Poco::JSON::Object::Ptr t = new Poco::JSON::Object;
    t->set("primary", summary_json(a));
    t->set("standby", summary_json(b));
    t->set("differences", list);
    t->set("consistent", same);
    tables->set(table, t);
  }
  return tables;
}

}  // namespace catalog_schema
}  // namespace kestrel
