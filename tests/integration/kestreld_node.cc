#include "kestreld_node.h"

#include <stdexcept>

#include "kestrel/test/files.h"
#include "kestrel/test/paths.h"

namespace kestrel {
namespace test {

bool kestrel_chain_built(std::string* missing) {
  std::vector<std::string> needed = {kestreld_path(), plugin_dir() + "/kestrel-store-sqlite.so",
                                     plugin_dir() + "/kestrel-blob-local.so",
                                     plugin_dir() + "/kestrel-crawler-http.so"};
  std::string m;
  for (const auto& p : needed)
    if (!path_exists(p)) m += (m.empty() ? "" : ", ") + p;
  if (missing) *missing = m;
  return m.empty();
}

KestrelNode::KestrelNode(const CrawlerOptions& crawler_options, const std::vector<std::string>& extra_plugin_paths)
    : dir_("node") {
  std::string missing;
  if (!kestrel_chain_built(&missing))
    throw std::runtime_error("not built: " + missing +
                             " (cmake --build BUILD --target kestreld kestrel-store-sqlite kestrel-blob-local "
                             "kestrel-crawler-http)");
  config_path_ = dir_.file("kestrel.yaml");
  data_dir_ = dir_.make_dir("data");
  std::map<std::string, std::string> opts = crawler_options;
  opts.emplace("per_host_connections", "4");
  std::string yaml =
      "node:\n"
      "  name: test-node\n"
      "api:\n"
      "  listen: \"\"\n"  // no App API: parallel tests must not race for port 8000
      "plugins:\n"
      "  paths: [\"" +
      plugin_dir() + "\"";
  for (const auto& p : extra_plugin_paths) yaml += ", \"" + p + "\"";
  yaml +=
      "]\n"
      "components:\n"
      "  catalog:\n"
      "    type: store-sqlite\n"
      "  images:\n"
      "    type: blob-local\n"
      "  crawler:\n"
      "    type: crawler-http\n"
      "    catalog: catalog\n"
      "    files: images\n";
  for (const auto& [key, value] : opts) yaml += "    " + key + ": " + value + "\n";
  write_file(config_path_, yaml);
}

std::unique_ptr<ChildProcess> KestrelNode::start_once(const std::vector<std::string>& seeds) {
  std::vector<std::string> args = {"--config", config_path_, "--data-dir", data_dir_};
  for (const auto& s : seeds) {
    args.push_back("--seed");
    args.push_back(s);
  }
  args.push_back("--once");
  ++runs_;
  std::string base = dir_.file("run-" + std::to_string(runs_));
  return std::make_unique<ChildProcess>(kestreld_path(), args, base + ".out", base + ".err");
}

KestrelNode::Run KestrelNode::run_once(const std::vector<std::string>& seeds, std::chrono::seconds deadline) {
  auto p = start_once(seeds);
  Run r;
  r.exit_code = p->wait_or_kill(deadline);
  r.out = p->stdout_text();
  r.err = p->stderr_text();
  return r;
}

}  // namespace test
}  // namespace kestrel
