#include "sqlite_store.h"

#include <Poco/Data/Statement.h>
#include <Poco/File.h>
#include <Poco/JSON/Object.h>
#include <Poco/Path.h>
#include <catalog_schema/catalog_sql.h>
#include <catalog_schema/migration_runner.h>

#include <sstream>

#include "catalog_batch.h"
#include "failover_query.h"
#include "image_query.h"
#include "sqlite_errors.h"
#include "sqlite_migration_target.h"
#include "sqlite_session.h"

namespace kestrel {
namespace store_sqlite {

using namespace Poco::Data::Keywords;

SqliteStore::SqliteStore(const CreateArgs& args) : host_(args), options_(parse_options(args)) {}

SqliteStore::~SqliteStore() = default;

void SqliteStore::start() {
  if (writer_) return;  // already started
  try {
    Poco::File(Poco::Path(options_.path).parent()).createDirectories();
  } catch (const Poco::Exception& e) {
    throw Error(KESTREL_ERR_IO, "cannot create the folder of " + options_.path + ": " + e.displayText());
  }
  std::unique_ptr<Poco::Data::Session> writer = open_session(options_, Role::kWriter);
  SqliteMigrationTarget target(*writer);
  const catalog_schema::MigrationReport report = catalog_schema::run_migrations(target);
  if (!report.applied.empty())
    host_.logf(KESTREL_LOG_INFO, "%s: schema migrated from version %d to %d", options_.path.c_str(),
               report.from_version, report.to_version);

  std::vector<std::unique_ptr<Poco::Data::Session>> sessions;
  for (int i = 0; i < options_.readers; ++i) sessions.push_back(open_session(options_, Role::kReader));
  readers_ = std::make_unique<ReaderPool>(std::move(sessions), options_.busy_timeout_ms);
  writer_ = std::move(writer);
  gate_.open();
  host_.logf(KESTREL_LOG_INFO, "catalog %s open (schema version %d, synchronous=%s, %d readers)", options_.path.c_str(),
             report.to_version, options_.synchronous_full ? "full" : "normal", options_.readers);
}

void SqliteStore::stop(uint32_t /*deadline_ms*/) {
  // Calls in flight are short (one batch or one read); waiting for them is
  // what keeps a half-finished statement from outliving its connection.
  gate_.close();
  readers_.reset();
  writer_.reset();
}

void SqliteStore::health() {
  const CallGate::Pass pass = gate_.enter("catalog " + options_.path);
  ReaderPool::Lease lease = readers_->acquire();
  try {
    int one = 0;
    lease.session() << "SELECT 1", into(one), now;
    if (one != 1) throw Error(KESTREL_ERR_UNAVAILABLE, "SELECT 1 returned " + std::to_string(one), true);
  } catch (...) {
    rethrow_translated("health check on " + options_.path);
  }
}

std::string SqliteStore::status_json() {
  Poco::JSON::Object status;
  status.set("path", options_.path);
  status.set("synchronous", options_.synchronous_full ? "full" : "normal");
  status.set("readers", options_.readers);
  const std::unique_ptr<CallGate::Pass> pass = gate_.try_enter();
  if (!pass) {
    status.set("state", "stopped");
  } else {
    status.set("state", "running");
    ReaderPool::Lease lease = readers_->acquire();
    Poco::Data::Session& s = lease.session();
    try {
      // One read transaction: the counts and the position come from one snapshot.
      s << "BEGIN", now;
      Poco::Int64 version = 0, position = 0, epoch = 0, images = 0, sessions = 0, categories = 0, failovers = 0;
      Poco::Nullable<std::string> primary;
      s << "SELECT MAX(version) FROM schema_migrations", into(version), now;
      s << "SELECT commit_seq FROM catalog_meta WHERE id = 1", into(position), now;
      s << "SELECT epoch, primary_node FROM cluster_state WHERE id = 1", into(epoch), into(primary), now;
      s << "SELECT COUNT(*) FROM images", into(images), now;
      s << "SELECT COUNT(*) FROM crawl_sessions", into(sessions), now;
      s << "SELECT COUNT(*) FROM categories", into(categories), now;
      s << "SELECT COUNT(*) FROM failover_events", into(failovers), now;
      s << "COMMIT", now;
      status.set("schema_version", version);
      status.set("commit_position", position);
      status.set("epoch", epoch);
      if (!primary.isNull()) status.set("primary_node", primary.value());
      Poco::JSON::Object rows;
      rows.set("images", images);
      rows.set("crawl_sessions", sessions);
      rows.set("categories", categories);
      rows.set("failover_events", failovers);
      status.set("rows", rows);
    } catch (...) {
      try {
        s << "ROLLBACK", now;  // never hand back a reader pinned to an old snapshot
      } catch (...) {
        // BEGIN itself failed: no transaction is open.
      }
      rethrow_translated("status of " + options_.path);
    }
  }
  std::ostringstream out;
  status.stringify(out);
  return out.str();
}

uint64_t SqliteStore::catalog_write(uint64_t epoch, const std::vector<kestrel_catalog_op>& ops) {
  // Checked before any lock: a bad batch costs the database nothing.
  const std::vector<CheckedOp> checked = check_batch(ops);
  const CallGate::Pass pass = gate_.enter("catalog " + options_.path);
  std::lock_guard<std::mutex> writer_lock(writer_mu_);
  return commit_batch(*writer_, epoch, checked, wall_clock_us());
}

void SqliteStore::catalog_read_images(uint64_t /*epoch*/, const kestrel_image_query& query,
                                      const std::function<bool(const kestrel_image_row&)>& fn) {
  // Reads are never fenced: only writes from an old primary are dangerous.
  const CallGate::Pass pass = gate_.enter("catalog " + options_.path);
  ReaderPool::Lease lease = readers_->acquire();
  stream_images(lease, query, fn);
}

int64_t SqliteStore::catalog_session_id(uint64_t /*epoch*/, const std::string& session_key) {
  const CallGate::Pass pass = gate_.enter("catalog " + options_.path);
  ReaderPool::Lease lease = readers_->acquire();
  Poco::Nullable<Poco::Int64> id;
  try {
    std::string key = session_key;
    lease.session() << "SELECT id FROM crawl_sessions WHERE session_key = ?", use(key), into(id), now;
  } catch (...) {
    rethrow_translated("looking up crawl session " + session_key);
  }
  if (id.isNull()) throw Error(KESTREL_ERR_NOT_FOUND, "no crawl session with key '" + session_key + "'");
  return id.value();
}

uint64_t SqliteStore::catalog_count_images(uint64_t /*epoch*/, const kestrel_image_query& query) {
  const CallGate::Pass pass = gate_.enter("catalog " + options_.path);
  ReaderPool::Lease lease = readers_->acquire();
  return count_images(lease, query);
}

void SqliteStore::catalog_read_failover_events(
    uint64_t /*epoch*/, uint32_t limit, const std::function<bool(int64_t, const kestrel_failover_record&)>& fn) {
  const CallGate::Pass pass = gate_.enter("catalog " + options_.path);
  ReaderPool::Lease lease = readers_->acquire();
  stream_failover_events(lease, limit, fn);
}

void SqliteStore::catalog_cluster_state(uint64_t* epoch, std::string* primary) {
  const CallGate::Pass pass = gate_.enter("catalog " + options_.path);
  ReaderPool::Lease lease = readers_->acquire();
  Poco::Int64 seen = 0;
  Poco::Nullable<std::string> node;
  try {
    lease.session() << catalog_schema::kClusterStateSelect, into(seen), into(node), now;
  } catch (...) {
    rethrow_translated("reading cluster_state of " + options_.path);
  }
  *epoch = static_cast<uint64_t>(seen);  // CHECKed >= 0
  *primary = node.isNull() ? std::string() : node.value();
}

}  // namespace store_sqlite
}  // namespace kestrel
