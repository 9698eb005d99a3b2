// ReplicationEnv: what every replication scenario needs: PostgreSQL clusters
// (PgCluster: a primary initialised with the catalog schema, standbys as
// empty data dirs) and the replicator-pg plugin loaded in-process through the
// host's PluginRegistry and ComponentRuntime from a YAML string.
//
// Owns the clusters and the runtime; the destructor stops the runtime first,
// then the clusters. One thread (the test's) drives it; the helpers that only
// query (count_rows, wait_rows) may run on any thread.
#ifndef KESTREL_TESTS_INTEGRATION_REPLICATION_REPLICATION_ENV_H
#define KESTREL_TESTS_INTEGRATION_REPLICATION_REPLICATION_ENV_H

#include <kestrel/plugin.hpp>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "kestrel/test/pg_cluster.h"
#include "kestrel/test/temp_dir.h"

namespace kestrel::host {
class PluginRegistry;
class ConfigDocument;
class ComponentRuntime;
struct ComponentGraph;
namespace ha {
class HaControl;
}
}  // namespace kestrel::host

namespace kestrel::test {

// One image row as the crawler writes it (url, 100 bytes, 10x10 png), as a
// catalog op: pass &op.op_ to CatalogClient::write. Owns its strings.
struct ImageOp {
  explicit ImageOp(const std::string& url) : url_(url) {
    record_.struct_size = sizeof record_;
    record_.url = url_.c_str();
    record_.file_size = 100;
    record_.width = 10;
    record_.height = 10;
    record_.format = "png";
    op_.struct_size = sizeof op_;
    op_.kind = KESTREL_OP_UPSERT_IMAGE;
    op_.image = &record_;
  }
  ImageOp(const ImageOp&) = delete;
  std::string url_;
  kestrel_image_record record_{};
  kestrel_catalog_op op_{};
};

class ReplicationEnv {
 public:
  ReplicationEnv();
  ~ReplicationEnv();

  // A running primary named `name` with the catalog schema (tables owned by
  // the app role "kestrel").
  // `settings`: extra postgresql.conf lines (PgCluster::Options::settings).
  PgCluster& add_primary(const std::string& name, const std::map<std::string, std::string>& settings = {});
  // An empty data directory for a standby named `name` (PgCluster{initialize=false}).
  PgCluster& add_empty(const std::string& name);
  // An independent initialised cluster (another system identifier).
  PgCluster& add_initialized(const std::string& name);
  PgCluster& cluster(const std::string& name) { return *clusters_.at(name); }

  // Cluster `name` as one item of a `nodes:` list, a YAML flow map: name,
  // priority, host 127.0.0.1, its port, dbname kestrel, data_dir, bindir, and
  // fence when `fence` is not empty ("sql" or "stop").
  std::string node_item(const std::string& name, int priority, const std::string& fence = std::string()) const;
  // A component's `nodes:` option (indented as an option, 4 spaces) holding
  // `items` (node_item's, or hand-written flow maps), one per line.
  static std::string nodes_option(const std::vector<std::string>& items);
  // The replicator's shared conninfo: the superuser postgres, with its password.
  static std::string superuser_conninfo();
  // What a replicator-pg component needs of the nodes: nodes_option(items)
  // and `conninfo:` (superuser_conninfo() unless given).
  static std::string replicator_nodes(const std::vector<std::string>& items,
                                      const std::string& conninfo = superuser_conninfo());

  // Loads the plugin, builds the graph from `yaml` (components: ...),
  // creates and starts every component. CppUnit assertions on failure.
  // `node_name`: the daemon's node.name (a one-daemon-per-server test names
  // it after the node it holds).
  void start_runtime(const std::string& yaml, const std::string& node_name = "n1");
  // Starts a second runtime from `yaml` on the same data dir (host-state.db), as
  // a second kestreld started by mistake on it would run (node name
  // `node_name`). The caller owns it and stops it before this env goes.
  std::unique_ptr<host::ComponentRuntime> start_second_runtime(const std::string& yaml,
                                                               const std::string& node_name = "n2");
  // The HaControl of ha-catalog `id` in `runtime` (a second runtime's).
  static host::ha::HaControl& ha_of(const host::ComponentRuntime& runtime, const std::string& id);
  // Only create: returns the create errors ("" when it would have succeeded).
  std::string create_errors(const std::string& yaml);
  // The catalog interface of started component `id` (a store or the ha-catalog).
  CatalogClient catalog(const std::string& id) const;
  // This env's data dir (host-state.db; SQLite nodes' files may go here too).
  const std::string& dir() const { return node_dir_.path(); }
  // The started runtime (for the HA API over it).
  const host::ComponentRuntime& runtime() const { return *runtime_; }
  // The HaControl of started ha-catalog `id`.
  host::ha::HaControl& ha(const std::string& id) const;
  // The replicator interface of started component `id`.
  ReplicatorClient replicator(const std::string& id) const;
  std::string status_json(const std::string& id) const;

  // Rows in `table` on cluster `name` (as the superuser).
  static long count_rows(PgCluster& c, const std::string& table = "images");
  // Waits up to deadline_ms for count_rows == expected; asserts.
  static void wait_rows(PgCluster& c, long expected, int deadline_ms = 60000, const std::string& table = "images");
  // Inserts `n` image rows with urls <prefix><i> as the app role; returns nothing.
  static void insert_images(PgCluster& c, const std::string& prefix, int n);
  // A gauge's value from the host's Prometheus text (NaN when it reads
  // NaN); -1 when absent. `standby` "": a series with only the component label.
  static double gauge(const std::string& name, const std::string& component, const std::string& standby);

  // GET /api/health through the host's real AppApi over this runtime: the
  // HTTP status (200 or 503) and the body.
  std::pair<int, std::string> app_health() const;
  // Everything logged (any logger) since this env was made, one line per
  // message as "<source>: <text>". Any thread.
  std::string log_text() const;
  // Occurrences of `needle` in log_text().
  size_t log_count(const std::string& needle) const;

 private:
  TempDir node_dir_;
  std::map<std::string, std::unique_ptr<PgCluster>> clusters_;
  std::unique_ptr<host::PluginRegistry> registry_;
  std::unique_ptr<host::ConfigDocument> doc_;
  std::vector<std::unique_ptr<host::ConfigDocument>> second_docs_;  // of start_second_runtime
  std::unique_ptr<host::ComponentRuntime> runtime_;
  std::unique_ptr<host::ComponentGraph> api_graph_;  // a second build of the graph, for the AppApi
  size_t log_start_ = 0;                              // log_text() starts here in the capture
};

// Polls `fn` every 100 ms until it returns true or deadline_ms passes.
bool eventually(const std::function<bool()>& fn, int deadline_ms);

}  // namespace kestrel::test

#endif  // KESTREL_TESTS_INTEGRATION_REPLICATION_REPLICATION_ENV_H
