// The catalog's upsert statements, in one place for every store.
//
// SQLite (3.24+) and PostgreSQL (9.5+) share INSERT ... ON CONFLICT ... DO
// UPDATE with `excluded`, so only the placeholders differ: each store puts
// its own "VALUES (...)" between the insert head and the conflict clause.
// Semantics (DESIGN §6, the catalog contract): an image row is keyed by url;
// created_at and the first source_url are kept; a replay older than the row
// (excluded.updated_at < images.updated_at) is a no-op, so a late retry
// cannot undo a newer write. A session row is keyed by session_key and keeps
// its first started_at.
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

}  // namespace catalog_schema
}  // namespace kestrel

#endif  // KESTREL_CATALOG_SCHEMA_CATALOG_SQL_H_
