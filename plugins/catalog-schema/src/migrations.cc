// The catalog's migrations (DESIGN §6). Append only: never edit a shipped one.
//
// Conventions, for every backend alike:
//   - timestamps are BIGINT UTC microseconds since the Unix epoch (so that
//     per-range checksums agree between SQLite and PostgreSQL);
//   - sizes are BIGINT bytes; pixel dimensions are INTEGER;
//   - single-row tables (cluster_state, catalog_meta) have id = 1, enforced
//     by a CHECK, and their row is created by the migration itself.
#include <catalog_schema/migrations.h>

namespace kestrel {
namespace catalog_schema {

const std::vector<Migration>& migrations() {
  static const std::vector<Migration> kMigrations = {
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
  };
  return kMigrations;
}

int latest_version() {
  const auto& all = migrations();
  return all.empty() ? 0 : all.back().version;
}

}  // namespace catalog_schema
}  // namespace kestrel
