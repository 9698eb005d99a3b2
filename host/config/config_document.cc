#include "config/config_document.h"

#include <Poco/Environment.h>
#include <Poco/Path.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

namespace kestrel::host {
namespace {

const std::vector<std::string> kTopLevelKeys = {"node", "plugins", "logging", "admin", "api", "components"};

// Reports every key that appears twice in a mapping, at any depth.
void check_duplicate_keys(const ConfigDocument& doc, const YAML::Node& node, ConfigErrors* errors) {
  if (node.IsMap()) {
    std::map<std::string, int> first_line;
    for (auto it = node.begin(); it != node.end(); ++it) {
      if (it->first.IsScalar()) {
        const std::string key = it->first.Scalar();
        SourceLocation here = doc.where(it->first);
        auto found = first_line.find(key);
        if (found != first_line.end())
          errors->push_back({here, "duplicate key '" + key + "' (first defined at line " +
                                       std::to_string(found->second) + "): remove one of them"});
        else
          first_line.emplace(key, here.line);
      }
      check_duplicate_keys(doc, it->second, errors);
    }
  } else if (node.IsSequence()) {
    for (const auto& child : node) check_duplicate_keys(doc, child, errors);
  }
}

// An error at the file level (no line). Built field by field: GCC 12's
// -Wmaybe-uninitialized misfires on brace-initialised nested strings at -O2.
ConfigError file_error(const std::string& file, const std::string& message) {
  ConfigError e;
  e.where.file = file;
  e.message = message;
  return e;
}

}  // namespace

std::string ConfigError::to_string() const {
  std::ostringstream out;
  out << (where.file.empty() ? "<config>" : where.file);
  if (where.line > 0) out << ":" << where.line << ":" << where.column;
  out << ": error: " << message;
  return out.str();
}

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates) {
  const std::string m = closest_match(word, candidates);
  return m.empty() ? "" : " (did you mean '" + m + "'?)";
}

std::string closest_match(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_d = word.size() / 3 + 2;  // a third of the word, plus a typo or two
  for (const auto& c : candidates) {
    size_t d = edit_distance(word, c);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  return best;
}

bool substitute_env(const std::string& text, std::string* out, std::string* error) {
  static const std::regex kVar(R"(\$\{env:([A-Za-z_][A-Za-z0-9_]*)\})");
  std::string result;
  auto begin = std::sregex_iterator(text.begin(), text.end(), kVar);
  size_t last = 0;
  for (auto it = begin; it != std::sregex_iterator(); ++it) {
    const std::string name = (*it)[1].str();
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) {
      *error = "environment variable " + name + " is not set (used as ${env:" + name + "})";
      return false;
    }
    result.append(text, last, static_cast<size_t>(it->position()) - last);
    result += value;
    last = static_cast<size_t>(it->position() + it->length());
  }
  result.append(text, last, std::string::npos);
  *out = result;
  return true;
}

bool check_listen_address(const std::string& listen, std::string* error) {
  if (listen.empty()) return true;
  std::string host, port;
  if (listen.front() == '[') {  // [v6]:port
    const size_t close = listen.find(']');
    if (close == std::string::npos || close + 1 >= listen.size() || listen[close + 1] != ':') {
      *error = "an IPv6 address must be written [address]:port, e.g. [::1]:8000";
      return false;
    }
    host = listen.substr(1, close - 1);
    port = listen.substr(close + 2);
  } else {
    const size_t colon = listen.rfind(':');
    if (colon == std::string::npos || listen.find(':') != colon) {
      *error = "must be host:port, e.g. 127.0.0.1:8000 (IPv6: [::1]:8000; empty: off)";
      return false;
    }
    host = listen.substr(0, colon);
    port = listen.substr(colon + 1);
  }
  if (host.empty()) {
    *error = "the host is missing: write 127.0.0.1:PORT for loopback or 0.0.0.0:PORT for every interface";
    return false;
  }
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
      std::stoul(port) > 65535) {
    *error = "the port must be a number from 0 to 65535";
    return false;
  }
  return true;
}

SourceLocation ConfigDocument::where(const YAML::Node& n) const {
  SourceLocation loc;
  loc.file = file_;
  const YAML::Mark m = n.Mark();
  if (!m.is_null()) {  // yaml-cpp marks are 0-based
    loc.line = m.line + 1;
    loc.column = m.column + 1;
  }
  return loc;
}

std::string ConfigDocument::resolve(const std::string& path) const {
  Poco::Path p(path);
  if (p.isAbsolute()) return p.toString();
  return Poco::Path(Poco::Path(config_dir_).makeDirectory(), p).toString();
}

void ConfigDocument::error(const YAML::Node& at, const std::string& message, ConfigErrors* errors) const {
  errors->push_back({where(at), message});
}

std::unique_ptr<ConfigDocument> ConfigDocument::load_file(const std::string& path, ConfigErrors* errors) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    errors->push_back(file_error(path, "cannot read the configuration file: " + std::string(std::strerror(errno))));
    return nullptr;
  }
  std::stringstream buf;
  buf << in.rdbuf();
  Poco::Path abs = Poco::Path(path).absolute();
  return load_text(buf.str(), path, abs.parent().toString(), errors);
}

std::unique_ptr<ConfigDocument> ConfigDocument::load_text(const std::string& text, const std::string& display_name,
                                                          const std::string& config_dir, ConfigErrors* errors) {
  std::unique_ptr<ConfigDocument> doc(new ConfigDocument());
  doc->file_ = display_name;
  doc->config_dir_ = config_dir;
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    SourceLocation loc{display_name, e.mark.is_null() ? 0 : e.mark.line + 1, e.mark.is_null() ? 0 : e.mark.column + 1};
    errors->push_back({loc, "YAML syntax error: " + e.msg});
    return nullptr;
  }
  doc->parse(root, errors);
  return doc;
}

void ConfigDocument::parse(const YAML::Node& root, ConfigErrors* errors) {
  node_.name = Poco::Environment::nodeName();
  node_.data_dir = "/var/lib/kestrel";
  api_.listen = "127.0.0.1:8000";
  admin_.listen = "127.0.0.1:8001";
  if (!root || root.IsNull()) {
    errors->push_back(file_error(file_, "the configuration is empty: it needs at least a 'components' map"));
    return;
  }
  if (!root.IsMap()) {
    error(root, "the configuration must be a YAML map with keys " + join(kTopLevelKeys), errors);
    return;
  }
  check_duplicate_keys(*this, root, errors);

  auto scalar = [&](const YAML::Node& n, const std::string& what, std::string* out) {
    if (!n.IsScalar()) {
      error(n, what + " must be a single value", errors);
      return false;
    }
    std::string err;
    if (!substitute_env(n.Scalar(), out, &err)) {
      error(n, what + ": " + err, errors);
      return false;
    }
    return true;
  };
  auto string_list = [&](const YAML::Node& n, const std::string& what, std::vector<std::string>* out) {
    if (n.IsScalar()) {
      std::string v;
      if (scalar(n, what, &v)) out->push_back(v);
    } else if (n.IsSequence()) {
      for (const auto& item : n) {
        std::string v;
        if (scalar(item, what + " item", &v)) out->push_back(v);
      }
    } else if (!n.IsNull()) {
      error(n, what + " must be a list of strings", errors);
    }
  };
  auto section = [&](const YAML::Node& n, const std::string& name, const std::vector<std::string>& keys,
                     auto&& handle) {
    if (n.IsNull()) return;
    if (!n.IsMap()) {
      error(n, "'" + name + "' must be a map with keys " + join(keys), errors);
      return;
    }
    for (auto it = n.begin(); it != n.end(); ++it) {
      const std::string key = it->first.as<std::string>("");
      if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
        error(it->first, "unknown key '" + key + "' in '" + name + "'" + did_you_mean(key, keys) + "; valid keys: " +
                             join(keys),
              errors);
        continue;
      }
      handle(key, it->second);
    }
  };

  for (auto it = root.begin(); it != root.end(); ++it) {
    const std::string key = it->first.as<std::string>("");
    const YAML::Node value = it->second;  // a copy: it-> yields a temporary proxy
    if (key == "node") {
      section(value, "node", {"name", "data_dir"}, [&](const std::string& k, const YAML::Node& v) {
        std::string s;
        if (!scalar(v, "node." + k, &s)) return;
        if (k == "name") {
          static const std::regex kName("[A-Za-z0-9][A-Za-z0-9._-]{0,62}");
          if (!std::regex_match(s, kName))
            error(v, "node.name '" + s + "' must be 1-63 letters, digits, '.', '_' or '-'", errors);
          else
            node_.name = s;
        } else {
          node_.data_dir = resolve(s);
        }
      });
    } else if (key == "plugins") {
      section(value, "plugins", {"paths", "deny"}, [&](const std::string& k, const YAML::Node& v) {
        std::vector<std::string> items;
        string_list(v, "plugins." + k, &items);
        if (k == "paths")
          for (const auto& p : items) plugins_.paths.push_back(resolve(p));
        else
          plugins_.deny = items;
      });
    } else if (key == "logging") {
      section(value, "logging", {"level", "file", "rotation", "keep"}, [&](const std::string& k, const YAML::Node& v) {
        std::string s;
        if (!scalar(v, "logging." + k, &s)) return;
        if (k == "level") {
          static const std::vector<std::string> levels = {"trace",   "debug",   "information", "notice",
                                                          "warning", "error",   "critical",    "fatal"};
          if (std::find(levels.begin(), levels.end(), s) == levels.end())
            error(v, "logging.level '" + s + "' is not one of " + join(levels), errors);
          else
            logging_.level = s;
        } else if (k == "file") {
          logging_.file = s.empty() ? "" : resolve(s);
        } else if (k == "rotation") {
          logging_.rotation = s;
        } else {
          try {
            logging_.keep = std::stoi(s);
          } catch (...) {
            error(v, "logging.keep must be an integer", errors);
          }
        }
      });
    } else if (key == "admin" || key == "api") {
      // Listen address and bearer token of the app API (`api`) and the HA
      // admin API (`admin`). The token is a secret: errors never quote it.
      HttpApiSettings& api = key == "api" ? api_ : admin_;
      section(value, key, {"listen", "token"}, [&](const std::string& k, const YAML::Node& v) {
        std::string s;
        if (v.IsNull()) s.clear();
        else if (!scalar(v, key + "." + k, &s)) return;
        if (k == "listen") {
          std::string why;
          if (!check_listen_address(s, &why)) {
            error(v, key + ".listen '" + s + "': " + why, errors);
            return;
          }
          api.listen = s;
          api.listen_set = true;
        } else {
          api.token = s;
        }
      });
    } else if (key == "components") {
      if (!value.IsMap()) {
        error(value, "'components' must be a map from component id to its settings", errors);
        continue;
      }
      static const std::regex kId("[a-z][a-z0-9_-]{0,62}");
      for (auto c = value.begin(); c != value.end(); ++c) {
        RawComponent rc;
        rc.id = c->first.as<std::string>("");
        rc.where = where(c->first);
        rc.body = c->second;
        if (!std::regex_match(rc.id, kId)) {
          error(c->first,
                "component id '" + rc.id + "' must start with a lower-case letter and use only a-z, 0-9, '_' and '-'",
                errors);
          continue;
        }
        if (!rc.body.IsMap()) {
          error(c->second, "component '" + rc.id + "' must be a map with at least 'type'", errors);
          continue;
        }
        bool duplicate = false;
        for (const auto& other : components_) duplicate |= other.id == rc.id;
        if (!duplicate) components_.push_back(rc);  // the duplicate itself was reported above
      }
    } else {
      error(it->first,
            "unknown top-level key '" + key + "'" + did_you_mean(key, kTopLevelKeys) + "; valid keys: " +
                join(kTopLevelKeys),
            errors);
    }
  }
}

}  // namespace kestrel::host
