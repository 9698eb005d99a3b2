// The catalog's migrations (DESIGN §6). Append only: never edit a shipped one.
//
// Conventions, for every backend alike:
//   - timestamps are BIGINT UTC microseconds since the Unix epoch (so that
//     per-range checksums agree between SQLite and PostgreSQL);
//   - sizes are BIGINT bytes; pixel dimensions are INTEGER;
//   - single-row tables (cluster_state, catalog_meta) have id = 1, enforced
//     by a CHECK, and their row is created by the migration itself.
#include <catalog_schema/migrations.h>
#include <catalog_schema/replicated_tables.h>

namespace kestrel {
namespace catalog_schema {
namespace {

// Migration 3's SQLite triggers, six per replicated table:
//   <t>_guard_{insert,update,delete}: BEFORE, raise kReadOnlyMessage while
//     the file is a standby or fenced (only the replicator's apply, which
//     sets role 'applying' inside its own transaction, writes a standby);
//   <t>_capture_{insert,update,delete}: AFTER, while the file is a primary,
//     append the row image to change_log in the writer's own transaction,
//     with the batch's commit sequence (catalog_meta.commit_seq + 1: the
//     batch advances it last) and the fence epoch it was written in.
std::vector<std::string> sqlite_change_triggers() {
  std::vector<std::string> out;
  const std::string role = "(SELECT role FROM replication_state WHERE id = 1)";
  for (const ReplicatedTable& t : replicated_tables()) {
    const std::string n = t.name;
    for (const char* ev : {"INSERT", "UPDATE", "DELETE"}) {
      std::string lower = ev;
      for (char& c : lower) c = static_cast<char>(c - 'A' + 'a');
      out.push_back("CREATE TRIGGER " + n + "_guard_" + lower + " BEFORE " + ev + " ON " + n + " WHEN " + role +
                    " IN ('standby', 'fenced') BEGIN SELECT RAISE(ABORT, '" + kReadOnlyMessage + "'); END");
      const bool del = lower == "delete";
      out.push_back("CREATE TRIGGER " + n + "_capture_" + lower + " AFTER " + ev + " ON " + n + " WHEN " + role +
                    " = 'primary' BEGIN INSERT INTO change_log (commit_seq, epoch, table_name, op, row_id, "
                    "row_image, created_at) VALUES ((SELECT commit_seq + 1 FROM catalog_meta WHERE id = 1), "
                    "(SELECT epoch FROM cluster_state WHERE id = 1), '" + n + "', " +
                    (del ? "'delete', OLD.id, NULL" : "'upsert', NEW.id, " + sqlite_row_image(t, "NEW.")) + ", " +
                    expand_tokens("{{NOW_US}}", Dialect::kSqlite) + "); END");
    }
  }
  return out;
}

}  // namespace

const std::vector<Migration>& migrations() {
  static const std::vector<std::string> kTriggers = sqlite_change_triggers();
  static const std::vector<Migration> kMigrations = [] {
  std::vector<Migration> all = {
      {1,
       "initial_catalog",
       {
           {"CREATE TABLE categories ("
            " id {{ID}},"
            " name TEXT NOT NULL UNIQUE,"
            " parent_id BIGINT REFERENCES categories (id),"
            " created_at BIGINT NOT NULL)",
            nullptr, nullptr},
           {"CREATE TABLE crawl_sessions ("
            " id {{ID}},"
            " session_key TEXT NOT NULL UNIQUE,"
            " node_name TEXT,"
            " seeds TEXT,"  // JSON array of seed URLs
            " state TEXT NOT NULL CHECK (state IN ('running', 'finished', 'stopped', 'failed')),"
            " started_at BIGINT,"
            " finished_at BIGINT,"
            " pages BIGINT NOT NULL DEFAULT 0,"
            " images BIGINT NOT NULL DEFAULT 0,"
            " bytes BIGINT NOT NULL DEFAULT 0,"
            " errors BIGINT NOT NULL DEFAULT 0,"
            " errors_json TEXT,"  // JSON object: error kind -> count
            " updated_at BIGINT NOT NULL)",
            nullptr, nullptr},
           {"CREATE TABLE images ("
            " id {{ID}},"
            " url TEXT NOT NULL UNIQUE,"
            " source_url TEXT,"
            " filename TEXT,"
            " file_path TEXT,"  // relative to the blob store's root
            " file_size BIGINT NOT NULL DEFAULT 0 CHECK (file_size >= 0),"
            " width INTEGER NOT NULL DEFAULT 0 CHECK (width >= 0),"
            " height INTEGER NOT NULL DEFAULT 0 CHECK (height >= 0),"
            " format TEXT CHECK (format IN ('png', 'jpeg', 'gif', 'webp')),"
            " mime_type TEXT,"
            " md5 TEXT,"
            " sha256 TEXT,"
            " etag TEXT,"
            " last_modified TEXT,"
            " category_id BIGINT REFERENCES categories (id),"
            " crawl_session_id BIGINT REFERENCES crawl_sessions (id),"
            " created_at BIGINT NOT NULL,"
            " updated_at BIGINT NOT NULL)",
            nullptr, nullptr},
           {"CREATE INDEX images_sha256_idx ON images (sha256)", nullptr, nullptr},
           {"CREATE INDEX images_crawl_session_idx ON images (crawl_session_id)", nullptr, nullptr},
           {"CREATE TABLE cluster_state ("
            " id INTEGER PRIMARY KEY CHECK (id = 1),"
            " epoch BIGINT NOT NULL CHECK (epoch >= 0),"  // highest HA epoch this store has seen
            " primary_node TEXT,"
            " updated_at BIGINT NOT NULL)",
            nullptr, nullptr},
           {"INSERT INTO cluster_state (id, epoch, primary_node, updated_at) VALUES (1, 0, NULL, {{NOW_US}})", nullptr,
            nullptr},
           {"CREATE TABLE catalog_meta ("
            " id INTEGER PRIMARY KEY CHECK (id = 1),"
            " commit_seq BIGINT NOT NULL CHECK (commit_seq >= 0),"  // +1 per committed write batch
            " updated_at BIGINT NOT NULL)",
            nullptr, nullptr},
           {"INSERT INTO catalog_meta (id, commit_seq, updated_at) VALUES (1, 0, {{NOW_US}})", nullptr, nullptr},
       }},
      // The HA catalog's history: one row per failover or switchover
      // (kestrel_failover_record, KESTREL_OP_RECORD_FAILOVER), keyed by the
      // caller's event_key so that a retried write updates its row.
      {2,
       "failover_events",
       {
           {"CREATE TABLE failover_events ("
            " id {{ID}},"
            " event_key TEXT NOT NULL UNIQUE,"
            " kind TEXT NOT NULL CHECK (kind IN ('failover', 'switchover')),"
            " from_node TEXT,"  // the primary before; NULL if none was known
            " to_node TEXT NOT NULL,"
            " reason TEXT,"
            " automatic INTEGER NOT NULL CHECK (automatic IN (0, 1)),"  // 1: the health monitor decided
            " succeeded INTEGER NOT NULL CHECK (succeeded IN (0, 1)),"
            " epoch_before BIGINT NOT NULL CHECK (epoch_before >= 0),"
            " epoch_after BIGINT NOT NULL,"
            " started_at BIGINT NOT NULL CHECK (started_at >= 0),"
            " finished_at BIGINT NOT NULL,"
            " duration_ms BIGINT NOT NULL CHECK (duration_ms >= 0),"       // (finished_at - started_at) / 1000
            " lost_bytes BIGINT NOT NULL CHECK (lost_bytes >= -1),"        // -1: unknown
            " write_pause_ms BIGINT NOT NULL CHECK (write_pause_ms >= -1),"  // -1: not measured
            " detail TEXT,"
            " created_at BIGINT NOT NULL,"
            " CHECK (epoch_after >= epoch_before),"
            " CHECK (finished_at >= started_at))",
            nullptr, nullptr},
           {"CREATE INDEX failover_events_started_at_idx ON failover_events (started_at)", nullptr, nullptr},
       }},
      // Change-log replication (DESIGN §5, replicator-changelog): every
      // change of a replicated table on a primary file, captured by trigger
      // in the writer's transaction (SQLite; a PostgreSQL node replicates by
      // streaming and only gets the tables); the positions standbys applied;
      // and what this file is (replication_state.role, see
      // replicated_tables.h). Rows keep the primary's ids on every node.
      {3,
       "change_log",
       {
           {"CREATE TABLE change_log ("
            " seq {{ID}},"                         // the order of changes
            " commit_seq BIGINT NOT NULL,"         // the write batch (catalog_meta.commit_seq after it)
            " epoch BIGINT NOT NULL,"              // the fence epoch the batch was written in
            " table_name TEXT NOT NULL,"
            " op TEXT NOT NULL CHECK (op IN ('upsert', 'delete')),"
            " row_id BIGINT NOT NULL,"
            " row_image TEXT,"                     // JSON object of every column; NULL for a delete
            " created_at BIGINT NOT NULL)",
            nullptr, nullptr},
           {"CREATE INDEX change_log_commit_seq_idx ON change_log (commit_seq)", nullptr, nullptr},
           {"CREATE TABLE replica_positions ("
            " node TEXT PRIMARY KEY,"              // on a primary: each standby; on a standby: its source
            " applied_seq BIGINT NOT NULL,"        // the last change_log.seq applied
            " applied_commit_seq BIGINT NOT NULL," // its commit_seq
            " epoch BIGINT NOT NULL,"              // the highest epoch applied
            " updated_at BIGINT NOT NULL)",
            nullptr, nullptr},
           {"CREATE TABLE replication_state ("
            " id INTEGER PRIMARY KEY CHECK (id = 1),"
            " role TEXT NOT NULL CHECK (role IN ('none', 'primary', 'standby', 'fenced', 'applying')),"
            " source TEXT,"                        // a standby's primary (node name)
            " promoted_at_seq BIGINT NOT NULL DEFAULT 0,"  // change_log head when this file was last
                                                           // promoted: later entries are of its epoch
            " updated_at BIGINT NOT NULL)",
            nullptr, nullptr},
           {"INSERT INTO replication_state (id, role, source, updated_at) VALUES (1, 'none', NULL, {{NOW_US}})",
            nullptr, nullptr},
           // Changes only a former primary held when it rejoined (primary
           // wins: they are not applied, and never silently dropped).
           {"CREATE TABLE conflicts ("
            " id {{ID}},"
            " node TEXT NOT NULL,"                 // the former primary they came from
            " seq BIGINT NOT NULL,"
            " epoch BIGINT NOT NULL,"
            " commit_seq BIGINT NOT NULL,"
            " table_name TEXT NOT NULL,"
            " op TEXT NOT NULL,"
            " row_id BIGINT NOT NULL,"
            " row_image TEXT,"
            " changed_at BIGINT NOT NULL,"         // change_log.created_at on that node
            " recorded_at BIGINT NOT NULL,"
            " UNIQUE (node, seq, epoch))",
            nullptr, nullptr},
       }},
  };
  for (const std::string& t : kTriggers) all.back().statements.push_back({nullptr, t.c_str(), nullptr});
  return all;
  }();
  return kMigrations;
}

int latest_version() {
  const auto& all = migrations();
  return all.empty() ? 0 : all.back().version;
}

}  // namespace catalog_schema
}  // namespace kestrel
