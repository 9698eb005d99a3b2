// ApiTargets: which components the App API drives, found in the graph.
#ifndef KESTREL_HOST_API_API_TARGETS_H_
#define KESTREL_HOST_API_API_TARGETS_H_

#include <string>

#include "config/component_graph.h"
#include "runtime/component_runtime.h"

namespace kestrel::host {

// Component ids (empty: none in the configuration).
struct ApiTargets {
  std::string crawler;  // the first component providing kestrel.crawler.v1, in graph order
  std::string catalog;  // the catalog that crawler references (its kestrel.catalog.v1 reference option),
                        // else the first catalog provider
  std::string files;    // the blob store that crawler references, else the first blob store provider
};

// Finds the targets: the crawler through runtime.providers_of, then the
// components its reference options name (the crawler's own wiring, so that
// the API reads and deletes in the catalog the crawler writes). Control thread.
ApiTargets find_api_targets(const ComponentRuntime& runtime, const ComponentGraph& graph);

}  // namespace kestrel::host

#endif  // KESTREL_HOST_API_API_TARGETS_H_
