#include "wire.h"

#include <Poco/JSON/Parser.h>

#include <kestrel/plugin.hpp>

#include <sstream>

namespace kestrel {
namespace replicator_changelog {
namespace wire {

namespace {

template <class T>
Poco::SharedPtr<T> parse_as(const std::string& text, const std::string& what, const char* kind) {
  try {
    Poco::Dynamic::Var v = Poco::JSON::Parser().parse(text);
    if (v.type() == typeid(Poco::SharedPtr<T>)) return v.extract<Poco::SharedPtr<T>>();
  } catch (const Poco::Exception& e) {
    throw Error(KESTREL_ERR_INVALID, what + ": not JSON (" + e.displayText() + ")");
  }
  throw Error(KESTREL_ERR_INVALID, what + ": not a JSON " + kind);
}

}  // namespace

Poco::JSON::Object::Ptr parse_object(const std::string& text, const std::string& what) {
  return parse_as<Poco::JSON::Object>(text, what, "object");
}

Poco::JSON::Array::Ptr parse_array(const std::string& text, const std::string& what) {
  return parse_as<Poco::JSON::Array>(text, what, "array");
}

std::string to_text(const Poco::JSON::Object::Ptr& o) {
  std::ostringstream out;
  o->stringify(out);
  return out.str();
}

int64_t int_field(const Poco::JSON::Object::Ptr& o, const std::string& name) {
  if (!o->has(name)) throw Error(KESTREL_ERR_INVALID, "field '" + name + "' is missing");
  try {
    return o->getValue<Poco::Int64>(name);
  } catch (const Poco::Exception&) {
    throw Error(KESTREL_ERR_INVALID, "field '" + name + "' is not an integer");
  }
}

std::string string_field(const Poco::JSON::Object::Ptr& o, const std::string& name) {
  if (!o->has(name) || o->isNull(name)) throw Error(KESTREL_ERR_INVALID, "field '" + name + "' is missing");
  const Poco::Dynamic::Var v = o->get(name);
  if (!v.isString()) throw Error(KESTREL_ERR_INVALID, "field '" + name + "' is not a string");
  return v.convert<std::string>();
}

Poco::JSON::Array::Ptr array_field(const Poco::JSON::Object::Ptr& o, const std::string& name) {
  Poco::JSON::Array::Ptr a = o->has(name) ? o->getArray(name) : nullptr;
  if (a.isNull()) throw Error(KESTREL_ERR_INVALID, "field '" + name + "' is missing or not an array");
  return a;
}

Poco::JSON::Object::Ptr object_field(const Poco::JSON::Object::Ptr& o, const std::string& name) {
  Poco::JSON::Object::Ptr v = o->has(name) ? o->getObject(name) : nullptr;
  if (v.isNull()) throw Error(KESTREL_ERR_INVALID, "field '" + name + "' is missing or not an object");
  return v;
}

namespace {

Poco::JSON::Object::Ptr object_at(const Poco::JSON::Array::Ptr& a, size_t i, const char* what) {
  Poco::JSON::Object::Ptr o = a->getObject(static_cast<unsigned>(i));
  if (o.isNull()) throw Error(KESTREL_ERR_INVALID, std::string(what) + " " + std::to_string(i) + " is not an object");
  return o;
}

}  // namespace

Poco::JSON::Array::Ptr entries_json(const std::vector<Entry>& entries) {
  Poco::JSON::Array::Ptr a = new Poco::JSON::Array;
  for (const Entry& e : entries) {
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    o->set("seq", e.seq);
    o->set("commit_seq", e.commit_seq);
    o->set("epoch", e.epoch);
    o->set("table", e.table);
    o->set("op", e.op);
    o->set("row_id", e.row_id);
    if (e.image.isNull())
      o->set("image", Poco::Dynamic::Var());
    else
      o->set("image", e.image.value());
    o->set("created_at_us", e.created_at_us);
    a->add(o);
  }
  return a;
}

std::vector<Entry> entries_from(const Poco::JSON::Array::Ptr& a) {
  std::vector<Entry> out;
  out.reserve(a->size());
  for (size_t i = 0; i < a->size(); ++i) {
    const Poco::JSON::Object::Ptr o = object_at(a, i, "entry");
    Entry e;
    e.seq = int_field(o, "seq");
    e.commit_seq = int_field(o, "commit_seq");
    e.epoch = int_field(o, "epoch");
    e.table = string_field(o, "table");
    e.op = string_field(o, "op");
    e.row_id = int_field(o, "row_id");
    if (o->has("image") && !o->isNull("image")) e.image = string_field(o, "image");
    e.created_at_us = int_field(o, "created_at_us");
    out.push_back(std::move(e));
  }
  return out;
}

Poco::JSON::Object::Ptr state_json(const FileState& s) {
  Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
  o->set("role", s.role);
  o->set("source", s.source);
  o->set("promoted_at_seq", s.promoted_at_seq);
  o->set("epoch", s.epoch);
  o->set("head_seq", s.head_seq);
  o->set("first_seq", s.first_seq);
  o->set("commit_seq", s.commit_seq);
  return o;
}

FileState state_from(const Poco::JSON::Object::Ptr& o) {
  FileState s;
  s.role = string_field(o, "role");
  s.source = string_field(o, "source");
  s.promoted_at_seq = int_field(o, "promoted_at_seq");
  s.epoch = int_field(o, "epoch");
  s.head_seq = int_field(o, "head_seq");
  s.first_seq = int_field(o, "first_seq");
  s.commit_seq = int_field(o, "commit_seq");
  return s;
}

Poco::JSON::Array::Ptr rows_json(const std::vector<RowImage>& rows) {
  Poco::JSON::Array::Ptr a = new Poco::JSON::Array;
  for (const RowImage& r : rows) {
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    o->set("id", r.id);
    o->set("image", r.image);
    a->add(o);
  }
  return a;
}

std::vector<RowImage> rows_from(const Poco::JSON::Array::Ptr& a) {
  std::vector<RowImage> out;
  for (size_t i = 0; i < a->size(); ++i) {
    const Poco::JSON::Object::Ptr o = object_at(a, i, "row");
    out.push_back({int_field(o, "id"), string_field(o, "image")});
  }
  return out;
}

Poco::JSON::Object::Ptr summary_json(const catalog_schema::CatalogSummary& s) {
  Poco::JSON::Object::Ptr out = new Poco::JSON::Object;
  for (const auto& [table, t] : s) {
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    o->set("exists", t.exists);
    o->set("rows", t.rows);
    if (t.min_id) o->set("min_id", *t.min_id);
    if (t.max_id) o->set("max_id", *t.max_id);
    if (t.newest_updated_at) o->set("newest_updated_at", *t.newest_updated_at);
    Poco::JSON::Object::Ptr ranges = new Poco::JSON::Object;
    for (const auto& [index, r] : t.ranges) {
      Poco::JSON::Object::Ptr ro = new Poco::JSON::Object;
      ro->set("rows", r.rows);
      ro->set("md5", r.md5);
      ranges->set(std::to_string(index), ro);
    }
    o->set("ranges", ranges);
    out->set(table, o);
  }
  return out;
}

catalog_schema::CatalogSummary summary_from(const Poco::JSON::Object::Ptr& o) {
  catalog_schema::CatalogSummary s;
  for (const std::string& table : o->getNames()) {
    const Poco::JSON::Object::Ptr t = object_field(o, table);
    catalog_schema::TableSummary ts;
    ts.exists = t->optValue<bool>("exists", true);
    ts.rows = int_field(t, "rows");
    if (t->has("min_id")) ts.min_id = int_field(t, "min_id");
    if (t->has("max_id")) ts.max_id = int_field(t, "max_id");
    if (t->has("newest_updated_at")) ts.newest_updated_at = int_field(t, "newest_updated_at");
    const Poco::JSON::Object::Ptr ranges = object_field(t, "ranges");
    for (const std::string& index : ranges->getNames()) {
      const Poco::JSON::Object::Ptr r = object_field(ranges, index);
      int64_t i = 0;
      try {
        i = std::stoll(index);
      } catch (const std::exception&) {
        throw Error(KESTREL_ERR_INVALID, "summary of " + table + ": range index '" + index + "' is not a number");
      }
      ts.ranges[i] = {int_field(r, "rows"), string_field(r, "md5")};
    }
    s[table] = std::move(ts);
  }
  return s;
}

}  // namespace wire
}  // namespace replicator_changelog
}  // namespace kestrel
