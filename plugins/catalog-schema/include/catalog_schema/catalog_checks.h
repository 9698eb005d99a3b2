// catalog_schema/catalog_checks.h — a catalog write batch (plugin.h,
// kestrel.catalog.v1) copied out of the caller's records and checked, before
// any store touches its database. Shared by every store plugin so that both
// backends accept and refuse exactly the same batches.
#ifndef KESTREL_CATALOG_SCHEMA_CATALOG_CHECKS_H
#define KESTREL_CATALOG_SCHEMA_CATALOG_CHECKS_H

#include <Poco/Nullable.h>
#include <Poco/Types.h>
#include <kestrel/plugin.h>

#include <cstdint>
#include <string>
#include <vector>

namespace kestrel {
namespace catalog_schema {

// An images row to upsert or delete, copied out of the caller's record and
// checked. SQL NULL is an unset Nullable.
struct ImageValues {
  std::string url;
  Poco::Nullable<std::string> source_url;
  Poco::Nullable<std::string> filename;
  Poco::Nullable<std::string> file_path;
  Poco::Int64 file_size = 0;  // bytes
  Poco::Int64 width = 0;      // pixels
  Poco::Int64 height = 0;     // pixels
  Poco::Nullable<std::string> format;
  Poco::Nullable<std::string> mime_type;
  Poco::Nullable<std::string> md5;
  Poco::Nullable<std::string> sha256;
  Poco::Nullable<std::string> etag;
  Poco::Nullable<std::string> last_modified;
  Poco::Nullable<Poco::Int64> category_id;       // NULL for none
  Poco::Nullable<Poco::Int64> crawl_session_id;  // NULL for none
  Poco::Int64 fetched_at_us = 0;                 // UTC microseconds; 0: the batch's "now"
};

// A crawl_sessions row to upsert, copied and checked.
struct SessionValues {
  std::string session_key;
  Poco::Nullable<std::string> node_name;
  Poco::Nullable<std::string> seeds_json;
  std::string state;  // running, finished, stopped or failed
  Poco::Nullable<Poco::Int64> started_at_us;
  Poco::Nullable<Poco::Int64> finished_at_us;  // NULL while running
  Poco::Int64 pages = 0;
  Poco::Int64 images = 0;
  Poco::Int64 bytes = 0;
  Poco::Int64 errors = 0;
  Poco::Nullable<std::string> errors_json;
};

// A failover_events row to upsert (KESTREL_OP_RECORD_FAILOVER), copied and
// checked. Every integer already fits a BIGINT column.
struct FailoverValues {
  std::string event_key;
  std::string kind;  // failover or switchover
  Poco::Nullable<std::string> from_node;
  std::string to_node;
  Poco::Nullable<std::string> reason;
  Poco::Int64 automatic = 0;        // 0 or 1
  Poco::Int64 succeeded = 0;        // 0 or 1
  Poco::Int64 epoch_before = 0;     // cluster epoch before
  Poco::Int64 epoch_after = 0;      // >= epoch_before (> when succeeded)
  Poco::Int64 started_at_us = 0;    // UTC microseconds
  Poco::Int64 finished_at_us = 0;   // UTC microseconds, >= started_at_us
  Poco::Int64 duration_ms = 0;      // (finished_at_us - started_at_us) / 1000, milliseconds
  Poco::Int64 lost_bytes = -1;      // bytes; -1: unknown
  Poco::Int64 write_pause_ms = -1;  // milliseconds; -1: not measured
  Poco::Nullable<std::string> detail;
};

// One checked operation; `image` is used by the image kinds, `session` by
// KESTREL_OP_UPSERT_SESSION, `failover` by KESTREL_OP_RECORD_FAILOVER.
struct CheckedOp {
  int32_t kind = 0;  // a kestrel_catalog_op_kind
  ImageValues image;
  SessionValues session;
  FailoverValues failover;
};

// Timestamps of a failover record below this (2001-09-09 in UTC
// microseconds) are refused: they are seconds or milliseconds by mistake.
inline constexpr int64_t kEarliestFailoverUs = 1000000000000000LL;

// Copies and checks every operation before anything touches the database.
// Throws kestrel::Error(KESTREL_ERR_INVALID) naming the operation's index,
// its key and the offending field (e.g. a missing url, a format outside
// png/jpeg/gif/webp, a sha256 that is not 64 lower-case hex digits, a
// counter above INT64_MAX, malformed seeds_json). A RECORD_FAILOVER op is
// refused when the op struct predates ABI 1.3 (no `failover` field), its
// `failover` is NULL or its record's struct_size is too small, event_key or
// to_node is missing, kind is not failover/switchover, automatic/succeeded
// is not 0/1, an epoch is above 2^63-1, epoch_after < epoch_before (or ==
// when succeeded: a promotion starts a new epoch), started_at_us is before
// kEarliestFailoverUs or finished_at_us before started_at_us, or lost_bytes /
// write_pause_ms is below -1. Any thread.
std::vector<CheckedOp> check_batch(const std::vector<kestrel_catalog_op>& ops);

// "op #<index> (upsert image <url>)", "(delete image <url>)", "(upsert
// session <key>)" or "(record failover <event_key>)": names a failed
// operation in an error message. Any thread.
std::string describe_op(size_t index, const CheckedOp& op);

// The current UTC time in microseconds since the Unix epoch.
int64_t wall_clock_us();

}  // namespace catalog_schema
}  // namespace kestrel

#endif  // KESTREL_CATALOG_SCHEMA_CATALOG_CHECKS_H
