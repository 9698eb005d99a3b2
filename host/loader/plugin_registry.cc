#include "loader/plugin_registry.h"

#include <kestrel/plugin.hpp>

#include <Poco/File.h>
#include <Poco/Logger.h>
#include <Poco/Path.h>

#include <algorithm>
#include <cstring>
#include <regex>
#include <set>

namespace kestrel::host {
namespace {

#if defined(_WIN32)
const char* const kPluginSuffix = ".dll";
#elif defined(__APPLE__)
const char* const kPluginSuffix = ".dylib";
#else
const char* const kPluginSuffix = ".so";
#endif

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string str(const char* p) { return p ? p : ""; }

Poco::Logger& logger() { return Poco::Logger::get("kestrel.loader"); }

std::string abi_text(uint32_t major, uint32_t minor) { return std::to_string(major) + "." + std::to_string(minor); }

}  // namespace

bool ComponentType::provides_interface(const std::string& name) const {
  return std::find(provides.begin(), provides.end(), name) != provides.end();
}

const OptionSpec* ComponentType::option(const std::string& name) const {
  for (const auto& o : options)
    if (o.name == name) return &o;
  return nullptr;
}

const char* PluginRecord::state_name() const {
  switch (state) {
    case State::kLoaded: return "loaded";
    case State::kFailed: return "failed";
    case State::kDenied: return "denied";
  }
  return "unknown";
}

std::string PluginRecord::file_name() const { return Poco::Path(file).getFileName(); }

PluginRegistry::PluginRegistry(const kestrel_host_api* host_api, std::string host_version)
    : host_api_(host_api), host_version_(std::move(host_version)) {}

std::string PluginRegistry::abi_range_text() {
  return abi_text(KESTREL_ABI_MAJOR, 0) + "-" + abi_text(KESTREL_ABI_MAJOR, KESTREL_ABI_MINOR);
}

void PluginRegistry::load_directory(const std::string& dir, const std::vector<std::string>& deny) {
  Poco::File d(dir);
  if (!d.exists() || !d.isDirectory()) {
    std::string msg = "plugin directory " + dir + " does not exist: fix plugins.paths in the config";
    search_errors_.push_back(msg);
    logger().warning(msg);
    return;
  }
  std::vector<std::string> names;
  d.list(names);
  std::sort(names.begin(), names.end());
  for (const auto& name : names) {
    if (name.rfind("kestrel-", 0) != 0 || !ends_with(name, kPluginSuffix)) continue;
    std::string path = Poco::Path(Poco::Path(dir).makeDirectory(), name).toString();
    std::string stem = name.substr(0, name.size() - std::strlen(kPluginSuffix));
    std::string short_name = stem.substr(std::strlen("kestrel-"));
    if (std::find(deny.begin(), deny.end(), name) != deny.end() ||
        std::find(deny.begin(), deny.end(), short_name) != deny.end()) {
      PluginRecord rec;
      rec.file = path;
      rec.state = PluginRecord::State::kDenied;
      rec.error = "listed in plugins.deny";
      plugins_.push_back(rec);
      logger().information("plugin " + name + " skipped: listed in plugins.deny");
      continue;
    }
    load_file(path);
  }
}

bool PluginRegistry::fail(PluginRecord& rec, const std::string& reason) {
  rec.state = PluginRecord::State::kFailed;
  rec.error = reason;
  logger().error("plugin " + rec.file_name() + " (" + rec.file + ") not loaded: " + reason);
  plugins_.push_back(rec);
  return false;
}

bool PluginRegistry::load_file(const std::string& path) {
  PluginRecord rec;
  rec.file = Poco::Path(path).absolute().toString();

  auto lib = std::make_unique<SharedLibrary>();
  std::string err;
  if (!lib->open(rec.file, &err))
    return fail(rec, "cannot open: " + err + " (install its missing dependencies or rebuild it)");

  auto negotiate = reinterpret_cast<kestrel_plugin_negotiate_fn>(lib->symbol(KESTREL_NEGOTIATE_SYMBOL, &err));
  libraries_.push_back(std::move(lib));  // never unloaded, even when refused
  if (!negotiate)
    return fail(rec, std::string("does not export ") + KESTREL_NEGOTIATE_SYMBOL +
                         ": not a Kestrel plugin, or built without the KESTREL_PLUGIN(...) line");
  return negotiate_and_register(rec, negotiate);
}

bool PluginRegistry::load_builtin(const std::string& name, kestrel_plugin_negotiate_fn negotiate) {
  PluginRecord rec;
  rec.file = "(built-in " + name + ")";
  return negotiate_and_register(rec, negotiate);
}

bool PluginRegistry::negotiate_and_register(PluginRecord& rec, kestrel_plugin_negotiate_fn negotiate) {
  kestrel_loader_info loader;
  std::memset(&loader, 0, sizeof loader);
  loader.struct_size = sizeof loader;
  loader.abi_major = KESTREL_ABI_MAJOR;
  loader.abi_minor_min = 0;
  loader.abi_minor_max = KESTREL_ABI_MINOR;
  loader.host_version = host_version_.c_str();
  loader.host = host_api_;

  kestrel_plugin_info info;
  std::memset(&info, 0, sizeof info);
  info.struct_size = sizeof info;
  kestrel_status st = kestrel::make_status();
  kestrel_result rc = negotiate(&loader, &info, &st);
  rec.name = str(info.name);
  rec.version = str(info.version);
  rec.description = str(info.description);
  rec.abi_major = info.abi_major;
  rec.abi_minor = info.abi_minor;
  if (rc != KESTREL_OK) {
    std::string why = st.message[0] ? st.message : kestrel::result_name(rc);
    return fail(rec, "negotiation refused (" + std::string(kestrel::result_name(rc)) + "): " + why +
                         "; this host supports SDK ABI " + abi_range_text());
  }
  const std::string built = abi_text(info.abi_major, info.abi_minor);
  if (info.abi_major != KESTREL_ABI_MAJOR)
    return fail(rec, "built for SDK ABI " + built + "; this host supports " + abi_range_text() +
                         ": rebuild it against SDK " + std::to_string(KESTREL_ABI_MAJOR) + ".x");
  if (info.abi_minor > KESTREL_ABI_MINOR)
    return fail(rec, "built for SDK ABI " + built + "; this host supports " + abi_range_text() +
                         ": upgrade Kestrel, or rebuild the plugin against SDK " + abi_range_text());
  if (rec.name.empty()) return fail(rec, "negotiate returned no plugin name: fix the plugin's KESTREL_PLUGIN line");
  return register_components(rec, info);
}

namespace {

// Copies one option descriptor (a MAP_LIST's nested fields included) into
// *spec and checks it. Returns "" or what is wrong, naming the option.
std::string read_option_spec(const kestrel_option_desc& o, bool nested, OptionSpec* spec) {
  static const std::regex kOptionName("[a-z][a-z0-9_]{0,62}");
  spec->name = str(o.name);
  spec->flags = o.flags;
  spec->has_default = o.default_value != nullptr;
  spec->default_value = str(o.default_value);
  spec->interface_name = str(o.interface_name);
  spec->description = str(o.description);
  const std::string what = std::string(nested ? "field" : "option") + " '" + spec->name + "'";
  if (!std::regex_match(spec->name, kOptionName))
    return (nested ? "field" : "option") + std::string(" name '") + spec->name + "' must match [a-z][a-z0-9_]*";
  if (!nested && spec->name == "type") return "'type' is reserved and cannot be an option";
  if (!option_type_known(o.type)) return what + " has unknown type " + std::to_string(o.type);
  spec->type = static_cast<kestrel_option_type>(o.type);
  if (nested && spec->type != KESTREL_OPT_STRING && spec->type != KESTREL_OPT_INT &&
      spec->type != KESTREL_OPT_DOUBLE && spec->type != KESTREL_OPT_BOOL && spec->type != KESTREL_OPT_DURATION &&
      spec->type != KESTREL_OPT_SIZE && spec->type != KESTREL_OPT_STRING_LIST && spec->type != KESTREL_OPT_PATH)
    return what + " of a list of maps must have a scalar type or be a list of strings, not " +
           option_type_name(spec->type);
  if ((spec->type == KESTREL_OPT_REF || spec->type == KESTREL_OPT_REF_LIST) && spec->interface_name.empty())
    return "reference " + what + " names no interface";
  if ((spec->flags & KESTREL_OPTION_UNIQUE) != 0 && !nested)
    return what + ": KESTREL_OPTION_UNIQUE applies to fields of a list of maps only";
  if (spec->type == KESTREL_OPT_MAP_LIST) {
    if (spec->has_default) return what + ": a list of maps has no default (an unset list is empty)";
    if (o.field_count == 0 || o.fields == nullptr) return what + " is a list of maps with no fields";
    std::set<std::string> names;
    for (size_t f = 0; f < o.field_count; ++f) {
      OptionSpec field;
      std::string err = read_option_spec(kestrel::element(o.fields, f), true, &field);
      if (!err.empty()) return what + ": " + err;
      if (!names.insert(field.name).second) return what + ": field '" + field.name + "' is declared twice";
      spec->fields.push_back(std::move(field));
    }
  }
  if (spec->has_default) {
    OptionValue v;
    std::string err;
    if (!parse_option_text(spec->type, spec->default_value, &v, &err))
      return "default of " + what + ": " + err;
  }
  return "";
}

}  // namespace

bool PluginRegistry::register_components(PluginRecord& rec, const kestrel_plugin_info& info) {
  static const std::regex kTypeName("[a-z][a-z0-9-]{0,62}");
  if (info.component_count > 0 && info.components == nullptr)
    return fail(rec, "component_count is " + std::to_string(info.component_count) + " but components is NULL");

  std::vector<ComponentType> found;
  std::set<std::string> seen;
  for (size_t i = 0; i < info.component_count; ++i) {
    kestrel_component_desc d = kestrel::element(info.components, i);
    ComponentType t;
    t.type = str(d.type);
    t.description = str(d.description);
    t.plugin_name = rec.name;
    t.plugin_file = rec.file;
    const std::string where = "component type '" + t.type + "'";
    if (!std::regex_match(t.type, kTypeName))
      return fail(rec, where + ": a type name must match [a-z][a-z0-9-]*");
    if (!seen.insert(t.type).second) return fail(rec, where + " is declared twice");
    if (d.ops == nullptr) return fail(rec, where + " has no ops table");
    t.ops = kestrel::copy_in(d.ops);
    if (!t.ops.create || !t.ops.start || !t.ops.stop || !t.ops.destroy || !t.ops.get_interface)
      return fail(rec, where + ": ops create, start, stop, destroy and get_interface are required");
    for (size_t k = 0; k < d.provides_count; ++k) t.provides.push_back(str(d.provides[k]));
    for (size_t k = 0; k < d.option_count; ++k) {
      OptionSpec spec;
      std::string err = read_option_spec(kestrel::element(d.options, k), false, &spec);
      if (!err.empty()) return fail(rec, where + ": " + err);
      t.options.push_back(std::move(spec));
    }
    auto clash = types_.find(t.type);
    if (clash != types_.end())
      return fail(rec, where + " is already provided by " + Poco::Path(clash->second.plugin_file).getFileName() +
                           ": remove one of the two files or add one to plugins.deny");
    found.push_back(std::move(t));
  }
  for (auto& t : found) {
    rec.component_types.push_back(t.type);
    types_.emplace(t.type, std::move(t));
  }
  rec.state = PluginRecord::State::kLoaded;
  plugins_.push_back(rec);
  logger().information("plugin " + rec.file_name() + " " + rec.version + " loaded (ABI " +
                       abi_text(rec.abi_major, rec.abi_minor) + ")");
  return true;
}

const ComponentType* PluginRegistry::find_type(const std::string& type) const {
  auto it = types_.find(type);
  return it == types_.end() ? nullptr : &it->second;
}

std::vector<std::string> PluginRegistry::type_names() const {
  std::vector<std::string> out;
  for (const auto& kv : types_) out.push_back(kv.first);
  return out;
}

const PluginRecord* PluginRegistry::failed_plugin_for_type(const std::string& type) const {
  const std::string want = std::string("kestrel-") + type + kPluginSuffix;
  for (const auto& p : plugins_)
    if (p.state != PluginRecord::State::kLoaded && p.file_name() == want) return &p;
  return nullptr;
}

}  // namespace kestrel::host
