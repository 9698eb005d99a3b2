// ReplicationEnv (see replication_env.h).
#include "replication_env.h"

#include <Poco/File.h>

#include <catalog_schema/migrations.h>
#include <cppunit/extensions/HelperMacros.h>

#include <Poco/AutoPtr.h>
#include <Poco/Channel.h>
#include <Poco/ConsoleChannel.h>
#include <Poco/Logger.h>
#include <Poco/Message.h>
#include <Poco/SplitterChannel.h>

#include <chrono>
#include <functional>
#include <mutex>
#include <sstream>
#include <thread>

#include "api/app_api.h"

#include "config/component_graph.h"
#include "config/config_document.h"
#include "ha/builtin_plugins.h"
#include "ha/ha_catalog.h"
#include "kestrel/test/paths.h"
#include "loader/plugin_registry.h"
#include "runtime/component_runtime.h"
#include "runtime/metrics_registry.h"

namespace kestrel::test {
namespace {

// Keeps every message logged in the process, for assertions on the log.
class CaptureChannel : public Poco::Channel {
 public:
  void log(const Poco::Message& msg) override {
    std::lock_guard<std::mutex> lock(mu_);
    text_ += msg.getSource() + ": " + msg.getText() + "\n";
  }
  std::string text() const {
    std::lock_guard<std::mutex> lock(mu_);
    return text_;
  }

 private:
  mutable std::mutex mu_;
  std::string text_;
};

CaptureChannel* capture() {
  static CaptureChannel* channel = [] {
    auto* c = new CaptureChannel;  // never freed: loggers hold it until exit
    c->duplicate();
    return c;
  }();
  return channel;
}

}  // namespace

bool eventually(const std::function<bool()>& fn, int deadline_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(deadline_ms);
  for (;;) {
    if (fn()) return true;
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

ReplicationEnv::ReplicationEnv() : node_dir_("repl-node") {
  // The plugin's log lines (which rejoin path, mode changes) go to stderr,
  // and are kept for log_text().
  Poco::AutoPtr<Poco::SplitterChannel> splitter(new Poco::SplitterChannel);
  splitter->addChannel(Poco::AutoPtr<Poco::Channel>(new Poco::ConsoleChannel));
  capture()->duplicate();  // the AutoPtr below adopts one reference
  splitter->addChannel(Poco::AutoPtr<Poco::Channel>(capture()));
  log_start_ = capture()->text().size();
  // The root first (loggers made later inherit from it; setChannel("")
  // reaches only loggers that exist), then every existing one.
  Poco::Logger::root().setChannel(splitter);
  Poco::Logger::root().setLevel(Poco::Message::PRIO_INFORMATION);
  Poco::Logger::setChannel("", splitter);
  Poco::Logger::setLevel("", Poco::Message::PRIO_INFORMATION);
}

std::string ReplicationEnv::log_text() const { return capture()->text().substr(log_start_); }

size_t ReplicationEnv::log_count(const std::string& needle) const {
  const std::string log = log_text();
  size_t n = 0;
  for (size_t p = log.find(needle); p != std::string::npos; p = log.find(needle, p + 1)) ++n;
  return n;
}

std::pair<int, std::string> ReplicationEnv::app_health() const {
  host::AppApi api(*runtime_, *api_graph_, "");
  host::ApiRequest request;
  request.method = "GET";
  request.path = "/api/health";
  const host::ApiResponse r = api.handle(request);
  return {r.status, r.body};
}

ReplicationEnv::~ReplicationEnv() {
  if (runtime_) {
    runtime_->stop_all(5000);
    runtime_->destroy_all();
  }
  runtime_.reset();
  clusters_.clear();
}

PgCluster& ReplicationEnv::add_primary(const std::string& name, const std::map<std::string, std::string>& settings) {
  PgCluster::Options o;
  o.name = name;
  o.settings = settings;
  auto c = std::make_unique<PgCluster>(o);
  // The catalog schema, as store-postgres creates it, owned by the app role.
  for (const auto& m : catalog_schema::migrations())
    for (const auto& st : m.statements)
      if (catalog_schema::applies(st, catalog_schema::Dialect::kPostgres))
        c->query(catalog_schema::render(st, catalog_schema::Dialect::kPostgres), "kestrel");
  return *(clusters_[name] = std::move(c));
}

PgCluster& ReplicationEnv::add_empty(const std::string& name) {
  PgCluster::Options o;
  o.name = name;
  o.initialize = false;
  return *(clusters_[name] = std::make_unique<PgCluster>(o));
}

PgCluster& ReplicationEnv::add_initialized(const std::string& name) {
  PgCluster::Options o;
  o.name = name;
  return *(clusters_[name] = std::make_unique<PgCluster>(o));
}

std::string ReplicationEnv::node_item(const std::string& name, int priority, const std::string& fence) const {
  const PgCluster& c = *clusters_.at(name);
  std::string s = "{name: " + name + ", priority: " + std::to_string(priority) +
                  ", host: 127.0.0.1, port: " + std::to_string(c.port()) + ", dbname: kestrel, data_dir: \"" +
                  c.data_dir() + "\", bindir: \"" + PgCluster::bindir() + "\"";
  if (!fence.empty()) s += ", fence: " + fence;
  return s + "}";
}

std::string ReplicationEnv::nodes_option(const std::vector<std::string>& items) {
  std::string y = "    nodes:\n";
  for (const auto& item : items) y += "      - " + item + "\n";
  return y;
}

std::string ReplicationEnv::superuser_conninfo() { return "user=postgres password=postgres"; }

std::string ReplicationEnv::replicator_nodes(const std::vector<std::string>& items, const std::string& conninfo) {
  return nodes_option(items) + "    conninfo: \"" + conninfo + "\"\n";
}

std::string ReplicationEnv::create_errors(const std::string& yaml) {
  if (!registry_) {
    registry_ = std::make_unique<host::PluginRegistry>(host::ComponentRuntime::host_api(), "test");
    CPPUNIT_ASSERT(registry_->load_file(plugin_dir() + "/kestrel-replicator-pg.so"));
    // The HA catalog's scenarios: per-node stores and the built-in ha-catalog.
    CPPUNIT_ASSERT(registry_->load_file(plugin_dir() + "/kestrel-store-postgres.so"));
    // SQLite catalogs kept in step by the change log.
    CPPUNIT_ASSERT(registry_->load_file(plugin_dir() + "/kestrel-store-sqlite.so"));
    CPPUNIT_ASSERT(registry_->load_file(plugin_dir() + "/kestrel-replicator-changelog.so"));
    // Daemons agreeing through etcd (tests/integration/etcd); built with the
    // tree, absent only from a partial build (a config naming it then fails
    // with "unknown component type").
    if (Poco::File(plugin_dir() + "/kestrel-coordinator-etcd.so").exists())
      CPPUNIT_ASSERT(registry_->load_file(plugin_dir() + "/kestrel-coordinator-etcd.so"));
    host::ha::load_builtin_plugins(*registry_);
  }
  host::ConfigErrors errors;
  auto doc = host::ConfigDocument::load_text(yaml, "replication.yaml", node_dir_.path(), &errors);
  std::string text;
  for (const auto& e : errors) text += e.message + "\n";
  if (!doc || !errors.empty()) return "config: " + text;
  host::ComponentGraph g = host::build_component_graph(*doc, *registry_, node_dir_.path(), &errors);
  for (const auto& e : errors) text += e.message + "\n";
  if (!errors.empty()) return "graph: " + text;
  host::ComponentRuntime rt(std::move(g), host::NodeSettings{"n1", node_dir_.path()}, node_dir_.path());
  std::vector<std::string> create;
  if (rt.create_all(&create)) return std::string();
  for (const auto& e : create) text += e + "\n";
  return text;
}

std::unique_ptr<host::ComponentRuntime> ReplicationEnv::start_second_runtime(const std::string& yaml,
                                                                             const std::string& node_name) {
  const std::string problems = create_errors(yaml);
  CPPUNIT_ASSERT_MESSAGE(problems, problems.empty());
  host::ConfigErrors errors;
  second_docs_.push_back(host::ConfigDocument::load_text(yaml, "second.yaml", node_dir_.path(), &errors));
  auto rt = std::make_unique<host::ComponentRuntime>(
      host::build_component_graph(*second_docs_.back(), *registry_, node_dir_.path(), &errors),
      host::NodeSettings{node_name, node_dir_.path()}, node_dir_.path());
  std::vector<std::string> create;
  CPPUNIT_ASSERT(rt->create_all(&create));
  std::string err;
  CPPUNIT_ASSERT_MESSAGE(err, rt->start_all(&err));
  return rt;
}

void ReplicationEnv::start_runtime(const std::string& yaml, const std::string& node_name) {
  const std::string problems = create_errors(yaml);
  CPPUNIT_ASSERT_MESSAGE(problems, problems.empty());
  host::ConfigErrors errors;
  doc_ = host::ConfigDocument::load_text(yaml, "replication.yaml", node_dir_.path(), &errors);
  runtime_ = std::make_unique<host::ComponentRuntime>(host::build_component_graph(*doc_, *registry_, node_dir_.path(), &errors),
                                                      host::NodeSettings{node_name, node_dir_.path()}, node_dir_.path());
  api_graph_ = std::make_unique<host::ComponentGraph>(
      host::build_component_graph(*doc_, *registry_, node_dir_.path(), &errors));
  std::vector<std::string> create;
  CPPUNIT_ASSERT(runtime_->create_all(&create));
  std::string err;
  CPPUNIT_ASSERT_MESSAGE(err, runtime_->start_all(&err));
}

CatalogClient ReplicationEnv::catalog(const std::string& id) const {
  return CatalogClient(runtime_->interface_of(id, KESTREL_IFACE_CATALOG_V1));
}

host::ha::HaControl& ReplicationEnv::ha(const std::string& id) const { return ha_of(*runtime_, id); }

host::ha::HaControl& ReplicationEnv::ha_of(const host::ComponentRuntime& runtime, const std::string& id) {
  const kestrel_interface i = runtime.interface_of(id, host::ha::kHaControlInterface);
  return *static_cast<host::ha::HaControl*>(const_cast<void*>(i.vtable));
}

ReplicatorClient ReplicationEnv::replicator(const std::string& id) const {
  return ReplicatorClient(runtime_->interface_of(id, KESTREL_IFACE_REPLICATOR_V1));
}

std::string ReplicationEnv::status_json(const std::string& id) const { return runtime_->status_json(id); }

long ReplicationEnv::count_rows(PgCluster& c, const std::string& table) {
  return std::stol(c.query("SELECT count(*) FROM " + table).at(0).at(0));
}

void ReplicationEnv::wait_rows(PgCluster& c, long expected, int deadline_ms, const std::string& table) {
  long last = -1;
  std::string error;
  const bool ok = eventually(
      [&] {
        try {
          last = count_rows(c, table);
        } catch (const std::exception& e) {
          error = e.what();
        }
        return last == expected;
      },
      deadline_ms);
  CPPUNIT_ASSERT_MESSAGE(c.data_dir() + ": expected " + std::to_string(expected) + " rows in " + table + ", have " +
                             std::to_string(last) + " " + error,
                         ok);
}

void ReplicationEnv::insert_images(PgCluster& c, const std::string& prefix, int n) {
  c.query("INSERT INTO images (url, file_size, width, height, format, created_at, updated_at) SELECT '" + prefix +
              "' || g, g, 10, 10, 'png', g, g FROM generate_series(1, " + std::to_string(n) + ") AS g",
          "kestrel");
}

double ReplicationEnv::gauge(const std::string& name, const std::string& component, const std::string& standby) {
  const std::string key = name + "{component=\"" + component + "\"" +
                          (standby.empty() ? std::string() : ",standby=\"" + standby + "\"") + "} ";
  std::istringstream in(host::MetricsRegistry::global().render_prometheus());
  std::string line;
  while (std::getline(in, line))
    if (line.compare(0, key.size(), key) == 0) return std::stod(line.substr(key.size()));
  return -1;
}

}  // namespace kestrel::test
