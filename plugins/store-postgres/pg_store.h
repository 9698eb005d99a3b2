// PgStore: the store-postgres component, the image catalog in a PostgreSQL
// database (kestrel.catalog.v1, plugin.h), with the same behaviour as
// store-sqlite: the same migrations, checks, upserts and fencing.
//
// Every call borrows a connection from a pool (pool_size, idle_timeout,
// connect_timeout), so writes and reads run side by side; a read callback
// may write (it borrows a second connection). Catalog calls, health() and
// status_json() may run on any thread, concurrently; start() and stop() come
// from the control thread. Calls before start() or after stop() fail with
// KESTREL_ERR_UNAVAILABLE (retryable).
//
// Commit position: the 64-bit WAL LSN pg_current_wal_insert_lsn() read right
// after COMMIT (pg_write.h), so the HA layer compares it directly with a
// standby's pg_last_wal_replay_lsn().
#ifndef KESTREL_STORE_POSTGRES_PG_STORE_H
#define KESTREL_STORE_POSTGRES_PG_STORE_H

#include <catalog_schema/call_gate.h>
#include <catalog_schema/migration_runner.h>

#include <kestrel/plugin.hpp>

#include <atomic>
#include <memory>
#include <mutex>

#include "pg_options.h"
#include "pg_pool.h"

namespace kestrel {
namespace store_postgres {

class PgStore : public Provides<CatalogProvider> {
 public:
  // Parses options; throws Error(KESTREL_ERR_INVALID) naming a bad one. Connects to nothing.
  explicit PgStore(const CreateArgs& args);
  ~PgStore() override;

  // Connects and, unless the schema is already at the latest version (then
  // nothing is written, so a store on a standby or a read-only server
  // starts), runs the schema migrations under an advisory lock (refusing a
  // newer schema with KESTREL_ERR_INVALID). Throws UNAVAILABLE (retryable)
  // naming host:port when the server cannot be reached or refuses the login.
  void start() override;
  // Waits for calls in flight, then closes every connection.
  void stop(uint32_t deadline_ms) override;
  // A real "SELECT 1" on a pooled connection.
  void health() override;
  // {"server", "pool_size", "open_connections", "state", "schema_version",
  //  "commit_position", "wal_lsn", "in_recovery", "epoch", "primary_node",
  //  "rows": {"images", "crawl_sessions", "categories", "failover_events"}}
  std::string status_json() override;

  uint64_t catalog_write(uint64_t epoch, const std::vector<kestrel_catalog_op>& ops) override;
  void catalog_read_images(uint64_t epoch, const kestrel_image_query& query,
                           const std::function<bool(const kestrel_image_row&)>& fn) override;
  int64_t catalog_session_id(uint64_t epoch, const std::string& session_key) override;
  uint64_t catalog_count_images(uint64_t epoch, const kestrel_image_query& query) override;
  // failover_events rows, newest first (started_at, then id), at most
  // `limit` (0: all), in one statement (the history is small). Never fenced
  // (epoch unused); a standby serves it too.
  void catalog_read_failover_events(
      uint64_t epoch, uint32_t limit,
      const std::function<bool(int64_t, const kestrel_failover_record&)>& fn) override;
  // cluster_state's epoch (the fence: the highest this database has
  // recorded) and primary_node ("" when NULL).
  void catalog_cluster_state(uint64_t* epoch, std::string* primary) override;

 private:
  // True (and `report` filled) when the schema is at latest_version(): start()
  // then writes nothing. Throws kestrel::Error.
  static bool schema_is_current(PgConnection& conn, catalog_schema::MigrationReport* report);
  // Runs the migrations under a session advisory lock. Throws kestrel::Error.
  static void migrate(PgConnection& conn, catalog_schema::MigrationReport* report);
  // Checks the schema on one pooled connection; migrates it on a primary.
  // Throws Error(UNAVAILABLE) when the server does not answer.
  void open_schema(PgPool& pool, catalog_schema::MigrationReport* report);

  const Host host_;
  const PgOptions options_;
  catalog_schema::CallGate gate_;
  std::atomic<bool> schema_checked_{false};  // the schema was found current or migrated
  std::mutex schema_mu_;
  std::unique_ptr<PgPool> pool_;  // set while the gate is open
};

}  // namespace store_postgres
}  // namespace kestrel

#endif  // KESTREL_STORE_POSTGRES_PG_STORE_H
