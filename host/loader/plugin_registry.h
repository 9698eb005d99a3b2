// PluginRegistry: finds, opens and negotiates plugins, and keeps the
// component types they provide.
//
// Every check of DESIGN §2 happens here, before any plugin code beyond the
// negotiate function runs: the file opens with every symbol resolved, it
// exports kestrel_plugin_negotiate, its ABI major equals the host's and its
// minor is not newer, its descriptors are complete, and no component type is
// provided twice. A plugin that fails a check is recorded with its file, the
// reason and the fix, reported once through the "kestrel.loader" logger, and
// skipped: the host keeps running with the others.
//
// Thread-safety: load_* on the control thread only, before components are
// created; the const accessors may then be used from any thread.
#ifndef KESTREL_HOST_LOADER_PLUGIN_REGISTRY_H_
#define KESTREL_HOST_LOADER_PLUGIN_REGISTRY_H_

#include <kestrel/plugin.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "config/option_value.h"
#include "loader/shared_library.h"

namespace kestrel::host {

// A component type offered by a loaded plugin (host-owned copies of the descriptors).
struct ComponentType {
  std::string type;
  std::string description;
  std::vector<std::string> provides;  // interface names
  std::vector<OptionSpec> options;    // in schema order
  kestrel_component_ops ops{};        // copied into a zeroed struct of the host's size
  std::string plugin_name;
  std::string plugin_file;            // absolute path of the .so

  bool provides_interface(const std::string& name) const;
  const OptionSpec* option(const std::string& name) const;
};

// One plugin file and what became of it.
struct PluginRecord {
  enum class State { kLoaded, kFailed, kDenied };
  std::string file;                   // absolute path
  State state = State::kFailed;
  std::string name;                   // from negotiate; empty if it never answered
  std::string version;
  std::string description;
  uint32_t abi_major = 0;
  uint32_t abi_minor = 0;
  std::string error;                  // why it failed, and the fix; empty when loaded
  std::vector<std::string> component_types;

  const char* state_name() const;
  std::string file_name() const;      // base name, e.g. "kestrel-store-sqlite.so"
};

class PluginRegistry {
 public:
  // `host_api` is passed to every plugin's negotiate and must outlive the
  // registry; `host_version` is Kestrel's release ("0.1.0").
  PluginRegistry(const kestrel_host_api* host_api, std::string host_version);

  // Loads every file named kestrel-*.so (.dll on Windows, .dylib on macOS) in
  // `dir`, in name order. A file or plugin name in `deny` is recorded as
  // denied and not opened. A missing directory is an error record too.
  void load_directory(const std::string& dir, const std::vector<std::string>& deny = {});

  // Loads one file. Returns true when it loaded.
  bool load_file(const std::string& path);
  // Registers a plugin compiled into the host (the HA catalog), through the
  // same negotiation and checks as a file; its record's file is
  // "(built-in <name>)". Returns true when it registered.
  bool load_builtin(const std::string& name, kestrel_plugin_negotiate_fn negotiate);

  // The component type named `type`, or nullptr.
  const ComponentType* find_type(const std::string& type) const;
  std::vector<std::string> type_names() const;

  // Every plugin file seen, in load order.
  const std::vector<PluginRecord>& plugins() const { return plugins_; }

  // A failed plugin whose file name suggests it provides `type`
  // (kestrel-<type>.so), or nullptr: lets a config error name the plugin.
  const PluginRecord* failed_plugin_for_type(const std::string& type) const;

  // Directory-level problems (missing or unreadable search path).
  const std::vector<std::string>& search_errors() const { return search_errors_; }

  // The host's supported ABI range as text, e.g. "1.0-1.0".
  static std::string abi_range_text();

 private:
  bool fail(PluginRecord& rec, const std::string& reason);
  bool negotiate_and_register(PluginRecord& rec, kestrel_plugin_negotiate_fn negotiate);
  bool register_components(PluginRecord& rec, const kestrel_plugin_info& info);

  const kestrel_host_api* host_api_;
  std::string host_version_;
  std::vector<PluginRecord> plugins_;
  std::vector<std::string> search_errors_;
  std::vector<std::unique_ptr<SharedLibrary>> libraries_;  // never closed
  std::map<std::string, ComponentType> types_;
};

}  // namespace kestrel::host

#endif  // KESTREL_HOST_LOADER_PLUGIN_REGISTRY_H_
