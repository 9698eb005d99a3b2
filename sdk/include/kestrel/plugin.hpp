// kestrel/plugin.hpp — header-only C++17 wrapper over kestrel/plugin.h.
//
// An umbrella: the core (kestrel/plugin_core.hpp: errors and status,
// size-versioned structs, options, CreateArgs, Host, metrics, Component, the
// interface dispatch, describe, KESTREL_PLUGIN) and one header per interface
// (kestrel/iface/<name>.hpp: its provider, client and C trampolines). A
// plugin may include just the core and the interfaces it uses instead.
//
// A plugin author writes one class per component type, derived from
// kestrel::Provides<...> listing the provider classes of the interfaces it
// offers (kestrel::CatalogProvider, kestrel::BlobStoreProvider,
// kestrel::CrawlerProvider, kestrel::ReplicatorProvider,
// kestrel::CoordinatorProvider), and one
// KESTREL_PLUGIN(...) line:
//
//   class MyStore : public kestrel::Provides<kestrel::CatalogProvider> {
//    public:
//     explicit MyStore(const kestrel::CreateArgs& args);   // parse options; throw kestrel::Error
//     ...
//   };
//   static const kestrel_option_desc kOptions[] = {
//       kestrel::option("path", KESTREL_OPT_PATH, "catalog.db", "SQLite file"),
//   };
//   KESTREL_PLUGIN("store-x", "0.1.0", "An example store",
//                  kestrel::describe<MyStore>("store-x", "A catalog", kOptions))
//
// The provides list (here {KESTREL_IFACE_CATALOG_V1}) comes from Provides<>.
// The older form still works: derive from kestrel::Component and the provider
// classes, and pass describe() a static `provides` array of interface names
// before the options (also the way to provide an interface of your own, with
// an interface_table() override).
//
// Every exception thrown by plugin code is caught at the C boundary and turned
// into a kestrel_result plus a kestrel_status message. Client classes
// (CatalogClient, BlobStoreClient, CrawlerClient, ReplicatorClient,
// CoordinatorClient) do the reverse for callers: a failed C call becomes a
// kestrel::Error.
#ifndef KESTREL_PLUGIN_HPP
#define KESTREL_PLUGIN_HPP

#include <kestrel/plugin_core.hpp>

// Every interface of the SDK. A new interface's header is added here too, so
// that plugins including this file see it; nothing else in the SDK lists them.
#include <kestrel/iface/blobstore.hpp>
#include <kestrel/iface/catalog.hpp>
#include <kestrel/iface/coordinator.hpp>
#include <kestrel/iface/crawler.hpp>
#include <kestrel/iface/replicator.hpp>

#endif  // KESTREL_PLUGIN_HPP
