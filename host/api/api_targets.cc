#include "api/api_targets.h"

#include <kestrel/plugin.h>

namespace kestrel::host {
namespace {

// The id `component`'s first reference option to `interface_name` names, or "".
std::string referenced(const ComponentGraph& graph, const std::string& component, const std::string& interface_name) {
  const ComponentConfig* c = graph.find(component);
  if (!c || !c->type_info) return "";
  for (size_t i = 0; i < c->type_info->options.size() && i < c->values.size(); ++i) {
    const OptionSpec& spec = c->type_info->options[i];
    if (spec.type == KESTREL_OPT_REF && spec.interface_name == interface_name && c->values[i].is_set)
      return c->values[i].text;
  }
  return "";
}

std::string first(const std::vector<std::string>& ids) { return ids.empty() ? "" : ids.front(); }

}  // namespace

ApiTargets find_api_targets(const ComponentRuntime& runtime, const ComponentGraph& graph) {
  ApiTargets t;
  t.crawler = first(runtime.providers_of(KESTREL_IFACE_CRAWLER_V1));
  if (!t.crawler.empty()) {
    t.catalog = referenced(graph, t.crawler, KESTREL_IFACE_CATALOG_V1);
    t.files = referenced(graph, t.crawler, KESTREL_IFACE_BLOBSTORE_V1);
  }
  if (t.catalog.empty()) t.catalog = first(runtime.providers_of(KESTREL_IFACE_CATALOG_V1));
  if (t.files.empty()) t.files = first(runtime.providers_of(KESTREL_IFACE_BLOBSTORE_V1));
  return t;
}

}  // namespace kestrel::host
