// Local server control (see local_server.h).
#include "local_server.h"

#include <kestrel/plugin.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <vector>

#include "pg_conninfo.h"
#include "pg_tools.h"

namespace kestrel {
namespace replicator_pg {
namespace fs = std::filesystem;

namespace {

std::string quote_conf(const std::string& v) {
  std::string out = "'";
  for (char c : v) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

// The setting name of a postgresql.conf line ("" for comments and blanks).
std::string conf_key(const std::string& line) {
  size_t i = line.find_first_not_of(" \t");
  if (i == std::string::npos || line[i] == '#') return std::string();
  size_t j = i;
  while (j < line.size() && line[j] != '=' && line[j] != ' ' && line[j] != '\t') ++j;
  return line.substr(i, j - i);
}

// PGPASSWORD for a command line (nothing when there is no password, so that
// ~/.pgpass still applies).
std::vector<std::string> password_env(const std::string& password) {
  if (password.empty()) return {};
  return {"PGPASSWORD=" + password};
}

}  // namespace

LocalServer::LocalServer(const ToolRunner& tools, const NodeSpec& spec, int64_t timeout_ms)
    : tools_(tools), spec_(spec), timeout_ms_(timeout_ms) {}

bool LocalServer::running() const {
  if (!has_cluster()) return false;
  ProcessResult r = tools_.run({tool("pg_ctl"), "status", "-D", spec_.data_dir}, owner_for(spec_.data_dir), 30000);
  return r.exit_code == 0;
}

void LocalServer::start() const {
  if (running()) return;
  const int64_t seconds = timeout_ms_ / 1000 < 10 ? 10 : timeout_ms_ / 1000;
  ProcessResult r = tools_.run({tool("pg_ctl"), "start", "-w", "-t", std::to_string(seconds), "-D", spec_.data_dir,
                                 "-l", log_path()},
                                owner_for(spec_.data_dir), timeout_ms_ + 5000);
  if (r.exit_code != 0) {
    std::string hint = disk_full_hint();
    throw Error(KESTREL_ERR_UNAVAILABLE, "node " + spec_.name + ": pg_ctl start failed (exit " +
                                             std::to_string(r.exit_code) + "): " + r.output +
                                             (hint.empty() ? "" : " " + hint) + "; log " + log_path() + ": " +
                                             log_tail(600),
                true);
  }
}

void LocalServer::stop(const std::string& mode) const {
  if (!running()) return;
  ProcessResult r = tools_.run({tool("pg_ctl"), "stop", "-w", "-m", mode, "-D", spec_.data_dir},
                                owner_for(spec_.data_dir), timeout_ms_);
  if (r.exit_code != 0 && running())
    throw Error(KESTREL_ERR_UNAVAILABLE,
                "node " + spec_.name + ": pg_ctl stop -m " + mode + " failed: " + r.output, true);
}

bool LocalServer::has_cluster() const { return fs::exists(spec_.data_dir + "/PG_VERSION"); }

std::string LocalServer::system_identifier() const {
  ProcessResult r = tools_.run({tool("pg_controldata"), "-D", spec_.data_dir}, owner_for(spec_.data_dir), 30000);
  const std::string key = "Database system identifier:";
  const size_t at = r.output.find(key);
  if (r.exit_code != 0 || at == std::string::npos)
    throw Error(KESTREL_ERR_IO, "node " + spec_.name + ": pg_controldata failed on " + spec_.data_dir + ": " + r.output);
  std::istringstream in(r.output.substr(at + key.size()));
  std::string id;
  in >> id;
  return id;
}

void LocalServer::clear() const {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(spec_.data_dir, ec)) {
    fs::remove_all(entry.path(), ec);
    if (ec) throw Error(KESTREL_ERR_IO, "node " + spec_.name + ": cannot remove " + entry.path().string() + ": " + ec.message());
  }
  if (ec) throw Error(KESTREL_ERR_IO, "node " + spec_.name + ": cannot list " + spec_.data_dir + ": " + ec.message());
}

bool LocalServer::basebackup(const std::string& conninfo, const std::string& slot, std::string* why) const {
  if (!fs::exists(spec_.data_dir)) {
    std::error_code ec;
    fs::create_directories(spec_.data_dir, ec);
    if (ec) {
      *why = "cannot create " + spec_.data_dir + ": " + ec.message();
      return false;
    }
  }
  std::string password;
  const std::string safe = pg::without_password(conninfo, &password);
  ProcessResult r = tools_.run({tool("pg_basebackup"), "-D", spec_.data_dir, "-S", slot, "-R", "-X", "stream", "-c",
                                 "fast", "-d", safe},
                                owner_for(spec_.data_dir), timeout_ms_, password_env(password));
  if (r.exit_code == 0) return true;
  *why = r.timed_out ? "pg_basebackup timed out" : "pg_basebackup failed (exit " + std::to_string(r.exit_code) + "): " + r.output;
  return false;
}

bool LocalServer::rewind(const std::string& source_conninfo, std::string* why) const {
  std::string password;
  const std::string safe = pg::without_password(source_conninfo, &password);
  ProcessResult r = tools_.run({tool("pg_rewind"), "--target-pgdata=" + spec_.data_dir, "--source-server=" + safe},
                                owner_for(spec_.data_dir), timeout_ms_, password_env(password));
  if (r.exit_code == 0) return true;
  *why = r.timed_out ? "pg_rewind timed out" : "pg_rewind failed (exit " + std::to_string(r.exit_code) + "): " + r.output;
  return false;
}

void LocalServer::write_owned_file(const std::string& path, const std::string& content) const {
  const std::string tmp = path + ".kestrel-tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << content;
    out.flush();
    if (!out) throw Error(KESTREL_ERR_IO, "node " + spec_.name + ": cannot write " + tmp);
  }
  struct stat st;
  if (::stat(spec_.data_dir.c_str(), &st) == 0) {
    if (::chown(tmp.c_str(), st.st_uid, st.st_gid) != 0 && ::geteuid() == 0)
      throw Error(KESTREL_ERR_IO, "node " + spec_.name + ": cannot chown " + tmp);
  }
  ::chmod(tmp.c_str(), 0600);
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) throw Error(KESTREL_ERR_IO, "node " + spec_.name + ": cannot rename " + tmp + ": " + ec.message());
}

void LocalServer::set_auto_conf(const std::map<std::string, std::string>& settings) const {
  const std::string path = spec_.data_dir + "/postgresql.auto.conf";
  std::ifstream in(path);
  std::string line, out;
  while (std::getline(in, line))
    if (settings.count(conf_key(line)) == 0) out += line + "\n";
  for (const auto& kv : settings) out += kv.first + " = " + quote_conf(kv.second) + "\n";
  write_owned_file(path, out);
}

void LocalServer::write_standby_signal() const { write_owned_file(spec_.data_dir + "/standby.signal", ""); }

std::string LocalServer::log_tail(size_t max_bytes) const {
  std::ifstream in(log_path(), std::ios::binary);
  if (!in) return std::string();
  std::ostringstream all;
  all << in.rdbuf();
  std::string s = all.str();
  return s.size() > max_bytes ? s.substr(s.size() - max_bytes) : s;
}

std::string LocalServer::disk_full_hint() const {
  struct statvfs vfs;
  if (::statvfs(spec_.data_dir.c_str(), &vfs) == 0) {
    const unsigned long long free_bytes = static_cast<unsigned long long>(vfs.f_bavail) * vfs.f_frsize;
    if (free_bytes < 16ull * 1024 * 1024)
      return "disk full: only " + std::to_string(free_bytes) + " bytes free under " + spec_.data_dir +
             " (free space there, then start the node again)";
  }
  if (log_tail(8000).find("No space left on device") != std::string::npos)
    return "disk full: the server log of " + spec_.name + " reports \"No space left on device\" (free space under " +
           spec_.data_dir + ", then start the node again)";
  return std::string();
}

}  // namespace replicator_pg
}  // namespace kestrel
