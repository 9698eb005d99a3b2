// SqliteStore: the store-sqlite component, the image catalog in one SQLite
// file (kestrel.catalog.v1, plugin.h).
//
// Writes are serialized on one writer connection (BEGIN IMMEDIATE per batch);
// reads borrow one of `readers` reader connections, so in WAL mode they never
// wait behind a write. Every catalog call, health() and status_json() may run
// on any thread, concurrently; start() and stop() come from the control
// thread. Calls before start() or after stop() fail with
// KESTREL_ERR_UNAVAILABLE.
//
// Schema version 2 adds failover_events (the HA history; columns and checks
// as in plugins/store-postgres/README.md): KESTREL_OP_RECORD_FAILOVER upserts
// a row by event_key inside the batch's transaction, behind the epoch fence;
// read_failover_events streams them newest first; cluster_state reports the
// fence epoch and primary_node. A version-1 file is migrated at start().
#ifndef KESTREL_STORE_SQLITE_SQLITE_STORE_H
#define KESTREL_STORE_SQLITE_SQLITE_STORE_H

#include <Poco/Data/Session.h>

#include <kestrel/plugin.hpp>
#include <memory>
#include <mutex>

#include "call_gate.h"
#include "reader_pool.h"
#include "store_options.h"

namespace kestrel {
namespace store_sqlite {

class SqliteStore : public Provides<CatalogProvider> {
 public:
  // Parses options; throws Error(KESTREL_ERR_INVALID) naming a bad one. Opens nothing.
  explicit SqliteStore(const CreateArgs& args);
  ~SqliteStore() override;

  // Creates the file's folder if needed, opens the writer (WAL), runs the
  // schema migrations (refusing a newer schema with KESTREL_ERR_INVALID),
  // then opens the readers.
  void start() override;
  // Waits for calls in flight, then closes every connection.
  void stop(uint32_t deadline_ms) override;
  // A real "SELECT 1" on a reader connection.
  void health() override;
  // {"path", "schema_version", "commit_position", "epoch", "primary_node",
  //  "rows": {"images", "crawl_sessions", "categories", "failover_events"}, ...}
  std::string status_json() override;

  uint64_t catalog_write(uint64_t epoch, const std::vector<kestrel_catalog_op>& ops) override;
  void catalog_read_images(uint64_t epoch, const kestrel_image_query& query,
                           const std::function<bool(const kestrel_image_row&)>& fn) override;
  int64_t catalog_session_id(uint64_t epoch, const std::string& session_key) override;
  uint64_t catalog_count_images(uint64_t epoch, const kestrel_image_query& query) override;
  // failover_events rows, newest first (started_at, then id), at most
  // `limit` (0: all), on a reader connection. Never fenced (epoch unused).
  void catalog_read_failover_events(
      uint64_t epoch, uint32_t limit,
      const std::function<bool(int64_t, const kestrel_failover_record&)>& fn) override;
  // cluster_state's epoch (the highest this file has recorded: the fence)
  // and primary_node ("" when NULL), on a reader connection.
  void catalog_cluster_state(uint64_t* epoch, std::string* primary) override;

 private:
  const Host host_;
  const StoreOptions options_;
  // Every call holds a pass; start() opens the gate after the connections
  // are set and stop() closes it before they go, so a call never sees them
  // change under it.
  CallGate gate_;
  std::mutex writer_mu_;                         // serializes writes on writer_
  std::unique_ptr<Poco::Data::Session> writer_;  // GUARDED_BY(writer_mu_) while the gate is open
  std::unique_ptr<ReaderPool> readers_;
};

}  // namespace store_sqlite
}  // namespace kestrel

#endif  // KESTREL_STORE_SQLITE_SQLITE_STORE_H
