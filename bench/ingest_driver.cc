// kestrel-bench-ingest: writes catalog rows through a real store plugin (or
// the built-in ha-catalog routing to one, with a replicator behind it), the
// way kestreld does (the host's PluginRegistry loads the .so, its
// ComponentGraph checks the YAML, its ComponentRuntime creates and starts the
// component), then times kestrel.catalog.v1 write() calls of `batch` image
// upserts each. Used by bench/ingest; prints one line:
//   rows=N batches=B seconds=S rows_per_s=R
//
// Usage: kestrel-bench-ingest --config FILE --plugins DIR [--component catalog]
//                             [--rows 12800] [--batch 64] [--prefix run1]
// Exit: 0 on success; 1 when a write or the start fails (message on stderr);
// 64 on bad arguments; 78 on an invalid configuration.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <iostream>
#include <kestrel/plugin.hpp>
#include <string>
#include <vector>

#include "config/component_graph.h"
#include "ha/builtin_plugins.h"
#include "config/config_document.h"
#include "loader/plugin_registry.h"
#include "runtime/component_runtime.h"

namespace {

struct Args {
  std::string config, plugins, component = "catalog", prefix = "run";
  long rows = 12800, batch = 64;
};

bool parse(int argc, char** argv, Args* a) {
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--config")
      a->config = v;
    else if (k == "--plugins")
      a->plugins = v;
    else if (k == "--component")
      a->component = v;
    else if (k == "--prefix")
      a->prefix = v;
    else if (k == "--rows")
      a->rows = std::atol(v.c_str());
    else if (k == "--batch")
      a->batch = std::atol(v.c_str());
    else
      return false;
  }
  return argc % 2 == 1 && !a->config.empty() && !a->plugins.empty() && a->rows > 0 && a->batch > 0;
}

// Fixed-width lower-case hex of `n`, `digits` long (a stand-in hash).
std::string hex(unsigned long long n, int digits) {
  char buf[80];
  std::snprintf(buf, sizeof buf, "%0*llx", digits, n);
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace kestrel::host;
  Args a;
  if (!parse(argc, argv, &a)) {
    std::cerr << "usage: kestrel-bench-ingest --config FILE --plugins DIR [--component ID] [--rows N] [--batch N]"
                 " [--prefix TEXT]\n";
    return 64;
  }
  ConfigErrors errors;
  auto doc = ConfigDocument::load_file(a.config, &errors);
  PluginRegistry registry(ComponentRuntime::host_api(), "bench");
  if (doc) {
    registry.load_directory(a.plugins);
    kestrel::host::ha::load_builtin_plugins(registry);  // the ha-catalog, for the change-log targets
  }
  ComponentGraph graph;
  if (doc && errors.empty()) graph = build_component_graph(*doc, registry, doc->node().data_dir, &errors);
  if (!doc || !errors.empty()) {
    for (const auto& e : errors) std::cerr << e.to_string() << "\n";
    return 78;
  }
  ComponentRuntime runtime(graph, doc->node(), doc->config_dir());
  std::vector<std::string> create_errors;
  std::string start_error;
  if (!runtime.create_all(&create_errors)) {
    for (const auto& e : create_errors) std::cerr << e << "\n";
    return 78;
  }
  if (!runtime.start_all(&start_error)) {
    std::cerr << start_error << "\n";
    return 1;
  }
  try {
    const kestrel::CatalogClient catalog(runtime.interface_of(a.component, KESTREL_IFACE_CATALOG_V1));
    // Records are built before the clock starts: only the store's work is timed.
    std::deque<std::string> strings;
    std::vector<kestrel_image_record> records(static_cast<size_t>(a.rows));
    const auto keep = [&strings](std::string s) {
      strings.push_back(std::move(s));
      return strings.back().c_str();
    };
    for (long i = 0; i < a.rows; ++i) {
      kestrel_image_record& r = records[static_cast<size_t>(i)];
      r.struct_size = sizeof r;
      const std::string name = a.prefix + "/" + std::to_string(i) + ".png";
      r.url = keep("http://bench.invalid/" + name);
      r.source_url = keep("http://bench.invalid/" + a.prefix + "/page" + std::to_string(i / 16) + ".html");
      r.filename = keep(std::to_string(i) + ".png");
      r.file_path = keep("ab/cd/" + hex(static_cast<unsigned long long>(i), 64));
      r.file_size = 20000 + static_cast<uint64_t>(i % 1000);
      r.width = 640;
      r.height = 480;
      r.format = "png";
      r.mime_type = "image/png";
      r.md5 = keep(hex(static_cast<unsigned long long>(i), 32));
      r.sha256 = keep(hex(static_cast<unsigned long long>(i) * 7919u, 64));
    }
    std::vector<kestrel_catalog_op> ops(records.size());
    for (size_t i = 0; i < records.size(); ++i) {
      ops[i].struct_size = sizeof ops[i];
      ops[i].kind = KESTREL_OP_UPSERT_IMAGE;
      ops[i].image = &records[i];
    }
    const auto t0 = std::chrono::steady_clock::now();
    long batches = 0;
    for (long at = 0; at < a.rows; at += a.batch, ++batches) {
      const long n = std::min(a.batch, a.rows - at);
      catalog.write(0, &ops[static_cast<size_t>(at)], static_cast<size_t>(n));
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("rows=%ld batches=%ld seconds=%.3f rows_per_s=%.0f\n", a.rows, batches, seconds,
                static_cast<double>(a.rows) / seconds);
  } catch (const std::exception& e) {
    std::cerr << "kestrel-bench-ingest: " << e.what() << "\n";
    runtime.stop_all(5000);
    return 1;
  }
  runtime.stop_all(5000);
  return 0;
}
