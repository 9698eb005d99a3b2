// pg_hba.conf edits through SQL (see hba_editor.h).
#include "hba_editor.h"

#include <kestrel/plugin.hpp>

#include <sstream>
#include <vector>

namespace kestrel {
namespace replicator_pg {
namespace {

const char* const kFenceBegin = "# kestrel-fence begin";
const char* const kFenceEnd = "# kestrel-fence end";

std::string hba_path(PgConnection& conn) { return conn.value("SELECT setting FROM pg_settings WHERE name = 'hba_file'"); }

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

// Writes `lines` as the whole file (CSV with control-character delimiter and
// quote, so no text is escaped), reloads, and checks the rules parse; on
// errors writes `previous` back and throws.
void write_and_reload(PgConnection& conn, const std::string& path, const std::vector<std::string>& lines,
                      const std::string& previous) {
  auto write = [&](const std::vector<std::string>& ls) {
    std::string text;
    for (std::string l : ls) {
      for (char& c : l)
        if (c == '\t') c = ' ';
      if (l.find_first_not_of(' ') == std::string::npos) l = "#";
      text += (text.empty() ? "" : "\n") + l;
    }
    conn.exec("COPY (SELECT regexp_split_to_table(" + conn.literal(text) + ", E'\\n')) TO " + conn.literal(path) +
              " WITH (FORMAT csv, DELIMITER E'\\x01', QUOTE E'\\x02')");
  };
  write(lines);
  const std::string errors =
      conn.value("SELECT string_agg(line_number || ': ' || error, '; ') FROM pg_hba_file_rules WHERE error IS NOT NULL");
  if (!errors.empty()) {
    write(split_lines(previous));
    throw Error(KESTREL_ERR_INTERNAL,
                "node " + conn.node() + ": the edited " + path + " did not parse (" + errors + "); restored it");
  }
  conn.exec("SELECT pg_reload_conf()");
}

std::string quote_role(const std::string& name) { return "\"" + name + "\""; }

bool is_keyword(const std::string& s) {
  return s == "all" || s == "sameuser" || s == "samerole" || s == "samegroup" || s == "replication";
}

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  std::istringstream in(s);
  while (std::getline(in, cur, '\x1f')) out.push_back(cur);
  return out;
}

std::string join_names(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ",") + (is_keyword(n) ? n : quote_role(n));
  return out;
}

}  // namespace

void ensure_replication_rule(PgConnection& conn, const std::string& user, const std::string& network) {
  const std::string rule = "host replication " + quote_role(user) + " " + network + " scram-sha-256 # kestrel";
  const std::string path = hba_path(conn);
  const std::string content = conn.value("SELECT pg_read_file($1)", {path});
  std::vector<std::string> lines = split_lines(content);
  for (const auto& l : lines)
    if (l == rule) return;
  // After the fence block, if any, so a fenced node stays fenced.
  size_t at = 0;
  for (size_t i = 0; i < lines.size(); ++i)
    if (lines[i] == kFenceEnd) at = i + 1;
  lines.insert(lines.begin() + static_cast<std::ptrdiff_t>(at), rule);
  write_and_reload(conn, path, lines, content);
}

void prepend_fence_rules(PgConnection& conn) {
  const std::string path = hba_path(conn);
  const std::string content = conn.value("SELECT pg_read_file($1)", {path});
  std::vector<std::string> rest;
  bool in_block = false;
  for (const auto& l : split_lines(content)) {
    if (l == kFenceBegin) in_block = true;
    if (!in_block) rest.push_back(l);
    if (l == kFenceEnd) in_block = false;
  }
  std::vector<std::string> superusers;
  for (const auto& r : conn.query("SELECT rolname FROM pg_roles WHERE rolsuper AND rolcanlogin ORDER BY rolname"))
    superusers.push_back(r[0]);
  std::vector<std::string> block = {kFenceBegin};
  const Rows rules = conn.query(
      "SELECT type, array_to_string(database, E'\\x1f'), array_to_string(user_name, E'\\x1f'),"
      " coalesce(address, ''), coalesce(netmask, ''), auth_method, coalesce(array_to_string(options, ' '), '')"
      " FROM pg_hba_file_rules WHERE error IS NULL AND auth_method <> 'reject' ORDER BY line_number");
  for (const auto& r : rules) {
    const std::vector<std::string> dbs = split_list(r[1]);
    const std::vector<std::string> users = split_list(r[2]);
    bool replication = false;
    for (const auto& d : dbs) replication = replication || d == "replication";
    std::string who;
    if (replication) {
      who = join_names(users);
    } else {
      std::vector<std::string> kept;
      for (const auto& su : superusers)
        for (const auto& u : users)
          if (u == "all" || u == su) {
            kept.push_back(su);
            break;
          }
      if (kept.empty()) continue;
      who = join_names(kept);
    }
    std::string line = r[0] + " " + join_names(dbs) + " " + who;
    if (!r[3].empty()) line += " " + r[3] + (r[4].empty() ? "" : " " + r[4]);
    line += " " + r[5];
    if (!r[6].empty()) line += " " + r[6];
    block.push_back(line);
  }
  block.push_back("local all all reject");
  block.push_back("host all all 0.0.0.0/0 reject");
  block.push_back("host all all ::/0 reject");
  block.push_back(kFenceEnd);
  block.insert(block.end(), rest.begin(), rest.end());
  write_and_reload(conn, path, block, content);
}

}  // namespace replicator_pg
}  // namespace kestrel
