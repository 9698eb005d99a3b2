// Node spec parsing (see node_spec.h). The keyword/value tokenizer follows
// libpq's conninfo_parse() rules so that what libpq accepts, we accept.
#include "node_spec.h"

#include <kestrel/plugin.hpp>
#include <libpq-fe.h>

#include <cctype>
#include <memory>
#include <utility>
#include <vector>

namespace kestrel {
namespace replicator_pg {
namespace {

#ifndef KESTREL_PG_BINDIR
#define KESTREL_PG_BINDIR "/usr/lib/postgresql/15/bin"
#endif

using Pairs = std::vector<std::pair<std::string, std::string>>;

[[noreturn]] void bad(const std::string& option, const std::string& why) {
  throw Error(KESTREL_ERR_INVALID, "option " + option + ": " + why);
}

Pairs tokenize(const std::string& option, const std::string& s) {
  Pairs out;
  size_t i = 0;
  auto skip_space = [&] {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  };
  for (;;) {
    skip_space();
    if (i >= s.size()) break;
    size_t k = i;
    while (i < s.size() && s[i] != '=' && !std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    std::string key = s.substr(k, i - k);
    skip_space();
    if (i >= s.size() || s[i] != '=') bad(option, "missing \"=\" after \"" + key + "\" (expected key=value pairs)");
    ++i;
    skip_space();
    std::string value;
    if (i < s.size() && s[i] == '\'') {
      ++i;
      bool closed = false;
      while (i < s.size()) {
        if (s[i] == '\\' && i + 1 < s.size()) {
          value += s[i + 1];
          i += 2;
        } else if (s[i] == '\'') {
          ++i;
          closed = true;
          break;
        } else {
          value += s[i++];
        }
      }
      if (!closed) bad(option, "unterminated quoted value of \"" + key + "\"");
    } else {
      while (i < s.size() && !std::isspace(static_cast<unsigned char>(s[i]))) {
        if (s[i] == '\\' && i + 1 < s.size()) ++i;
        value += s[i++];
      }
    }
    out.emplace_back(key, value);
  }
  return out;
}

bool valid_name(const std::string& n) {
  if (n.empty() || n.size() > 50) return false;
  for (char c : n)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') return false;
  return true;
}

}  // namespace

std::string conninfo_quote(const std::string& value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\\' || c == '\'') out += '\\';
    out += c;
  }
  return out + "'";
}

std::string without_password(const std::string& conninfo, std::string* password) {
  std::string out;
  password->clear();
  for (const auto& kv : tokenize("conninfo", conninfo)) {
    if (kv.first == "password") {
      *password = kv.second;
      continue;
    }
    out += (out.empty() ? "" : " ") + kv.first + "=" + conninfo_quote(kv.second);
  }
  return out;
}

NodeSpec parse_node_spec(const std::string& option, const std::string& text) {
  NodeSpec spec;
  spec.bindir = KESTREL_PG_BINDIR;
  std::string fence;
  std::string libpq;
  for (const auto& kv : tokenize(option, text)) {
    const std::string& k = kv.first;
    const std::string& v = kv.second;
    if (k == "name") {
      if (!valid_name(v)) bad(option, "name=\"" + v + "\" is not a node name (letters, digits, _ - .; 1-50 chars)");
      spec.name = v;
    } else if (k == "priority") {
      try {
        size_t used = 0;
        spec.priority = std::stoi(v, &used);
        if (used != v.size()) throw std::invalid_argument(v);
      } catch (const std::exception&) {
        bad(option, "priority=\"" + v + "\" is not an integer");
      }
    } else if (k == "data_dir") {
      if (v.empty() || v[0] != '/') bad(option, "data_dir=\"" + v + "\" must be an absolute path");
      spec.data_dir = v;
    } else if (k == "bindir") {
      spec.bindir = v;
    } else if (k == "fence") {
      if (v != "stop" && v != "sql") bad(option, "fence=\"" + v + "\" must be stop or sql");
      fence = v;
    } else {
      if (k == "host") spec.host = v;
      if (k == "port") spec.port = v;
      if (k == "dbname") spec.dbname = v;
      if (!libpq.empty()) libpq += ' ';
      libpq += k + "=" + conninfo_quote(v);
    }
  }
  if (spec.name.empty()) bad(option, "name= is missing (every node spec needs name=<node>)");
  char* err = nullptr;
  std::unique_ptr<PQconninfoOption, void (*)(PQconninfoOption*)> parsed(PQconninfoParse(libpq.c_str(), &err),
                                                                         PQconninfoFree);
  if (!parsed) {
    std::string why = err ? err : "cannot parse the connection string";
    if (err) PQfreemem(err);
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    bad(option, "node " + spec.name + ": " + why +
                    " (allowed: libpq keywords plus name, priority, data_dir, bindir, fence)");
  }
  if (fence == "stop" && spec.data_dir.empty())
    bad(option, "node " + spec.name + ": fence=stop needs data_dir= (the server must be on this machine)");
  spec.fence_by_stop = fence.empty() ? !spec.data_dir.empty() : fence == "stop";
  spec.conninfo = libpq;
  return spec;
}

std::vector<NodeSpec> node_specs_from_list(const std::vector<OptionMap>& nodes, const std::string& conninfo) {
  for (const auto& kv : tokenize("conninfo", conninfo))
    if (kv.first == "host" || kv.first == "hostaddr" || kv.first == "port" || kv.first == "dbname" ||
        kv.first == "name" || kv.first == "priority" || kv.first == "data_dir" || kv.first == "bindir" ||
        kv.first == "fence")
      bad("conninfo", kv.first + "= belongs to each node of the nodes list, not to the shared conninfo");
  std::vector<NodeSpec> out;
  for (size_t i = 0; i < nodes.size(); ++i) {
    const OptionMap& n = nodes[i];
    const std::string option = "nodes[" + std::to_string(i) + "] (" + n.where() + ")";
    std::string text = "name=" + conninfo_quote(n.get_string("name")) +
                       " priority=" + std::to_string(n.get_int("priority")) +
                       " host=" + conninfo_quote(n.get_string("host")) + " port=" + std::to_string(n.get_int("port")) +
                       " dbname=" + conninfo_quote(n.get_string("dbname"));
    if (n.is_set("data_dir")) text += " data_dir=" + conninfo_quote(n.get_string("data_dir"));
    if (n.is_set("bindir")) text += " bindir=" + conninfo_quote(n.get_string("bindir"));
    if (n.is_set("fence")) text += " fence=" + conninfo_quote(n.get_string("fence"));
    if (!conninfo.empty()) text += " " + conninfo;
    NodeSpec spec = parse_node_spec(option, text);
    for (const NodeSpec& other : out)
      if (other.host == spec.host && other.port == spec.port)
        bad(option, "node " + spec.name + " is at " + spec.host + ":" + spec.port + ", the address of node " +
                        other.name + ": each node needs its own server");
    out.push_back(std::move(spec));
  }
  return out;
}

}  // namespace replicator_pg
}  // namespace kestrel
