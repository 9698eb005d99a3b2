// ConfigError: one problem found in a configuration file, with its place.
#ifndef KESTREL_HOST_CONFIG_CONFIG_ERROR_H_
#define KESTREL_HOST_CONFIG_CONFIG_ERROR_H_

#include <string>
#include <vector>

namespace kestrel::host {

// A place in a config file. line and column are 1-based; 0 means unknown.
struct SourceLocation {
  std::string file;
  int line = 0;
  int column = 0;
};

struct ConfigError {
  SourceLocation where;
  std::string message;  // one sentence: what is wrong and how to fix it

  // "file:line:column: error: message" (line/column left out when unknown).
  std::string to_string() const;
};

using ConfigErrors = std::vector<ConfigError>;

}  // namespace kestrel::host

#endif  // KESTREL_HOST_CONFIG_CONFIG_ERROR_H_
