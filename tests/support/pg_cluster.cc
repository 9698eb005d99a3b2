#include "kestrel/test/pg_cluster.h"

#include <fcntl.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "kestrel/test/ports.h"
#include "kestrel/test/temp_dir.h"

extern char** environ;

namespace kestrel {
namespace test {
namespace {

const char* const kSuperPassword = "postgres";

bool is_root() { return ::geteuid() == 0; }

// The postgres account's uid/gid; throws when we are root and it is missing
// (initdb and postgres refuse to run as root, so there is no fallback).
struct passwd postgres_account() {
  struct passwd* pw = ::getpwnam("postgres");
  if (pw == nullptr)
    throw std::runtime_error(
        "PgCluster: running as root but there is no `postgres` user to run the server as "
        "(install the postgresql package, or run the tests as a non-root user)");
  return *pw;
}

// Gives `path` to the postgres user when we are root (postgres must own its data dir).
void give_to_postgres(const std::string& path) {
  if (!is_root()) return;
  struct passwd pw = postgres_account();
  if (::chown(path.c_str(), pw.pw_uid, pw.pw_gid) != 0)
    throw std::runtime_error("PgCluster: cannot chown " + path + " to postgres: " + std::strerror(errno));
}

std::string read_tail(const std::string& path, std::size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "(no log at " + path + ")";
  in.seekg(0, std::ios::end);
  std::streamoff size = in.tellg();
  std::streamoff from =
      size > static_cast<std::streamoff>(max_bytes) ? size - static_cast<std::streamoff>(max_bytes) : 0;
  in.seekg(from);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// A libpq conninfo value: bare when it can be, else single-quoted with
// backslash escapes.
std::string conn_value(const std::string& v) {
  if (!v.empty() && v.find_first_of(" \t\n'\\=") == std::string::npos) return v;
  std::string out = "'";
  for (char c : v) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

struct PGconnCloser {
  void operator()(PGconn* c) const { PQfinish(c); }
};
struct PGresultClearer {
  void operator()(PGresult* r) const { PQclear(r); }
};

// Owns a posix_spawn file-actions object.
class SpawnActions {
 public:
  SpawnActions() { posix_spawn_file_actions_init(&actions_); }
  ~SpawnActions() { posix_spawn_file_actions_destroy(&actions_); }
  SpawnActions(const SpawnActions&) = delete;
  SpawnActions& operator=(const SpawnActions&) = delete;
  posix_spawn_file_actions_t* get() { return &actions_; }

 private:
  posix_spawn_file_actions_t actions_;
};

}  // namespace

std::string PgCluster::bindir() {
  static const std::string dir = [] {
    std::string out;
    if (FILE* p = ::popen("pg_config --bindir 2>/dev/null", "r")) {
      char buf[512];
      while (std::fgets(buf, sizeof buf, p)) out += buf;
      ::pclose(p);
    }
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r' || out.back() == ' ')) out.pop_back();
    // Debian's /usr/bin/pg_config may belong to libpq-dev and name /usr/bin, where
    // initdb is not installed: only accept a folder that holds initdb.
    if (!out.empty() && ::access((out + "/initdb").c_str(), X_OK) == 0) return out;
    return std::string("/usr/lib/postgresql/15/bin");
  }();
  return dir;
}

PgCluster::PgCluster() : PgCluster(Options()) {}

PgCluster::PgCluster(const Options& options) : name_(options.name), bindir_(bindir()) {
  dir_ = std::make_unique<TempDir>(options.name);
  give_to_postgres(dir_->path());
  data_dir_ = dir_->make_dir("data");
  ::chmod(data_dir_.c_str(), 0700);
  give_to_postgres(data_dir_);
  port_ = free_loopback_port();
  if (!options.initialize) return;
  try {
    initdb(options);
    start();
    bootstrap_roles();
  } catch (...) {
    kill_postmaster();
    throw;
  }
}

PgCluster::~PgCluster() {
  kill_postmaster();
  // dir_ (TempDir) removes the folder: root may delete postgres's files.
}

std::string PgCluster::log_path() const { return dir_->file(name_ + ".log"); }

std::string PgCluster::log_tail(std::size_t max_bytes) const { return read_tail(log_path(), max_bytes); }

std::string PgCluster::conninfo(const std::string& user, const std::string& dbname) const {
  return "host=127.0.0.1 port=" + std::to_string(port_) + " user=" + conn_value(user) +
         " password=" + conn_value(user) + " dbname=" + conn_value(dbname) + " connect_timeout=5";
}

int PgCluster::run_as_postgres(const std::vector<std::string>& argv) const {
  if (argv.empty()) throw std::runtime_error("PgCluster::run_as_postgres: empty command");
  std::vector<std::string> full;
  if (is_root()) {
    postgres_account();  // a clear error when the account is missing
    full = {"runuser", "-u", "postgres", "--"};
  }
  full.insert(full.end(), argv.begin(), argv.end());
  std::vector<char*> args;
  for (auto& a : full) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  // The environment plus PGPASSWORD (the superuser's, for pg_basebackup/psql).
  std::vector<std::string> env_strings;
  for (char** e = environ; e && *e; ++e)
    if (std::strncmp(*e, "PGPASSWORD=", 11) != 0) env_strings.emplace_back(*e);
  env_strings.push_back(std::string("PGPASSWORD=") + kSuperPassword);
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);

  std::string log = log_path();
  {
    // Create the log as postgres's so the server (pg_ctl -l) can append to it too.
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) throw std::runtime_error("PgCluster: cannot open " + log + ": " + std::strerror(errno));
    ::close(fd);
    give_to_postgres(log);
    std::ofstream(log, std::ios::app) << "---- kestrel test harness runs:" << [&] {
      std::string s;
      for (auto& a : argv) s += " " + a;
      return s;
    }() << "\n";
  }
  SpawnActions actions;
  posix_spawn_file_actions_addopen(actions.get(), 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(actions.get(), 1, log.c_str(), O_WRONLY | O_APPEND, 0);
  posix_spawn_file_actions_adddup2(actions.get(), 1, 2);
  // postgres cannot enter root's working directory; run in the cluster's folder.
  posix_spawn_file_actions_addchdir_np(actions.get(), dir_->path().c_str());
  pid_t pid = 0;
  int rc = ::posix_spawnp(&pid, args[0], actions.get(), nullptr, args.data(), envp.data());
  if (rc != 0) throw std::runtime_error("PgCluster: cannot start " + full[0] + ": " + std::strerror(rc));
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw std::runtime_error(std::string("PgCluster: waitpid: ") + std::strerror(errno));
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

void PgCluster::initdb(const Options& options) {
  std::string pwfile = dir_->file("pwfile");
  std::ofstream(pwfile) << kSuperPassword << "\n";
  give_to_postgres(pwfile);
  int rc = run_as_postgres({bindir_ + "/initdb", "-D", data_dir_, "--data-checksums", "--auth=scram-sha-256",
                            "--username=postgres", "--pwfile=" + pwfile, "--encoding=UTF8", "--locale=C", "--no-sync"});
  std::remove(pwfile.c_str());
  if (rc != 0)
    throw std::runtime_error("PgCluster: initdb -D " + data_dir_ + " exited " + std::to_string(rc) + ":\n" +
                             log_tail());
  std::ofstream conf(data_dir_ + "/postgresql.conf", std::ios::app);
  conf << "\n# kestrel test harness\n"
       << "listen_addresses = '127.0.0.1'\n"
       << "port = " << port_ << "\n"
       << "unix_socket_directories = '" << dir_->path() << "'\n"
       << "wal_level = replica\n"
       << "max_wal_senders = 10\n"
       << "max_replication_slots = 10\n"
       << "hot_standby = on\n"
       << "log_line_prefix = '%m [%p] '\n";
  for (const auto& kv : options.settings) conf << kv.first << " = " << kv.second << "\n";
  if (!conf) throw std::runtime_error("PgCluster: cannot write " + data_dir_ + "/postgresql.conf");
}

void PgCluster::bootstrap_roles() {
  query("CREATE ROLE kestrel LOGIN PASSWORD 'kestrel'", "postgres", "postgres");
  query("CREATE DATABASE kestrel OWNER kestrel", "postgres", "postgres");
}

void PgCluster::start() {
  // -p/-k on the command line: a data dir copied by pg_basebackup carries the
  // primary's port and socket folder in its postgresql.conf.
  std::string opts = "-p " + std::to_string(port_) + " -k " + dir_->path();
  int rc =
      run_as_postgres({bindir_ + "/pg_ctl", "start", "-w", "-t", "60", "-D", data_dir_, "-l", log_path(), "-o", opts});
  if (rc != 0)
    throw std::runtime_error("PgCluster '" + name_ + "': pg_ctl start on port " + std::to_string(port_) + " exited " +
                             std::to_string(rc) + "; server log " + log_path() + " ends:\n" + log_tail());
}

void PgCluster::stop(const std::string& mode) {
  if (::access((data_dir_ + "/postmaster.pid").c_str(), F_OK) != 0) return;
  int rc = run_as_postgres({bindir_ + "/pg_ctl", "stop", "-w", "-t", "60", "-m", mode, "-D", data_dir_});
  if (rc != 0)
    throw std::runtime_error("PgCluster '" + name_ + "': pg_ctl stop -m " + mode + " exited " + std::to_string(rc) +
                             ":\n" + log_tail());
}

bool PgCluster::running() const {
  std::string ci = "host=127.0.0.1 port=" + std::to_string(port_) + " dbname=postgres connect_timeout=2";
  PGPing p = PQping(ci.c_str());
  return p == PQPING_OK || p == PQPING_REJECT;
}

void PgCluster::kill_postmaster() noexcept {
  std::string pidfile = data_dir_ + "/postmaster.pid";
  pid_t pid = 0;
  {
    std::ifstream in(pidfile);
    long v = 0;
    if (in >> v) pid = static_cast<pid_t>(v);
  }
  if (pid <= 0) return;
  try {
    run_as_postgres({bindir_ + "/pg_ctl", "stop", "-w", "-t", "10", "-m", "immediate", "-D", data_dir_});
  } catch (const std::exception& e) {
    std::cerr << "warning: PgCluster '" << name_ << "': " << e.what() << "\n";
  }
  if (::kill(pid, 0) == 0) {
    ::kill(pid, SIGKILL);
    // The children notice the postmaster's death and exit; give them a moment
    // so the folder is not removed under their feet.
    for (int i = 0; i < 50 && ::kill(pid, 0) == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::vector<std::vector<std::string>> PgCluster::query(const std::string& sql, const std::string& user,
                                                       const std::string& dbname) const {
  std::unique_ptr<PGconn, PGconnCloser> conn(PQconnectdb(conninfo(user, dbname).c_str()));
  if (!conn || PQstatus(conn.get()) != CONNECTION_OK)
    throw std::runtime_error("PgCluster '" + name_ + "' (127.0.0.1:" + std::to_string(port_) + "): cannot connect as " +
                             user + " to " + dbname + ": " + (conn ? PQerrorMessage(conn.get()) : "out of memory"));
  PQsetNoticeProcessor(
      conn.get(), [](void*, const char*) {}, nullptr);  // NOTICEs are not failures
  std::unique_ptr<PGresult, PGresultClearer> res(PQexec(conn.get(), sql.c_str()));
  ExecStatusType st = res ? PQresultStatus(res.get()) : PGRES_FATAL_ERROR;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    const char* state = res ? PQresultErrorField(res.get(), PG_DIAG_SQLSTATE) : nullptr;
    std::string msg = res ? PQresultErrorMessage(res.get()) : PQerrorMessage(conn.get());
    while (!msg.empty() && msg.back() == '\n') msg.pop_back();
    throw std::runtime_error("PgCluster '" + name_ + "': query failed (SQLSTATE " + (state ? state : "none") +
                             "): " + msg + "\n  in: " + sql);
  }
  std::vector<std::vector<std::string>> rows;
  int n = PQntuples(res.get()), m = PQnfields(res.get());
  rows.reserve(static_cast<std::size_t>(n));
  for (int r = 0; r < n; ++r) {
    std::vector<std::string> row;
    row.reserve(static_cast<std::size_t>(m));
    for (int c = 0; c < m; ++c) row.emplace_back(PQgetisnull(res.get(), r, c) ? "" : PQgetvalue(res.get(), r, c));
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace test
}  // namespace kestrel
