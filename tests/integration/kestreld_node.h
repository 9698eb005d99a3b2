// KestrelNode: one kestreld data dir + config in a TempDir, run with --once.
#ifndef KESTREL_INTEGRATION_KESTRELD_NODE_H
#define KESTREL_INTEGRATION_KESTRELD_NODE_H

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "kestrel/test/child_process.h"
#include "kestrel/test/temp_dir.h"

namespace kestrel {
namespace test {

// A single-node Kestrel (store-sqlite catalog, blob-local files, crawler-http)
// living in its own TempDir:
//   <tmp>/kestrel.yaml       the config written by the constructor
//   <tmp>/data/              --data-dir: catalog.db, images/, node.db
//   <tmp>/run-N.out|err      stdout/stderr of the N-th kestreld run
// Owns the folder (removed at scope end). One thread at a time.
// Options added under components.crawler of the node's config.
using CrawlerOptions = std::map<std::string, std::string>;

class KestrelNode {
 public:
  // `crawler_options` are added under components.crawler, values written as
  // given (YAML scalars), e.g. {"per_host_connections", "3"}. Without
  // per_host_connections the node sets 4. Throws std::runtime_error when
  // kestreld or the plugins are not built (naming what is missing).
  // `extra_plugin_paths` are searched after the build's plugin folder.
  explicit KestrelNode(const CrawlerOptions& crawler_options = CrawlerOptions(),
                       const std::vector<std::string>& extra_plugin_paths = {});
  KestrelNode(const KestrelNode&) = delete;
  KestrelNode& operator=(const KestrelNode&) = delete;

  const std::string& config_path() const { return config_path_; }
  const std::string& data_dir() const { return data_dir_; }
  std::string catalog_db() const { return data_dir_ + "/catalog.db"; }
  std::string images_dir() const { return data_dir_ + "/images"; }
  std::string node_db() const { return data_dir_ + "/node.db"; }
  std::string scratch() const { return dir_.path(); }

  // Starts `kestreld --config C --data-dir D --seed S... --once` and returns
  // the running process (the caller waits or signals it).
  std::unique_ptr<ChildProcess> start_once(const std::vector<std::string>& seeds);

  // What one finished run left.
  struct Run {
    int exit_code = -1;
    std::string out;  // stdout: the summary
    std::string err;  // stderr: the log
  };

  // start_once + wait up to `deadline` (kill and throw on expiry).
  Run run_once(const std::vector<std::string>& seeds, std::chrono::seconds deadline = std::chrono::seconds(600));

 private:
  TempDir dir_;
  std::string config_path_;
  std::string data_dir_;
  int runs_ = 0;
};

// True when kestreld and the three plugins the node needs are built; else
// false and `missing` lists what is not there. For tests to report clearly.
bool kestrel_chain_built(std::string* missing);

}  // namespace test
}  // namespace kestrel

#endif  // KESTREL_INTEGRATION_KESTRELD_NODE_H
