// LocalServer: control of a PostgreSQL node whose data directory is on this
// machine (a node with data_dir): pg_ctl, pg_basebackup, pg_rewind,
// pg_controldata, and the files a standby needs (standby.signal,
// postgresql.auto.conf). Commands run as the data directory's owner (see
// pg_tools.h). The server log is <data_dir>/kestrel-server.log (inside
// the data directory, so pg_basebackup and pg_rewind replace it).
// Stateless apart from its spec; any thread, one mutating call at a time.
#ifndef KESTREL_REPLICATOR_PG_LOCAL_SERVER_H
#define KESTREL_REPLICATOR_PG_LOCAL_SERVER_H

#include <cstdint>
#include <map>
#include <string>

#include "node_spec.h"
#include "pg_tools.h"

namespace kestrel {
namespace replicator_pg {

class LocalServer {
 public:
  // `spec` must be local(); `timeout_ms` bounds each command (milliseconds);
  // commands run through `tools` (copied).
  LocalServer(const ToolRunner& tools, const NodeSpec& spec, int64_t timeout_ms);

  // True when pg_ctl status finds a running postmaster.
  bool running() const;
  // pg_ctl start -w; throws kestrel::Error(KESTREL_ERR_UNAVAILABLE) with the
  // log's tail (and a disk-full hint) on failure. No-op when running.
  void start() const;
  // pg_ctl stop -m mode -w (smart|fast|immediate). No-op when not running.
  void stop(const std::string& mode = "fast") const;

  // True when the data directory holds a cluster (PG_VERSION exists).
  bool has_cluster() const;
  // The "Database system identifier" from pg_controldata; throws on failure.
  std::string system_identifier() const;
  // Removes everything inside the data directory (the directory stays).
  void clear() const;

  // pg_basebackup -D data_dir -S slot -R -X stream -c fast -d conninfo.
  // Returns false with *why on failure (the directory may be partly filled).
  bool basebackup(const std::string& conninfo, const std::string& slot, std::string* why) const;
  // pg_rewind --target-pgdata=data_dir --source-server=conninfo. Returns false
  // with *why (its output) when rewinding is impossible or fails.
  bool rewind(const std::string& source_conninfo, std::string* why) const;

  // Rewrites postgresql.auto.conf so that each key of `settings` has exactly
  // the given value (quoted as a string); other lines stay. Owned by the data
  // directory's owner.
  void set_auto_conf(const std::map<std::string, std::string>& settings) const;
  // Creates standby.signal (recovery as a standby on the next start).
  void write_standby_signal() const;

  // The last `max_bytes` bytes of the server log ("" when there is none).
  std::string log_tail(size_t max_bytes = 2000) const;
  // A disk-full diagnosis of the data directory ("" when fine): the free
  // space (statvfs) and "No space left on device" in the log's tail.
  std::string disk_full_hint() const;

  std::string log_path() const { return spec_.data_dir + "/kestrel-server.log"; }

 private:
  std::string tool(const char* name) const { return spec_.bindir + "/" + name; }
  void write_owned_file(const std::string& path, const std::string& content) const;

  ToolRunner tools_;
  NodeSpec spec_;
  int64_t timeout_ms_;
};

}  // namespace replicator_pg
}  // namespace kestrel

#endif  // KESTREL_REPLICATOR_PG_LOCAL_SERVER_H
