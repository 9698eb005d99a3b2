#include "catalog_batch.h"

#include <Poco/Data/Statement.h>

#include <climits>
#include <cstring>
#include <kestrel/plugin.hpp>

#include "catalog_schema/catalog_sql.h"
#include "sqlite_errors.h"

namespace kestrel {
namespace store_sqlite {

using namespace Poco::Data::Keywords;
using Poco::Data::Session;
using Poco::Data::Statement;

namespace {

// "?, ?, ..., ?" for n columns.
std::string placeholders(int n) {
  std::string s = "?";
  for (int i = 1; i < n; ++i) s += ", ?";
  return s;
}

// One statement per row kind (catalog_schema/catalog_sql.h holds the shared text).
const std::string kUpsertImage = std::string(catalog_schema::kImageInsertHead) + " VALUES (" +
                                 placeholders(catalog_schema::kImageColumnCount) + ")" +
                                 catalog_schema::kImageOnConflict;
const char kDeleteImage[] = "DELETE FROM images WHERE url = ?";

const std::string kUpsertSession = std::string(catalog_schema::kSessionInsertHead) + " VALUES (" +
                                   placeholders(catalog_schema::kSessionColumnCount) + ")" +
                                   catalog_schema::kSessionOnConflict;

const std::string kUpsertFailover = std::string(catalog_schema::kFailoverInsertHead) + " VALUES (" +
                                    placeholders(catalog_schema::kFailoverColumnCount) + ")" +
                                    catalog_schema::kFailoverOnConflict;


void rollback(Session& session) noexcept {
  try {
    session << "ROLLBACK", now;
  } catch (...) {
    // BEGIN itself failed, or SQLite already rolled back: nothing is open.
  }
}

// Refuses writes from an older epoch and records a newer one (DESIGN §4).
void fence(Session& session, uint64_t epoch, int64_t now_us) {
  if (epoch > static_cast<uint64_t>(INT64_MAX))
    throw Error(KESTREL_ERR_INVALID, "epoch " + std::to_string(epoch) + " is above 2^63-1");
  Poco::Int64 seen = 0;
  session << "SELECT epoch FROM cluster_state WHERE id = 1", into(seen), now;
  auto mine = static_cast<Poco::Int64>(epoch);
  if (mine < seen)
    throw Error(KESTREL_ERR_FENCED, "write at epoch " + std::to_string(epoch) + " refused: this store has seen epoch " +
                                        std::to_string(seen) + " (a newer primary exists)");
  if (mine > seen) {
    Poco::Int64 at = now_us;
    session << "UPDATE cluster_state SET epoch = ?, updated_at = ? WHERE id = 1", use(mine), use(at), now;
  }
}

// The values of a run of image operations, one vector per column, bound to
// one statement that SQLite steps once per element.
struct ImageColumns {
  std::vector<std::string> url;
  std::vector<Poco::Nullable<std::string>> source_url, filename, file_path, format, mime_type, md5, sha256, etag,
      last_modified;
  std::vector<Poco::Int64> file_size, width, height, created_at, updated_at;
  std::vector<Poco::Nullable<Poco::Int64>> category_id, crawl_session_id;

  void add(const ImageValues& v, int64_t now_us) {
    const Poco::Int64 at = v.fetched_at_us != 0 ? v.fetched_at_us : now_us;
    url.push_back(v.url);
    source_url.push_back(v.source_url);
    filename.push_back(v.filename);
    file_path.push_back(v.file_path);
    file_size.push_back(v.file_size);
    width.push_back(v.width);
    height.push_back(v.height);
    format.push_back(v.format);
    mime_type.push_back(v.mime_type);
    md5.push_back(v.md5);
    sha256.push_back(v.sha256);
    etag.push_back(v.etag);
    last_modified.push_back(v.last_modified);
    category_id.push_back(v.category_id);
    crawl_session_id.push_back(v.crawl_session_id);
    created_at.push_back(at);  // used only when the row is new
    updated_at.push_back(at);
  }
};

// The same for crawl session upserts.
struct SessionColumns {
  std::vector<std::string> session_key, state;
  std::vector<Poco::Nullable<std::string>> node_name, seeds_json, errors_json;
  std::vector<Poco::Nullable<Poco::Int64>> started_at_us, finished_at_us;
  std::vector<Poco::Int64> pages, images, bytes, errors, updated_at;

  void add(const SessionValues& v, int64_t now_us) {
    session_key.push_back(v.session_key);
    node_name.push_back(v.node_name);
    seeds_json.push_back(v.seeds_json);
    state.push_back(v.state);
    started_at_us.push_back(v.started_at_us);
    finished_at_us.push_back(v.finished_at_us);
    pages.push_back(v.pages);
    images.push_back(v.images);
    bytes.push_back(v.bytes);
    errors.push_back(v.errors);
    errors_json.push_back(v.errors_json);
    updated_at.push_back(now_us);
  }
};

// The same for failover_events upserts.
struct FailoverColumns {
  std::vector<std::string> event_key, kind, to_node;
  std::vector<Poco::Nullable<std::string>> from_node, reason, detail;
  std::vector<Poco::Int64> automatic, succeeded, epoch_before, epoch_after, started_at, finished_at, duration_ms,
      lost_bytes, write_pause_ms, created_at;

  void add(const FailoverValues& v, int64_t now_us) {
    event_key.push_back(v.event_key);
    kind.push_back(v.kind);
    from_node.push_back(v.from_node);
    to_node.push_back(v.to_node);
    reason.push_back(v.reason);
    automatic.push_back(v.automatic);
    succeeded.push_back(v.succeeded);
    epoch_before.push_back(v.epoch_before);
    epoch_after.push_back(v.epoch_after);
    started_at.push_back(v.started_at_us);
    finished_at.push_back(v.finished_at_us);
    duration_ms.push_back(v.duration_ms);
    lost_bytes.push_back(v.lost_bytes);
    write_pause_ms.push_back(v.write_pause_ms);
    detail.push_back(v.detail);
    created_at.push_back(now_us);  // used only when the row is new
  }
};

// Executes ops[begin, end), all of one kind, as one statement.
void execute_ops(Session& session, const std::vector<CheckedOp>& ops, size_t begin, size_t end, int64_t now_us) {
  Statement stmt(session);
  const int32_t kind = ops[begin].kind;
  if (kind == KESTREL_OP_UPSERT_IMAGE) {
    ImageColumns c;
    for (size_t i = begin; i < end; ++i) c.add(ops[i].image, now_us);
    stmt << kUpsertImage, use(c.url), use(c.source_url), use(c.filename), use(c.file_path), use(c.file_size),
        use(c.width), use(c.height), use(c.format), use(c.mime_type), use(c.md5), use(c.sha256), use(c.etag),
        use(c.last_modified), use(c.category_id), use(c.crawl_session_id), use(c.created_at), use(c.updated_at);
    stmt.execute();
  } else if (kind == KESTREL_OP_DELETE_IMAGE) {
    std::vector<std::string> urls;
    for (size_t i = begin; i < end; ++i) urls.push_back(ops[i].image.url);
    stmt << kDeleteImage, use(urls);
    stmt.execute();
  } else if (kind == KESTREL_OP_RECORD_FAILOVER) {
    FailoverColumns c;
    for (size_t i = begin; i < end; ++i) c.add(ops[i].failover, now_us);
    stmt << kUpsertFailover, use(c.event_key), use(c.kind), use(c.from_node), use(c.to_node), use(c.reason),
        use(c.automatic), use(c.succeeded), use(c.epoch_before), use(c.epoch_after), use(c.started_at),
        use(c.finished_at), use(c.duration_ms), use(c.lost_bytes), use(c.write_pause_ms), use(c.detail),
        use(c.created_at);
    stmt.execute();
  } else {
    SessionColumns c;
    for (size_t i = begin; i < end; ++i) c.add(ops[i].session, now_us);
    stmt << kUpsertSession, use(c.session_key), use(c.node_name), use(c.seeds_json), use(c.state), use(c.started_at_us),
        use(c.finished_at_us), use(c.pages), use(c.images), use(c.bytes), use(c.errors), use(c.errors_json),
        use(c.updated_at);
    stmt.execute();
  }
}

// Runs ops[begin, end) inside the open transaction. When the run fails, its
// operations are replayed one at a time (harmless: every one is idempotent,
// and the whole transaction is rolled back anyway) so that the error names
// the operation at fault.
void run_ops(Session& session, const std::vector<CheckedOp>& ops, size_t begin, size_t end, int64_t now_us) {
  try {
    execute_ops(session, ops, begin, end, now_us);
    return;
  } catch (const Poco::Exception&) {
    if (end - begin == 1) rethrow_translated(describe_op(begin, ops[begin]));
  }
  for (size_t i = begin; i < end; ++i) {
    try {
      execute_ops(session, ops, i, i + 1, now_us);
    } catch (...) {
      rethrow_translated(describe_op(i, ops[i]));
    }
  }
  throw Error(KESTREL_ERR_UNAVAILABLE,
              "ops #" + std::to_string(begin) + "-#" + std::to_string(end - 1) + " failed together but not alone",
              true);
}

}  // namespace

uint64_t commit_batch(Session& session, uint64_t epoch, const std::vector<CheckedOp>& ops, int64_t now_us) {
  try {
    session << "BEGIN IMMEDIATE", now;
  } catch (...) {
    rethrow_translated("BEGIN IMMEDIATE");
  }
  Poco::Int64 position = 0;
  try {
    try {
      fence(session, epoch, now_us);
    } catch (...) {
      rethrow_translated("epoch check");
    }
    // Consecutive operations of one kind run as one statement: order is kept,
    // and SQLite compiles each statement once per run instead of once per row.
    for (size_t begin = 0; begin < ops.size();) {
      size_t end = begin + 1;
      while (end < ops.size() && ops[end].kind == ops[begin].kind) ++end;
      run_ops(session, ops, begin, end, now_us);
      begin = end;
    }
    try {
      Poco::Int64 at = now_us;
      session << "UPDATE catalog_meta SET commit_seq = commit_seq + 1, updated_at = ? WHERE id = 1", use(at), now;
      session << "SELECT commit_seq FROM catalog_meta WHERE id = 1", into(position), now;
    } catch (...) {
      rethrow_translated("advancing the commit sequence");
    }
  } catch (...) {
    rollback(session);
    throw;
  }
  try {
    session << "COMMIT", now;
  } catch (...) {
    rollback(session);
    rethrow_translated("COMMIT", Phase::kCommit);
  }
  return static_cast<uint64_t>(position);
}

}  // namespace store_sqlite
}  // namespace kestrel
