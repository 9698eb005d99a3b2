#include "kestreld/kestreld_app.h"

#include <kestrel/plugin.hpp>

#include <Poco/AutoPtr.h>
#include <Poco/ConsoleChannel.h>
#include <Poco/File.h>
#include <Poco/FileChannel.h>
#include <Poco/FormattingChannel.h>
#include <Poco/Logger.h>
#include <Poco/Path.h>
#include <Poco/PatternFormatter.h>
#include <Poco/Util/HelpFormatter.h>
#include <Poco/Util/Option.h>
#include <Poco/Util/OptionSet.h>

#include <csignal>
#include <functional>
#include <iostream>

#include "api/app_api.h"
#include "api/app_api_server.h"
#include "api/ha_api.h"
#include "config/component_graph.h"
#include "kestreld/crawl_once.h"
#include "kestreld/default_config.h"
#include "kestreld/exit_codes.h"
#include "ha/builtin_plugins.h"
#include "ha/ha_catalog.h"
#include "loader/plugin_registry.h"
#include "runtime/component_runtime.h"

#ifndef KESTREL_VERSION
#define KESTREL_VERSION "0.0.0"
#endif

namespace kestrel::host {
namespace {

using Poco::Util::Option;

std::string absolute(const std::string& p) { return Poco::Path(p).absolute().toString(); }

// True when SIGINT or SIGTERM is pending. main() blocks both in every thread
// before any is created, so they queue up here instead of killing the process
// in the middle of a write.
bool termination_pending() {
#if defined(_WIN32)
  return false;
#else
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  struct timespec zero = {0, 0};
  return sigtimedwait(&set, nullptr, &zero) > 0;
#endif
}

void print_errors(const ConfigErrors& errors) {
  for (const auto& e : errors) std::cerr << e.to_string() << "\n";
  if (!errors.empty())
    std::cerr << errors.size() << " error" << (errors.size() == 1 ? "" : "s") << " in the configuration\n";
}

// The plugins compiled into kestreld, registered before any .so so that a
// plugin file cannot take their type names.
void load_builtins(PluginRegistry& registry) { ha::load_builtin_plugins(registry); }

}  // namespace

void KestreldApp::defineOptions(Poco::Util::OptionSet& options) {
  ServerApplication::defineOptions(options);  // --daemon, --pidfile, --umask / Windows service options
  options.addOption(Option("help", "h", "print this help and exit").repeatable(false));
  options.addOption(Option("version", "V", "print the version and exit").repeatable(false));
  options.addOption(Option("config", "c", "configuration file (YAML); default: the embedded config/default.yaml")
                        .argument("FILE")
                        .repeatable(false));
  options.addOption(Option("data-dir", "d",
                           "node data directory (overrides node.data_dir): catalog.db, images/, node.db, host-state.db")
                        .argument("DIR")
                        .repeatable(false));
  options.addOption(Option("seed", "s", "start URL; repeatable; replaces the crawler's configured seeds")
                        .argument("URL")
                        .repeatable(true));
  options.addOption(Option("once", "1", "run the configured crawl to completion, print a summary and exit"));
  options.addOption(Option("validate", "", "check FILE (syntax, graph, plugin options) and exit").argument("FILE"));
  options.addOption(Option("report", "", "with --once: write the crawl report (JSON) to FILE").argument("FILE"));
  options.addOption(Option("log-level", "", "trace, debug, information, notice, warning, error (overrides logging.level)")
                        .argument("LEVEL"));
  options.addOption(Option("list-plugins", "", "load the plugins, print them with their component types and options, and exit"));
  options.addOption(Option("no-api", "", "do not serve the App API (same as api.listen: \"\")"));
}

void KestreldApp::handleOption(const std::string& name, const std::string& value) {
  ServerApplication::handleOption(name, value);
  // Paths become absolute now: --daemon changes the working directory to "/".
  if (name == "help") help_ = true;
  else if (name == "version") version_ = true;
  else if (name == "config") config_file_ = absolute(value);
  else if (name == "data-dir") data_dir_ = absolute(value);
  else if (name == "seed") seeds_.push_back(value);
  else if (name == "once") once_ = true;
  else if (name == "validate") validate_file_ = absolute(value);
  else if (name == "report") report_file_ = absolute(value);
  else if (name == "log-level") log_level_ = value;
  else if (name == "list-plugins") list_plugins_ = true;
  else if (name == "no-api") no_api_ = true;
  if (help_ || version_) stopOptionsProcessing();
}

void KestreldApp::print_help() const {
  Poco::Util::HelpFormatter help(options());
  help.setCommand(commandName());
  help.setUsage("--config FILE [--data-dir DIR] [--seed URL]... [--once] [--no-api] | --validate FILE");
  help.setHeader(
      "Kestrel daemon: loads plugins, builds the component graph of the configuration and runs it; "
      "crawls websites for images into the catalog. Once the components run, it serves the App API "
      "(api.listen, default 127.0.0.1:8000; with --once too, while the crawl runs): GET /api/health, "
      "POST /api/crawl/start|stop, GET /api/crawl/status, GET /api/images, GET|DELETE /api/images/{id}, "
      "GET /metrics; api.token guards the POST and DELETE requests (see kestrelctl).");
  help.setFooter(
      "Exit codes: 0 success (with --once: the crawl finished); 1 a component failed to start or the crawl "
      "failed; 64 bad arguments (a stray argument, a seed that is not an absolute http(s) URL); 75 --once was "
      "stopped by SIGTERM/SIGINT before the crawl finished (run it again to resume); 78 invalid configuration "
      "(also from --validate) or an unknown command-line option. An App API address that cannot be bound (in "
      "use) exits 1, except with --once when api.listen is not set: then kestreld warns and crawls without the "
      "API. SIGTERM and SIGINT stop kestreld cleanly: "
      "no half-written record or file.");
  help.format(std::cout);
}

void KestreldApp::setup_logging(const LoggingSettings& settings) {
  Poco::AutoPtr<Poco::PatternFormatter> formatter(new Poco::PatternFormatter("%Y-%m-%d %H:%M:%S.%i %q [%s] %t"));
  formatter->setProperty("times", "UTC");
  Poco::AutoPtr<Poco::Channel> sink;
  if (!settings.file.empty()) {
    Poco::AutoPtr<Poco::FileChannel> file(new Poco::FileChannel(settings.file));
    file->setProperty("rotation", settings.rotation);
    file->setProperty("archive", "timestamp");
    file->setProperty("purgeCount", std::to_string(settings.keep));
    file->setProperty("flush", "true");
    sink = file;
  } else {
    sink = new Poco::ConsoleChannel(std::cerr);
  }
  Poco::AutoPtr<Poco::FormattingChannel> channel(new Poco::FormattingChannel(formatter, sink));
  const std::string level = log_level_.empty() ? settings.level : log_level_;
  Poco::Logger::root().setChannel(channel);
  Poco::Logger::setChannel("", channel);
  Poco::Logger::setLevel("", Poco::Logger::parseLevel(level));
  Poco::Logger::root().setLevel(level);
}

std::unique_ptr<ConfigDocument> KestreldApp::load_config(ConfigErrors* errors) const {
  const std::string file = !validate_file_.empty() ? validate_file_ : config_file_;
  if (!file.empty()) return ConfigDocument::load_file(file, errors);
  const std::string exe_dir = config().getString("application.dir");
  return ConfigDocument::load_text(kDefaultConfigYaml, "<embedded config/default.yaml>", exe_dir, errors);
}

std::vector<std::string> KestreldApp::plugin_paths(const ConfigDocument& doc) const {
  if (!doc.plugins().paths.empty()) return doc.plugins().paths;
  // Defaults: the build tree (build/bin/../plugins) and the install prefix (bin/../lib/kestrel/plugins).
  Poco::Path exe_dir(config().getString("application.dir"));
  std::vector<std::string> out;
  for (const char* rel : {"../plugins", "../lib/kestrel/plugins"}) {
    Poco::Path p(exe_dir, rel);
    p.makeDirectory();
    std::string s = Poco::Path(p.toString()).absolute().toString();
    if (Poco::File(s).exists()) out.push_back(s);
  }
  return out;
}

int KestreldApp::list_plugins() {
  ConfigErrors errors;
  auto doc = load_config(&errors);
  if (!doc) {
    print_errors(errors);
    return kExitConfig;
  }
  PluginRegistry registry(ComponentRuntime::host_api(), KESTREL_VERSION);
  load_builtins(registry);
  for (const auto& dir : plugin_paths(*doc)) registry.load_directory(dir, doc->plugins().deny);
  for (const auto& p : registry.plugins()) {
    std::cout << p.file_name() << " [" << p.state_name() << "]";
    if (!p.name.empty()) std::cout << " " << p.name << " " << p.version << " (ABI " << p.abi_major << "." << p.abi_minor << ")";
    std::cout << "\n";
    if (!p.error.empty()) std::cout << "  reason: " << p.error << "\n";
    for (const auto& type_name : p.component_types) {
      const ComponentType* t = registry.find_type(type_name);
      std::cout << "  type " << t->type << ": " << t->description << "\n";
      for (const auto& iface : t->provides) std::cout << "    provides " << iface << "\n";
      // A list of maps prints its item's fields below it, indented.
      std::function<void(const OptionSpec&, const std::string&)> print = [&](const OptionSpec& o,
                                                                            const std::string& indent) {
        std::cout << indent << o.name << " (" << option_type_name(o.type);
        if (o.type == KESTREL_OPT_REF || o.type == KESTREL_OPT_REF_LIST) std::cout << " to " << o.interface_name;
        if (o.required()) std::cout << ", required";
        else if (o.has_default && !o.secret()) std::cout << ", default '" << o.default_value << "'";
        if (o.unique()) std::cout << ", unique";
        std::cout << "): " << o.description << "\n";
        for (const OptionSpec& f : o.fields) print(f, indent + "  - ");
      };
      for (const auto& o : t->options) print(o, "    ");
    }
  }
  return kExitOk;
}

int KestreldApp::main(const std::vector<std::string>& args) {
  if (help_) {
    print_help();
    return kExitOk;
  }
  if (version_) {
    std::cout << "kestreld " << KESTREL_VERSION << " (SDK ABI " << PluginRegistry::abi_range_text() << ")\n";
    return kExitOk;
  }
  if (!args.empty()) {
    std::cerr << "kestreld: unexpected argument '" << args.front() << "' (see --help)\n";
    return kExitUsage;
  }
  setup_logging(LoggingSettings{});  // until the config says otherwise
  if (list_plugins_) return list_plugins();

  ConfigErrors errors;
  auto doc = load_config(&errors);
  if (!doc) {
    print_errors(errors);
    return kExitConfig;
  }
  if (!data_dir_.empty()) doc->mutable_node().data_dir = data_dir_;
  const bool validate_only = !validate_file_.empty();
  if (!validate_only && errors.empty()) setup_logging(doc->logging());
  Poco::Logger& log = Poco::Logger::get("kestreld");

  PluginRegistry registry(ComponentRuntime::host_api(), KESTREL_VERSION);
  load_builtins(registry);
  const auto paths = plugin_paths(*doc);
  if (paths.empty()) log.warning("no plugin directory found: set plugins.paths in the configuration");
  for (const auto& dir : paths) registry.load_directory(dir, doc->plugins().deny);

  ComponentGraph graph = build_component_graph(*doc, registry, doc->node().data_dir, &errors);
  if (!errors.empty()) {
    print_errors(errors);
    return kExitConfig;
  }

  ComponentRuntime runtime(graph, doc->node(), doc->config_dir());
  std::vector<std::string> create_errors;
  bool created = runtime.create_all(&create_errors);
  for (const auto& e : create_errors) std::cerr << doc->file() << ": error: " << e << "\n";
  if (validate_only) {
    runtime.destroy_all();
    if (!created) return kExitConfig;
    std::cout << doc->file() << ": configuration is valid (" << graph.components.size() << " components:";
    for (const auto& c : graph.components) std::cout << " " << c.id << "=" << c.type;
    std::cout << ")\n";
    return kExitOk;
  }
  if (!created) return kExitConfig;

  try {
    Poco::File(doc->node().data_dir).createDirectories();
  } catch (const std::exception& e) {
    std::cerr << "kestreld: cannot create the data directory " << doc->node().data_dir << ": " << e.what() << "\n";
    return kExitFailure;
  }
  log.information("node " + doc->node().name + ", data directory " + doc->node().data_dir);

  std::string start_error;
  if (!runtime.start_all(&start_error)) {
    std::cerr << "kestreld: " << start_error << "\n";
    return kExitFailure;
  }

  // The App API, after the components (it calls them) and stopped before them.
  std::unique_ptr<AppApi> api;
  std::unique_ptr<AppApiServer> api_server;
  const HttpApiSettings& api_settings = doc->api();
  if (!no_api_ && !api_settings.listen.empty()) {
    api = std::make_unique<AppApi>(runtime, graph, api_settings.token);
    api_server = std::make_unique<AppApiServer>(*api, api_settings.listen);
    try {
      api_server->start();
      log.information("App API on " + api_server->url() +
                      (api_settings.token.empty() ? " (no api.token: changes need no token)"
                                                  : " (changes need the api.token bearer token)"));
    } catch (const std::exception& e) {
      api_server.reset();
      if (once_ && !api_settings.listen_set) {
        // A batch job on a machine where a daemon holds the default port:
        // crawl anyway, without the API (set api.listen to make this fatal).
        log.warning(std::string("App API off: ") + e.what());
      } else {
        std::cerr << "kestreld: App API (api.listen): " << e.what() << "\n";
        runtime.stop_all(30000);
        runtime.destroy_all();
        return kExitFailure;
      }
    }
  }

  // The HA API on admin.listen, the same way; a default address that is in
  // use (another daemon on this machine) only warns.
  std::unique_ptr<HaApi> ha_api;
  std::unique_ptr<AppApiServer> ha_server;
  const HttpApiSettings& admin = doc->admin();
  if (!no_api_ && !admin.listen.empty()) {
    ha_api = std::make_unique<HaApi>(runtime, admin.token, doc->node().name);
    ha_server = std::make_unique<AppApiServer>(*ha_api, admin.listen, 64 << 20);  // peer batches, snapshot chunks
    try {
      ha_server->start();
      if (api) api->set_ha_api(ha_api.get());
      log.information("HA API on " + ha_server->url() +
                      (admin.token.empty() ? " (no admin.token: changes need no token)"
                                           : " (changes need the admin.token bearer token)"));
    } catch (const std::exception& e) {
      ha_server.reset();
      if (!admin.listen_set) {
        log.warning(std::string("HA API off: ") + e.what() + " (set admin.listen to choose another address)");
      } else {
        std::cerr << "kestreld: HA API (admin.listen): " << e.what() << "\n";
        if (api_server) api_server->stop();
        runtime.stop_all(30000);
        runtime.destroy_all();
        return kExitFailure;
      }
    }
  }

  int code = kExitOk;
  if (once_) {
    CrawlOnceOptions o;
    o.seeds = seeds_;
    o.report_file = report_file_;
    o.stop_requested = termination_pending;
    code = run_crawl_once(runtime, o, std::cout, std::cerr);
  } else {
    // Service mode: start the configured crawl if there is one, then serve
    // (the App API controls crawls) until SIGTERM/SIGINT.
    for (const auto& id : runtime.providers_of(KESTREL_IFACE_CRAWLER_V1)) {
      try {
        CrawlerClient(runtime.interface_of(id, KESTREL_IFACE_CRAWLER_V1)).start(seeds_);
      } catch (const Error& e) {
        log.information("crawler '" + id + "' not started: " + e.what());
      }
    }
    log.information("kestreld running; SIGTERM or SIGINT stops it");
    waitForTerminationRequest();
    log.information("stopping");
  }
  if (ha_server) ha_server->stop();
  if (api_server) api_server->stop();
  runtime.stop_all(30000);
  runtime.destroy_all();
  return code;
}

}  // namespace kestrel::host
