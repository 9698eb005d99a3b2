// The catalog's upsert statements, in one place for every store.
//
// SQLite (3.24+) and PostgreSQL (9.5+) share INSERT ... ON CONFLICT ... DO
// UPDATE with `excluded`, so only the placeholders differ: each store puts
// its own "VALUES (...)" between the insert head and the conflict clause.
// Semantics (DESIGN §6, the catalog contract): an image row is keyed by url;
// created_at and the first source_url are kept; a replay older than the row
// (excluded.updated_at < images.updated_at) is a no-op, so a late retry
// cannot undo a newer write. A session row is keyed by session_key and keeps
// its first started_at. A failover_events row is keyed by event_key.
#ifndef KESTREL_CATALOG_SCHEMA_CATALOG_SQL_H_
#define KESTREL_CATALOG_SCHEMA_CATALOG_SQL_H_

namespace kestrel {
namespace catalog_schema {

// Columns in bind order: url, source_url, filename, file_path, file_size,
// width, height, format, mime_type, md5, sha256, etag, last_modified,
// category_id, crawl_session_id, created_at, updated_at.
inline constexpr char kImageInsertHead[] =
    "INSERT INTO images (url, source_url, filename, file_path, file_size, width, height, format, mime_type,"
    " md5, sha256, etag, last_modified, category_id, crawl_session_id, created_at, updated_at)";
inline constexpr int kImageColumnCount = 17;
inline constexpr char kImageOnConflict[] =
    " ON CONFLICT (url) DO UPDATE SET"
    " source_url = COALESCE(images.source_url, excluded.source_url), filename = excluded.filename,"
    " file_path = excluded.file_path, file_size = excluded.file_size, width = excluded.width,"
    " height = excluded.height, format = excluded.format, mime_type = excluded.mime_type, md5 = excluded.md5,"
    " sha256 = excluded.sha256, etag = excluded.etag, last_modified = excluded.last_modified,"
    " category_id = excluded.category_id, crawl_session_id = excluded.crawl_session_id,"
    " updated_at = excluded.updated_at"
    " WHERE excluded.updated_at >= images.updated_at";

// Columns in bind order: session_key, node_name, seeds, state, started_at,
// finished_at, pages, images, bytes, errors, errors_json, updated_at.
inline constexpr char kSessionInsertHead[] =
    "INSERT INTO crawl_sessions (session_key, node_name, seeds, state, started_at, finished_at, pages, images,"
    " bytes, errors, errors_json, updated_at)";
inline constexpr int kSessionColumnCount = 12;
inline constexpr char kSessionOnConflict[] =
    " ON CONFLICT (session_key) DO UPDATE SET"
    " node_name = excluded.node_name, seeds = excluded.seeds, state = excluded.state,"
    " started_at = COALESCE(crawl_sessions.started_at, excluded.started_at), finished_at = excluded.finished_at,"
    " pages = excluded.pages, images = excluded.images, bytes = excluded.bytes, errors = excluded.errors,"
    " errors_json = excluded.errors_json, updated_at = excluded.updated_at";

// A failover_events row (migration 2) is keyed by event_key: a retried or
// completed record replaces every column but id and created_at.
// Columns in bind order: event_key, kind, from_node, to_node, reason,
// automatic, succeeded, epoch_before, epoch_after, started_at, finished_at,
// duration_ms, lost_bytes, write_pause_ms, detail, created_at.
inline constexpr char kFailoverInsertHead[] =
    "INSERT INTO failover_events (event_key, kind, from_node, to_node, reason, automatic, succeeded, epoch_before,"
    " epoch_after, started_at, finished_at, duration_ms, lost_bytes, write_pause_ms, detail, created_at)";
inline constexpr int kFailoverColumnCount = 16;
inline constexpr char kFailoverOnConflict[] =
    " ON CONFLICT (event_key) DO UPDATE SET"
    " kind = excluded.kind, from_node = excluded.from_node, to_node = excluded.to_node, reason = excluded.reason,"
    " automatic = excluded.automatic, succeeded = excluded.succeeded, epoch_before = excluded.epoch_before,"
    " epoch_after = excluded.epoch_after, started_at = excluded.started_at, finished_at = excluded.finished_at,"
    " duration_ms = excluded.duration_ms, lost_bytes = excluded.lost_bytes, write_pause_ms = excluded.write_pause_ms,"
    " detail = excluded.detail";

// The history read (kestrel_catalog_v1.read_failover_events), newest first;
// each store appends its LIMIT. Result columns: 0 id, 1 event_key, 2 kind,
// 3 from_node, 4 to_node, 5 reason, 6 automatic, 7 succeeded, 8 epoch_before,
// 9 epoch_after, 10 started_at, 11 finished_at, 12 lost_bytes,
// 13 write_pause_ms, 14 detail.
inline constexpr char kFailoverSelectNewestFirst[] =
    "SELECT id, event_key, kind, from_node, to_node, reason, automatic, succeeded, epoch_before, epoch_after,"
    " started_at, finished_at, lost_bytes, write_pause_ms, detail FROM failover_events"
    " ORDER BY started_at DESC, id DESC";

// cluster_state's one row: 0 epoch, 1 primary_node (NULL: none recorded).
inline constexpr char kClusterStateSelect[] = "SELECT epoch, primary_node FROM cluster_state WHERE id = 1";

}  // namespace catalog_schema
}  // namespace kestrel

#endif  // KESTREL_CATALOG_SCHEMA_CATALOG_SQL_H_
