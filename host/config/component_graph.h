// ComponentGraph: the `components` of a config checked against the loaded
// plugins' option schemas and put in start order (DESIGN §3, phase 2).
//
// Reported (all of them, each with file:line:column): missing or unknown
// type (with "did you mean", or the failed plugin that would provide it),
// unknown option (listing the valid ones), missing required option, wrong
// value type, unset ${env:...}, dangling reference, reference to a component
// lacking the needed interface, reference cycle (printed a -> b -> a), one
// file claimed by two path options.
#ifndef KESTREL_HOST_CONFIG_COMPONENT_GRAPH_H_
#define KESTREL_HOST_CONFIG_COMPONENT_GRAPH_H_

#include <string>
#include <utility>
#include <vector>

#include "config/config_document.h"
#include "config/config_error.h"
#include "config/option_value.h"
#include "loader/plugin_registry.h"

namespace kestrel::host {

// One component, validated. Values are in the type's schema order.
struct ComponentConfig {
  std::string id;
  std::string type;
  SourceLocation where;
  const ComponentType* type_info = nullptr;  // owned by the PluginRegistry
  std::vector<OptionValue> values;           // one per type_info->options entry, defaults applied
  std::vector<std::string> depends_on;       // ids this component references

  const OptionValue* value(const std::string& option) const;
};

struct ComponentGraph {
  std::vector<ComponentConfig> components;  // in start order: every component after those it references

  const ComponentConfig* find(const std::string& id) const;
};

// Builds the graph. PATH options resolve against `data_dir` (absolute).
// Appends every problem to *errors; the graph is usable only if none was added.
ComponentGraph build_component_graph(const ConfigDocument& doc, const PluginRegistry& registry,
                                     const std::string& data_dir, ConfigErrors* errors);

}  // namespace kestrel::host

#endif  // KESTREL_HOST_CONFIG_COMPONENT_GRAPH_H_
