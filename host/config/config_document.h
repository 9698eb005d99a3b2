// ConfigDocument: the YAML configuration file, read and checked up to the
// point where plugins are needed (DESIGN §3, phase 1).
//
// Checks done here: YAML syntax, duplicate keys anywhere (yaml-cpp 0.7 keeps
// both silently), unknown top-level keys, the `node`, `plugins`, `logging`,
// `admin` and `api` sections, component ids, and ${env:NAME} substitution.
// Every problem is collected with its file:line:column (1-based) before the
// caller decides to fail; nothing stops at the first error.
#ifndef KESTREL_HOST_CONFIG_CONFIG_DOCUMENT_H_
#define KESTREL_HOST_CONFIG_CONFIG_DOCUMENT_H_

#include <yaml-cpp/yaml.h>

#include <memory>
#include <string>
#include <vector>

#include "config/config_error.h"

namespace kestrel::host {

struct NodeSettings {
  std::string name;      // node.name; default: the machine's host name
  std::string data_dir;  // node.data_dir, absolute; default /var/lib/kestrel
};

struct PluginSettings {
  std::vector<std::string> paths;  // absolute; empty: the host's defaults
  std::vector<std::string> deny;   // file names (kestrel-x.so) or plugin short names (x)
};

struct LoggingSettings {
  std::string level = "information";  // Poco priority name
  std::string file;                   // absolute; empty: standard error
  std::string rotation = "10 M";      // Poco FileChannel rotation
  int keep = 5;                       // rotated files kept
};

// One HTTP API's settings (`api` or `admin` section).
struct HttpApiSettings {
  std::string listen;        // "host:port" (IPv6 as "[::1]:port"); empty: the API is off
  bool listen_set = false;   // true when the file names `listen` (else `listen` is the default)
  std::string token;         // bearer token for mutating endpoints; empty: none required. A secret: never log it
};

// One entry of `components`, before validation against plugin schemas.
struct RawComponent {
  std::string id;
  SourceLocation where;        // of the id key
  YAML::Node body;             // the component's map
};

class ConfigDocument {
 public:
  // Reads `path`. Returns nullptr only when nothing could be read (missing
  // file, syntax error); otherwise a document, with *errors possibly non-empty.
  static std::unique_ptr<ConfigDocument> load_file(const std::string& path, ConfigErrors* errors);
  // Parses `text` as if read from `display_name`; relative paths resolve
  // against `config_dir` (absolute).
  static std::unique_ptr<ConfigDocument> load_text(const std::string& text, const std::string& display_name,
                                                   const std::string& config_dir, ConfigErrors* errors);

  const std::string& file() const { return file_; }
  const std::string& config_dir() const { return config_dir_; }
  const NodeSettings& node() const { return node_; }
  NodeSettings& mutable_node() { return node_; }
  const PluginSettings& plugins() const { return plugins_; }
  const LoggingSettings& logging() const { return logging_; }
  // The app API (`api`, default listen 127.0.0.1:8000) and the HA admin API
  // (`admin`, default 127.0.0.1:8001), after ${env:...} substitution.
  const HttpApiSettings& api() const { return api_; }
  const HttpApiSettings& admin() const { return admin_; }
  const std::vector<RawComponent>& components() const { return components_; }

  // Place of a YAML node in this file.
  SourceLocation where(const YAML::Node& n) const;
  // Resolves a relative path against the config file's folder.
  std::string resolve(const std::string& path) const;

 private:
  ConfigDocument() = default;
  void parse(const YAML::Node& root, ConfigErrors* errors);
  void error(const YAML::Node& at, const std::string& message, ConfigErrors* errors) const;

  std::string file_;
  std::string config_dir_;
  NodeSettings node_;
  PluginSettings plugins_;
  LoggingSettings logging_;
  HttpApiSettings api_;
  HttpApiSettings admin_;
  std::vector<RawComponent> components_;
};

// Replaces every ${env:NAME} in `text` with the environment variable's value.
// Returns false (and names the variable in *error) when one is unset.
bool substitute_env(const std::string& text, std::string* out, std::string* error);

// Checks a listen address "host:port" ("[v6]:port" for IPv6; port 0-65535;
// the host a name or a literal). "" is valid (off). Returns false with one
// sentence in *error otherwise. Any thread.
bool check_listen_address(const std::string& listen, std::string* error);

// Edit distance, for "did you mean" hints.
size_t edit_distance(const std::string& a, const std::string& b);
// The closest of `candidates` to `word` if close enough, else "".
std::string closest_match(const std::string& word, const std::vector<std::string>& candidates);
// " (did you mean 'x'?)" for the closest match, or "": the tail of an
// "unknown ..." message, one wording everywhere.
std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates);
// "a, b, c": a list in a message.
std::string join(const std::vector<std::string>& items);

}  // namespace kestrel::host

#endif  // KESTREL_HOST_CONFIG_CONFIG_DOCUMENT_H_
