// PgCluster: a real PostgreSQL 15 server in a temporary folder, for tests.
#ifndef KESTREL_TEST_PG_CLUSTER_H
#define KESTREL_TEST_PG_CLUSTER_H

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace kestrel {
namespace test {

class TempDir;

// A PostgreSQL 15 cluster for tests: data dir in its own TempDir (chowned to
// the postgres user), initdb --data-checksums --auth=scram-sha-256 run as
// `postgres` through runuser when we are root (initdb/postgres refuse root), a
// free loopback port, listen_addresses=127.0.0.1, unix_socket_directories in
// the temp dir, wal_level=replica, max_wal_senders=10,
// max_replication_slots=10, hot_standby=on (wal_log_hints is implied by data
// checksums, so pg_rewind works); superuser "postgres" with password
// "postgres"; application role "kestrel" (password "kestrel", LOGIN) owning
// database "kestrel". Binaries from `pg_config --bindir` (fall back to
// /usr/lib/postgresql/15/bin).
//
// Layout inside the temp dir (kestrel-test-<name>-XXXXXX): data/ (the data
// directory), <name>.log (the server log, also the output of every command run
// through run_as_postgres), the socket.
//
// Owns the server and the folder: the destructor stops the server (pg_ctl
// stop -m immediate, then SIGKILL of the postmaster pid if still alive) and
// removes the folder, also when a test fails or throws. Not copyable or
// movable. The constructor (initdb + a first start + role and database
// creation, ~1-2 s) throws std::runtime_error with the log's tail on failure.
// One thread at a time per object for start/stop; query() and the accessors
// may be called from any thread (each query opens its own connection).
class PgCluster {
 public:
  struct Options {
    std::string name = "pg";                      // tag of the temp dir and of the log file
    bool initialize = true;                       // false: an empty owned data dir and a port, nothing run
                                                  // (for a standby that pg_basebackup will fill)
    std::map<std::string, std::string> settings;  // extra postgresql.conf lines (name -> value text, written
                                                  // verbatim: quote strings yourself, e.g. "'ANY 1 (s1)'")
  };

  // initialize=true: initdb, write the settings, start, create role and
  // database; the server is left running. initialize=false: nothing runs;
  // data_dir() exists, is empty, mode 0700 and owned by postgres.
  // (Two constructors rather than `= Options()`: GCC cannot use a nested
  // struct's member initializers in a default argument of the enclosing class.)
  PgCluster();
  explicit PgCluster(const Options& options);
  ~PgCluster();
  PgCluster(const PgCluster&) = delete;
  PgCluster& operator=(const PgCluster&) = delete;

  // Absolute path of the data directory.
  const std::string& data_dir() const { return data_dir_; }
  // The TCP port (on 127.0.0.1) this cluster's server listens on, chosen free at construction.
  int port() const { return port_; }
  // "127.0.0.1".
  std::string host() const { return "127.0.0.1"; }
  // PostgreSQL's bin folder: `pg_config --bindir`, else /usr/lib/postgresql/15/bin.
  static std::string bindir();

  // "host=127.0.0.1 port=N user=U password=U dbname=D connect_timeout=5" (every
  // test role's password is its name).
  std::string conninfo(const std::string& user = "kestrel", const std::string& dbname = "kestrel") const;

  // pg_ctl start -w with a 60 s deadline, -o "-p port" so a data dir filled by
  // pg_basebackup listens on this cluster's port. Throws std::runtime_error with
  // the server log's tail on failure.
  void start();
  // pg_ctl stop -m mode (smart | fast | immediate) -w. Throws on failure. No
  // effect when the server is not running.
  void stop(const std::string& mode = "fast");
  // True when the postmaster answers (PQping is PQPING_OK or PQPING_REJECT).
  bool running() const;

  // Runs SQL through libpq (as `user`, default the superuser, password = user
  // name) and returns rows as text (NULL -> ""). Several statements may be
  // sent in one string: the rows of the last are returned. Throws
  // std::runtime_error with the server's message (and SQLSTATE) on failure.
  std::vector<std::vector<std::string>> query(const std::string& sql, const std::string& user = "postgres",
                                              const std::string& dbname = "kestrel") const;

  // Runs a command line (argv[0] a path or a name in PATH) as the postgres
  // user (runuser when root) with PGPASSWORD=postgres, stdin /dev/null and
  // stdout+stderr appended to log_path(); returns the exit code (128+N if
  // killed by signal N). Blocks until the command exits. Throws
  // std::runtime_error when it cannot be started.
  int run_as_postgres(const std::vector<std::string>& argv) const;

  // The server log (absolute path).
  std::string log_path() const;

  // The last `max_bytes` bytes of the log, for failure messages.
  std::string log_tail(std::size_t max_bytes = 4000) const;

 private:
  void initdb(const Options& options);
  void bootstrap_roles();
  void kill_postmaster() noexcept;

  std::unique_ptr<TempDir> dir_;
  std::string name_;
  // A copy of bindir(): a cluster held in a static may outlive bindir()'s cache.
  std::string bindir_;
  std::string data_dir_;
  int port_ = 0;
};

}  // namespace test
}  // namespace kestrel

#endif  // KESTREL_TEST_PG_CLUSTER_H
