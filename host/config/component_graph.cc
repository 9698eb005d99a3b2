#include "config/component_graph.h"

#include <Poco/Path.h>

#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <set>

namespace kestrel::host {
namespace {

std::string type_list(const PluginRegistry& registry) {
  std::vector<std::string> names = registry.type_names();
  return names.empty() ? std::string("none (no plugin loaded: check plugins.paths and the plugin errors above)")
                       : join(names);
}

// Reads one option's YAML value for its type. False (with *error) on a wrong shape or value.
bool read_value(const OptionSpec& spec, const YAML::Node& node, OptionValue* out, std::string* error) {
  if (spec.type == KESTREL_OPT_MAP_LIST) {  // the items are read once every component is known
    out->type = spec.type;
    out->is_set = true;
    out->items.clear();
    out->shared_from.clear();
    if (node.IsNull() || node.IsSequence()) return true;
    if (node.IsScalar()) return substitute_env(node.Scalar(), &out->shared_from, error);
    *error = "must be a list of maps (a YAML sequence, one map per item) or the id of a component whose option '" +
             spec.name + "' holds the list, not a map";
    return false;
  }
  if (node.IsMap()) {
    *error = "must be " + std::string(option_type_description(spec.type)) + ", not a map";
    return false;
  }
  if (spec.type == KESTREL_OPT_STRING_LIST || spec.type == KESTREL_OPT_REF_LIST) {
    out->type = spec.type;
    out->is_set = true;
    out->list.clear();
    if (node.IsNull()) return true;
    std::vector<YAML::Node> items;
    if (node.IsScalar())
      items.push_back(node);
    else
      for (const auto& item : node) items.push_back(item);
    for (const auto& item : items) {
      if (!item.IsScalar()) {
        *error = std::string("must be ") + option_type_description(spec.type) + "; an item is not a string";
        return false;
      }
      std::string v;
      if (!substitute_env(item.Scalar(), &v, error)) return false;
      out->list.push_back(v);
    }
    return true;
  }
  if (!node.IsScalar()) {
    *error = "must be " + std::string(option_type_description(spec.type)) + ", not a list";
    return false;
  }
  std::string text;
  if (!substitute_env(node.Scalar(), &text, error)) return false;
  if (!parse_option_text(spec.type, text, out, error)) {
    *error = "must be " + std::string(option_type_description(spec.type)) + ": " + *error;
    return false;
  }
  return true;
}

std::string absolute_in(const std::string& dir, const std::string& path) {
  Poco::Path p(path);
  if (p.isAbsolute()) return p.toString();
  return Poco::Path(Poco::Path(dir).makeDirectory(), p).toString();
}

std::string location_text(const SourceLocation& w) {
  return w.file + ":" + std::to_string(w.line) + ":" + std::to_string(w.column);
}

// One MAP_LIST written in place, and every component option that reads it
// (the owner itself and those naming the owner's id).
struct SharedList {
  std::string owner, option;
  YAML::Node node;            // the sequence (or null)
  std::set<std::string> known_keys;  // the union of the readers' fields
};

// Reads `list`'s items into *out for a reader whose item schema is `spec`.
// `reader` names it in messages ("component 'x' option 'nodes'"). Keys no
// reader knows are reported with the owner (`report_unknown`); problems with
// the data itself are reported once per place (`reported`).
void read_items(const ConfigDocument& doc, const SharedList& list, const OptionSpec& spec, const std::string& reader,
                bool report_unknown, const std::string& data_dir, OptionValue* out, std::set<std::string>* reported,
                ConfigErrors* errors) {
  // `what` identifies the problem across readers (their messages differ in
  // the field's description): each is reported once, by the first reader.
  auto report = [&](const SourceLocation& where, const std::string& message, const std::string& what = "") {
    if (reported->insert(location_text(where) + " " + (what.empty() ? message : what)).second)
      errors->push_back({where, message});
  };
  const std::string list_name = "'" + list.option + "' of component '" + list.owner + "'";
  std::vector<std::string> field_names;
  for (const auto& f : spec.fields) field_names.push_back(f.name);
  std::vector<std::string> all_known(list.known_keys.begin(), list.known_keys.end());
  // Unique fields: value text -> where it was first seen.
  std::vector<std::map<std::string, SourceLocation>> seen(spec.fields.size());
  out->items.clear();
  if (!list.node || list.node.IsNull()) return;
  size_t index = 0;
  for (const auto& item_node : list.node) {
    const std::string item_name = "item " + std::to_string(index++) + " of " + list_name;
    const SourceLocation item_where = doc.where(item_node);
    if (!item_node.IsMap()) {
      report(item_where, item_name + " must be a map (key: value lines), not " +
                             (item_node.IsSequence() ? "a list" : "'" + item_node.as<std::string>("") + "'"));
      continue;
    }
    OptionItem item;
    item.where = location_text(item_where);
    item.fields.resize(spec.fields.size());
    std::vector<bool> given(spec.fields.size(), false);
    bool ok = true;
    for (auto it = item_node.begin(); it != item_node.end(); ++it) {
      const std::string key = it->first.as<std::string>("");
      auto pos = std::find(field_names.begin(), field_names.end(), key);
      if (pos == field_names.end()) {
        if (report_unknown && !list.known_keys.count(key))
          report(doc.where(it->first), item_name + ": unknown key '" + key + "'" + did_you_mean(key, all_known) +
                                           "; valid keys: " + join(all_known));
        continue;
      }
      const size_t f = static_cast<size_t>(pos - field_names.begin());
      if (given[f]) continue;  // a duplicate key, reported by the document
      std::string err;
      const OptionSpec& field = spec.fields[f];
      if (!it->second.IsScalar() && !(field.type == KESTREL_OPT_STRING_LIST && it->second.IsSequence())) {
        report(doc.where(it->second), item_name + ": key '" + key + "' must be " +
                                          option_type_description(field.type));
        ok = false;
        continue;
      }
      if (!read_value(field, it->second, &item.fields[f], &err)) {
        report(doc.where(it->second), item_name + ": key '" + key + "' " + err);
        ok = false;
        continue;
      }
      given[f] = true;
      if (field.type == KESTREL_OPT_PATH && !item.fields[f].text.empty())
        item.fields[f].text = absolute_in(data_dir, item.fields[f].text);
      if (field.unique()) {
        const std::string value = field.type == KESTREL_OPT_PATH || field.type == KESTREL_OPT_STRING
                                      ? item.fields[f].text
                                      : it->second.Scalar();
        auto [first, inserted] = seen[f].emplace(value, doc.where(it->second));
        if (!inserted) {
          report(doc.where(it->second), item_name + ": key '" + key + "' is '" + value +
                                            "', already the value of an item at line " +
                                            std::to_string(first->second.line) + ": each item needs its own");
          ok = false;
        }
      }
    }
    for (size_t f = 0; f < spec.fields.size(); ++f) {
      if (given[f]) continue;
      const OptionSpec& field = spec.fields[f];
      OptionValue& v = item.fields[f];
      if (field.has_default) {
        std::string err;
        parse_option_text(field.type, field.default_value, &v, &err);  // checked at plugin load
        if (field.type == KESTREL_OPT_PATH && !v.text.empty()) v.text = absolute_in(data_dir, v.text);
      } else if (field.required()) {
        report(item_where,
               item_name + ": required key '" + field.name + "' is missing (" + field.description + ")" +
                   (reader.empty() ? "" : "; " + reader + " reads it"),
               "required " + field.name);
        ok = false;
      } else {
        v.type = field.type;
        v.is_set = false;
      }
    }
    if (ok) out->items.push_back(std::move(item));
  }
}

// Fills every MAP_LIST value: a list written in place is read against its
// owner's fields; one given as a component id ("nodes: catalog") is that
// component's same-named list, read against the reader's own fields. A key
// is unknown only when no reader of the list knows it.
void read_map_lists(const ConfigDocument& doc, const std::string& data_dir, const std::vector<std::string>& ids,
                    std::vector<ComponentConfig>* parsed, ConfigErrors* errors) {
  std::map<std::string, SharedList> lists;  // by "owner\0option"
  struct Reader {
    ComponentConfig* component;
    size_t option;
    SharedList* list;
  };
  std::vector<Reader> readers;
  auto raw_of = [&](const std::string& id) -> const RawComponent* {
    for (const auto& raw : doc.components())
      if (raw.id == id) return &raw;
    return nullptr;
  };
  for (ComponentConfig& c : *parsed) {
    if (!c.type_info) continue;
    for (size_t i = 0; i < c.type_info->options.size(); ++i) {
      const OptionSpec& spec = c.type_info->options[i];
      if (spec.type != KESTREL_OPT_MAP_LIST || !c.values[i].is_set || !c.values[i].shared_from.empty()) continue;
      SharedList& l = lists[c.id + '\0' + spec.name];
      l.owner = c.id;
      l.option = spec.name;
      l.node = raw_of(c.id)->body[spec.name];
    }
  }
  for (ComponentConfig& c : *parsed) {
    if (!c.type_info) continue;
    for (size_t i = 0; i < c.type_info->options.size(); ++i) {
      const OptionSpec& spec = c.type_info->options[i];
      OptionValue& v = c.values[i];
      if (spec.type != KESTREL_OPT_MAP_LIST || !v.is_set) continue;
      const std::string owner = v.shared_from.empty() ? c.id : v.shared_from;
      auto it = lists.find(owner + '\0' + spec.name);
      if (it == lists.end()) {
        const RawComponent* raw = raw_of(c.id);
        const SourceLocation where = raw ? doc.where(raw->body[spec.name]) : c.where;
        const RawComponent* target = raw_of(owner);
        std::string why = !target ? "which is not defined" + did_you_mean(owner, ids)
                                  : target->body[spec.name] && target->body[spec.name].IsScalar()
                                        ? "whose '" + spec.name + "' is itself a reference: name the component "
                                                                  "that writes the list"
                                        : "which has no list '" + spec.name + "'";
        errors->push_back({where, "component '" + c.id + "' option '" + spec.name + "' refers to the list of '" +
                                      owner + "', " + why});
        v.is_set = false;
        continue;
      }
      for (const auto& f : spec.fields) it->second.known_keys.insert(f.name);
      readers.push_back({&c, i, &it->second});
    }
  }
  // Owners first, so that a problem every reader has is told in the owner's words.
  std::stable_partition(readers.begin(), readers.end(),
                        [](const Reader& r) { return r.component->id == r.list->owner; });
  std::set<std::string> reported;
  for (const Reader& r : readers) {
    const OptionSpec& spec = r.component->type_info->options[r.option];
    const bool owner = r.component->id == r.list->owner;
    const std::string reader = owner ? "" : "component '" + r.component->id + "' (type " + r.component->type + ")";
    read_items(doc, *r.list, spec, reader, owner, data_dir, &r.component->values[r.option], &reported, errors);
  }
}

}  // namespace

const OptionValue* ComponentConfig::value(const std::string& option) const {
  if (!type_info) return nullptr;
  for (size_t i = 0; i < type_info->options.size() && i < values.size(); ++i)
    if (type_info->options[i].name == option) return &values[i];
  return nullptr;
}

const ComponentConfig* ComponentGraph::find(const std::string& id) const {
  for (const auto& c : components)
    if (c.id == id) return &c;
  return nullptr;
}

namespace {

// Where each reference was written, for messages about it.
struct Reference {
  std::string from, option, to, interface_name;
  SourceLocation where;
};

// A path option's value, claimed by one component option only.
struct PathClaim {
  std::string component, option;
  SourceLocation where;
};

// Phase 1, one component: its type, and each option read, defaulted or
// reported; paths made absolute and claimed once; references collected.
// nullopt when it has no usable type (it is then left out of the graph).
std::optional<ComponentConfig> read_component(const ConfigDocument& doc, const PluginRegistry& registry,
                                              const RawComponent& raw, const std::string& data_dir,
                                              std::map<std::string, PathClaim>* claimed_paths,
                                              std::vector<Reference>* refs, ConfigErrors* errors) {
  ComponentConfig c;
  c.id = raw.id;
  c.where = raw.where;
  const YAML::Node type_node = raw.body["type"];
  if (!type_node) {
    errors->push_back({raw.where, "component '" + raw.id + "' has no 'type'; available types: " +
                                      type_list(registry)});
    return std::nullopt;
  }
  if (!type_node.IsScalar()) {
    errors->push_back({doc.where(type_node), "component '" + raw.id + "': 'type' must be a type name"});
    return std::nullopt;
  }
  c.type = type_node.Scalar();
  c.type_info = registry.find_type(c.type);
  if (!c.type_info) {
    std::string msg = "component '" + raw.id + "': unknown type '" + c.type + "'";
    if (const PluginRecord* failed = registry.failed_plugin_for_type(c.type))
      msg += ": plugin " + failed->file_name() + " that would provide it failed to load: " + failed->error;
    else
      msg += did_you_mean(c.type, registry.type_names()) + "; available types: " + type_list(registry);
    errors->push_back({doc.where(type_node), msg});
    return c;  // kept so that references to it are not also reported as dangling
  }

  const auto& schema = c.type_info->options;
  std::vector<std::string> option_names;
  for (const auto& o : schema) option_names.push_back(o.name);
  c.values.resize(schema.size());
  std::vector<bool> given(schema.size(), false);
  std::vector<SourceLocation> value_where(schema.size(), raw.where);

  for (auto it = raw.body.begin(); it != raw.body.end(); ++it) {
    const std::string key = it->first.as<std::string>("");
    if (key == "type") continue;
    auto pos = std::find(option_names.begin(), option_names.end(), key);
    if (pos == option_names.end()) {
      errors->push_back({doc.where(it->first), "component '" + raw.id + "' (type " + c.type +
                                                   "): unknown option '" + key + "'" + did_you_mean(key, option_names) +
                                                   "; valid options: " + join(option_names)});
      continue;
    }
    size_t i = static_cast<size_t>(pos - option_names.begin());
    if (given[i]) continue;  // duplicate key, already reported by the document
    std::string err;
    if (!read_value(schema[i], it->second, &c.values[i], &err)) {
      errors->push_back({doc.where(it->second), "component '" + raw.id + "' option '" + key + "' " + err});
      continue;
    }
    given[i] = true;
    value_where[i] = doc.where(it->second);
  }

  for (size_t i = 0; i < schema.size(); ++i) {
    const OptionSpec& spec = schema[i];
    OptionValue& v = c.values[i];
    if (!given[i]) {
      if (spec.has_default) {
        std::string err;
        parse_option_text(spec.type, spec.default_value, &v, &err);  // checked at plugin load
      } else if (spec.required()) {
        errors->push_back({raw.where, "component '" + raw.id + "' (type " + c.type + "): required option '" +
                                          spec.name + "' is missing (" + spec.description + ")"});
        continue;
      } else {
        v.type = spec.type;
        v.is_set = false;
        continue;
      }
    }
    if (spec.type == KESTREL_OPT_PATH && v.is_set && !v.text.empty()) {
      v.text = absolute_in(data_dir, v.text);
      auto claim = claimed_paths->find(v.text);
      if (claim != claimed_paths->end()) {
        errors->push_back({value_where[i], "component '" + raw.id + "' option '" + spec.name + "' claims " +
                                               v.text + ", already claimed by component '" +
                                               claim->second.component + "' option '" + claim->second.option +
                                               "' (line " + std::to_string(claim->second.where.line) +
                                               "): give each its own path"});
      } else {
        claimed_paths->emplace(v.text, PathClaim{raw.id, spec.name, value_where[i]});
      }
    }
    if (spec.type == KESTREL_OPT_REF && v.is_set && !v.text.empty())
      refs->push_back({raw.id, spec.name, v.text, spec.interface_name, value_where[i]});
    if (spec.type == KESTREL_OPT_REF_LIST && v.is_set)
      for (size_t k = 0; k < v.list.size(); ++k)
        refs->push_back({raw.id, spec.name + "[" + std::to_string(k) + "]", v.list[k], spec.interface_name,
                        value_where[i]});
  }
  return c;
}

// Phase 3: each reference's target exists and provides the interface; the
// component then depends on it (started first).
void check_references(const std::vector<Reference>& refs, const std::vector<std::string>& ids,
                      std::vector<ComponentConfig>* parsed, ConfigErrors* errors) {
  auto find_parsed = [&](const std::string& id) -> ComponentConfig* {
    for (auto& c : *parsed)
      if (c.id == id) return &c;
    return nullptr;
  };
  for (const auto& r : refs) {
    ComponentConfig* from = find_parsed(r.from);
    ComponentConfig* to = find_parsed(r.to);
    if (!to) {
      bool defaulted = from && from->type_info && from->type_info->option(r.option) &&
                       r.where.line == from->where.line && r.where.column == from->where.column;
      errors->push_back({r.where, "component '" + r.from + "' option '" + r.option + "' refers to '" + r.to +
                                      "', which is not defined" + did_you_mean(r.to, ids) +
                                      (defaulted ? " (that is the option's default: define a component '" + r.to +
                                                       "' or set '" + r.option + "')"
                                                 : "")});
      continue;
    }
    if (to->type_info && !to->type_info->provides_interface(r.interface_name)) {
      errors->push_back({r.where, "component '" + r.from + "' option '" + r.option + "' refers to '" + r.to +
                                      "' (type " + to->type + "), which does not provide " + r.interface_name +
                                      "; it provides: " +
                                      (to->type_info->provides.empty() ? "nothing" : join(to->type_info->provides))});
      continue;
    }
    if (from && std::find(from->depends_on.begin(), from->depends_on.end(), r.to) == from->depends_on.end())
      from->depends_on.push_back(r.to);
  }

}

// Phase 4: reference cycles (depth-first, colours), each reported once.
void report_cycles(const std::vector<ComponentConfig>& parsed, ConfigErrors* errors) {
  auto find_parsed = [&](const std::string& id) -> const ComponentConfig* {
    for (const auto& c : parsed)
      if (c.id == id) return &c;
    return nullptr;
  };
  std::map<std::string, int> colour;  // 0 white, 1 on stack, 2 done
  std::vector<std::string> stack;
  std::set<std::string> reported;
  std::function<void(const ComponentConfig&)> visit = [&](const ComponentConfig& c) {
    colour[c.id] = 1;
    stack.push_back(c.id);
    for (const auto& dep : c.depends_on) {
      const ComponentConfig* d = find_parsed(dep);
      if (!d) continue;
      if (colour[dep] == 1) {
        auto start = std::find(stack.begin(), stack.end(), dep);
        std::vector<std::string> cycle(start, stack.end());
        std::vector<std::string> key = cycle;
        std::sort(key.begin(), key.end());
        if (reported.insert(join(key)).second) {
          std::string path;
          for (const auto& id : cycle) path += id + " -> ";
          path += dep;
          errors->push_back({d->where, "reference cycle: " + path + ": a component cannot depend on itself"});
        }
      } else if (colour[dep] == 0) {
        visit(*d);
      }
    }
    stack.pop_back();
    colour[c.id] = 2;
  };
  for (const auto& c : parsed)
    if (colour[c.id] == 0) visit(c);

}

// Phase 5, the start order: a stable topological sort (config order among
// equals); incomplete only when a cycle was reported.
ComponentGraph start_order(const std::vector<ComponentConfig>& parsed) {
  auto defined = [&](const std::string& id) {
    for (const auto& c : parsed)
      if (c.id == id) return true;
    return false;
  };
  ComponentGraph graph;
  std::set<std::string> placed;
  bool progress = true;
  while (progress && graph.components.size() < parsed.size()) {
    progress = false;
    for (const auto& c : parsed) {
      if (placed.count(c.id)) continue;
      bool ready = std::all_of(c.depends_on.begin(), c.depends_on.end(),
                               [&](const std::string& d) { return placed.count(d) > 0 || !defined(d); });
      if (ready) {
        placed.insert(c.id);
        graph.components.push_back(c);
        progress = true;
      }
    }
  }
  return graph;
}

}  // namespace

ComponentGraph build_component_graph(const ConfigDocument& doc, const PluginRegistry& registry,
                                     const std::string& data_dir, ConfigErrors* errors) {
  std::vector<std::string> ids;
  for (const auto& raw : doc.components()) ids.push_back(raw.id);
  std::vector<ComponentConfig> parsed;
  std::vector<Reference> refs;
  std::map<std::string, PathClaim> claimed_paths;
  for (const auto& raw : doc.components())
    if (auto c = read_component(doc, registry, raw, data_dir, &claimed_paths, &refs, errors))
      parsed.push_back(std::move(*c));
  read_map_lists(doc, data_dir, ids, &parsed, errors);  // phase 2: lists of maps, shared by several readers
  check_references(refs, ids, &parsed, errors);
  report_cycles(parsed, errors);
  return start_order(parsed);
}

}  // namespace kestrel::host
