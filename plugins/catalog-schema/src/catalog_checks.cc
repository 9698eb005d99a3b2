// Copying and checking a catalog batch; see catalog_schema/catalog_checks.h.
#include <Poco/JSON/Parser.h>
#include <Poco/Timestamp.h>
#include <Poco/UTF8Encoding.h>
#include <catalog_schema/catalog_checks.h>

#include <climits>
#include <cstddef>
#include <cstring>
#include <kestrel/plugin.hpp>

namespace kestrel {
namespace catalog_schema {
namespace {

// The byte offset of the first ill-formed UTF-8 sequence in s (RFC 3629:
// no overlong forms, no surrogates, nothing above U+10FFFF; Poco checks a
// sequence once its length is read off the lead byte), or -1 when none.
long first_bad_utf8(const char* s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s);
  const size_t n = std::strlen(s);
  for (size_t i = 0; i < n;) {
    const unsigned char b = p[i];
    const int len = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 0;
    if (len == 0 || i + static_cast<size_t>(len) > n || !Poco::UTF8Encoding::isLegal(p + i, len))
      return static_cast<long>(i);
    i += static_cast<size_t>(len);
  }
  return -1;
}

bool is_lower_hex(const char* s, size_t length) {
  if (std::strlen(s) != length) return false;
  for (size_t i = 0; i < length; ++i)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return false;
  return true;
}

// Builds "op #i (kind key): field ..." errors.
class OpChecker {
 public:
  OpChecker(size_t index, const char* what, const std::string& key)
      : prefix_("op #" + std::to_string(index) + " (" + what + (key.empty() ? "" : " " + key) + "): ") {}

  [[noreturn]] void fail(const std::string& why) const { throw Error(KESTREL_ERR_INVALID, prefix_ + why); }

  // Every text column is UTF-8 (kestrel_image_record and the schema say so;
  // PostgreSQL refuses anything else), checked here so that both stores and
  // every standby of the change log take or refuse the same rows.
  std::string required_text(const char* field, const char* value) const {
    const long bad = first_bad_utf8(value);
    if (bad >= 0) fail(std::string(field) + " is not valid UTF-8 (an ill-formed sequence at byte " + std::to_string(bad) + ")");
    return value;
  }
  Poco::Nullable<std::string> text(const char* field, const char* value) const {
    if (value == nullptr) return Poco::Nullable<std::string>();
    return Poco::Nullable<std::string>(required_text(field, value));
  }
  Poco::Int64 unsigned_field(const char* field, uint64_t value) const {
    if (value > static_cast<uint64_t>(INT64_MAX))
      fail(std::string(field) + " " + std::to_string(value) + " is above the largest storable value (2^63-1)");
    return static_cast<Poco::Int64>(value);
  }
  Poco::Int64 signed_field(const char* field, int64_t value) const {
    if (value < 0) fail(std::string(field) + " " + std::to_string(value) + " is negative");
    return value;
  }
  void hex_field(const char* field, const char* value, size_t digits) const {
    if (value != nullptr && !is_lower_hex(value, digits))
      fail(std::string(field) + " '" + value + "' is not " + std::to_string(digits) + " lower-case hex digits");
  }
  void json_field(const char* field, const char* value) const {
    if (value == nullptr) return;
    try {
      Poco::JSON::Parser().parse(value);
    } catch (const Poco::Exception& e) {
      fail(std::string(field) + " is not valid JSON: " + e.displayText());
    }
  }

 private:
  std::string prefix_;
};

ImageValues check_image(size_t index, const char* what, const kestrel_image_record* raw, bool key_only) {
  if (raw == nullptr) OpChecker(index, what, "").fail("image record is NULL");
  const kestrel_image_record r = kestrel::copy_in(raw);
  if (r.url == nullptr || r.url[0] == '\0') OpChecker(index, what, "").fail("url is missing (it is the upsert key)");
  OpChecker(index, what, "").required_text("url", r.url);
  const OpChecker check(index, what, r.url);
  ImageValues v;
  v.url = r.url;
  if (key_only) return v;
  v.source_url = check.text("source_url", r.source_url);
  v.filename = check.text("filename", r.filename);
  v.file_path = check.text("file_path", r.file_path);
  v.file_size = check.unsigned_field("file_size", r.file_size);
  if (r.width > INT32_MAX) check.fail("width " + std::to_string(r.width) + " is above 2^31-1 pixels");
  if (r.height > INT32_MAX) check.fail("height " + std::to_string(r.height) + " is above 2^31-1 pixels");
  v.width = r.width;
  v.height = r.height;
  if (r.format != nullptr) {
    const std::string f = r.format;
    if (f != "png" && f != "jpeg" && f != "gif" && f != "webp")
      check.fail("format '" + f + "' is not one of png, jpeg, gif, webp");
  }
  v.format = check.text("format", r.format);
  v.mime_type = check.text("mime_type", r.mime_type);
  check.hex_field("md5", r.md5, 32);
  check.hex_field("sha256", r.sha256, 64);
  v.md5 = check.text("md5", r.md5);
  v.sha256 = check.text("sha256", r.sha256);
  v.etag = check.text("etag", r.etag);
  v.last_modified = check.text("last_modified", r.last_modified);
  if (check.signed_field("category_id", r.category_id) != 0) v.category_id = r.category_id;
  if (check.signed_field("crawl_session_id", r.crawl_session_id) != 0) v.crawl_session_id = r.crawl_session_id;
  v.fetched_at_us = check.signed_field("fetched_at_us", r.fetched_at_us);
  return v;
}

SessionValues check_session(size_t index, const kestrel_session_record* raw) {
  const char* what = "upsert session";
  if (raw == nullptr) OpChecker(index, what, "").fail("session record is NULL");
  const kestrel_session_record r = kestrel::copy_in(raw);
  if (r.session_key == nullptr || r.session_key[0] == '\0')
    OpChecker(index, what, "").fail("session_key is missing (it is the upsert key)");
  OpChecker(index, what, "").required_text("session_key", r.session_key);
  const OpChecker check(index, what, r.session_key);
  SessionValues v;
  v.session_key = r.session_key;
  v.node_name = check.text("node_name", r.node_name);
  check.json_field("seeds_json", r.seeds_json);
  v.seeds_json = check.text("seeds_json", r.seeds_json);
  switch (r.state) {
    case KESTREL_SESSION_RUNNING:
      v.state = "running";
      break;
    case KESTREL_SESSION_FINISHED:
      v.state = "finished";
      break;
    case KESTREL_SESSION_STOPPED:
      v.state = "stopped";
      break;
    case KESTREL_SESSION_FAILED:
      v.state = "failed";
      break;
    default:
      check.fail("state " + std::to_string(r.state) + " is not a kestrel_session_state (1-4)");
  }
  if (check.signed_field("started_at_us", r.started_at_us) != 0) v.started_at_us = r.started_at_us;
  if (check.signed_field("finished_at_us", r.finished_at_us) != 0) v.finished_at_us = r.finished_at_us;
  v.pages = check.unsigned_field("pages", r.pages);
  v.images = check.unsigned_field("images", r.images);
  v.bytes = check.unsigned_field("bytes", r.bytes);
  v.errors = check.unsigned_field("errors", r.errors);
  check.json_field("errors_json", r.errors_json);
  v.errors_json = check.text("errors_json", r.errors_json);
  return v;
}

// Only fields a 1.3 sender knows are read: a shorter record is refused
// rather than read past its end.
FailoverValues check_failover(size_t index, const kestrel_catalog_op* op) {
  const char* what = "record failover";
  if (!KESTREL_HAS(op, kestrel_catalog_op, failover))
    OpChecker(index, what, "")
        .fail("the op struct (struct_size " + std::to_string(op->struct_size) +
              ") has no failover field: RECORD_FAILOVER needs a sender built for ABI 1.3 or later");
  const kestrel_failover_record* raw = op->failover;
  if (raw == nullptr) OpChecker(index, what, "").fail("failover record is NULL");
  if (!KESTREL_HAS(raw, kestrel_failover_record, detail))
    OpChecker(index, what, "")
        .fail("failover record struct_size " + std::to_string(raw->struct_size) + " is below the " +
              std::to_string(offsetof(kestrel_failover_record, detail) + sizeof(raw->detail)) +
              " bytes of an ABI 1.3 kestrel_failover_record");
  const kestrel_failover_record r = kestrel::copy_in(raw);
  if (r.event_key == nullptr || r.event_key[0] == '\0')
    OpChecker(index, what, "").fail("event_key is missing (it is the upsert key)");
  OpChecker(index, what, "").required_text("event_key", r.event_key);
  const OpChecker check(index, what, r.event_key);
  FailoverValues v;
  v.event_key = r.event_key;
  if (r.kind == nullptr) check.fail("kind is missing (failover or switchover)");
  v.kind = check.required_text("kind", r.kind);
  if (v.kind != "failover" && v.kind != "switchover")
    check.fail("kind '" + v.kind + "' is not one of failover, switchover");
  v.from_node = check.text("from_node", r.from_node);
  if (r.to_node == nullptr || r.to_node[0] == '\0') check.fail("to_node is missing (the node promoted)");
  v.to_node = check.required_text("to_node", r.to_node);
  v.reason = check.text("reason", r.reason);
  if (r.automatic != 0 && r.automatic != 1) check.fail("automatic " + std::to_string(r.automatic) + " is not 0 or 1");
  if (r.succeeded != 0 && r.succeeded != 1) check.fail("succeeded " + std::to_string(r.succeeded) + " is not 0 or 1");
  v.automatic = r.automatic;
  v.succeeded = r.succeeded;
  v.epoch_before = check.unsigned_field("epoch_before", r.epoch_before);
  v.epoch_after = check.unsigned_field("epoch_after", r.epoch_after);
  if (r.epoch_after < r.epoch_before)
    check.fail("epoch_after " + std::to_string(r.epoch_after) + " is below epoch_before " +
               std::to_string(r.epoch_before));
  if (r.succeeded == 1 && r.epoch_after == r.epoch_before)
    check.fail("epoch_after " + std::to_string(r.epoch_after) +
               " equals epoch_before, but succeeded is 1: a promotion starts a new epoch");
  if (r.started_at_us < kEarliestFailoverUs)
    check.fail("started_at_us " + std::to_string(r.started_at_us) +
               " is before 2001-09-09: not UTC microseconds since the Unix epoch (seconds or milliseconds?)");
  if (r.finished_at_us < r.started_at_us)
    check.fail("finished_at_us " + std::to_string(r.finished_at_us) + " is before started_at_us " +
               std::to_string(r.started_at_us));
  v.started_at_us = r.started_at_us;
  v.finished_at_us = r.finished_at_us;
  v.duration_ms = (r.finished_at_us - r.started_at_us) / 1000;
  if (r.lost_bytes < -1) check.fail("lost_bytes " + std::to_string(r.lost_bytes) + " is below -1 (unknown)");
  if (r.write_pause_ms < -1)
    check.fail("write_pause_ms " + std::to_string(r.write_pause_ms) + " is below -1 (not measured)");
  v.lost_bytes = r.lost_bytes;
  v.write_pause_ms = r.write_pause_ms;
  v.detail = check.text("detail", r.detail);
  return v;
}

}  // namespace

int64_t wall_clock_us() { return Poco::Timestamp().epochMicroseconds(); }

std::string describe_op(size_t index, const CheckedOp& op) {
  switch (op.kind) {
    case KESTREL_OP_UPSERT_IMAGE:
      return "op #" + std::to_string(index) + " (upsert image " + op.image.url + ")";
    case KESTREL_OP_DELETE_IMAGE:
      return "op #" + std::to_string(index) + " (delete image " + op.image.url + ")";
    case KESTREL_OP_UPSERT_SESSION:
      return "op #" + std::to_string(index) + " (upsert session " + op.session.session_key + ")";
    case KESTREL_OP_RECORD_FAILOVER:
      return "op #" + std::to_string(index) + " (record failover " + op.failover.event_key + ")";
    default:
      return "op #" + std::to_string(index) + " (kind " + std::to_string(op.kind) + ")";
  }
}

std::vector<CheckedOp> check_batch(const std::vector<kestrel_catalog_op>& ops) {
  std::vector<CheckedOp> out;
  out.reserve(ops.size());
  for (size_t i = 0; i < ops.size(); ++i) {
    CheckedOp op;
    op.kind = ops[i].kind;
    switch (op.kind) {
      case KESTREL_OP_UPSERT_IMAGE:
        op.image = check_image(i, "upsert image", ops[i].image, false);
        break;
      case KESTREL_OP_DELETE_IMAGE:
        op.image = check_image(i, "delete image", ops[i].image, true);
        break;
      case KESTREL_OP_UPSERT_SESSION:
        op.session = check_session(i, ops[i].session);
        break;
      case KESTREL_OP_RECORD_FAILOVER:
        op.failover = check_failover(i, &ops[i]);
        break;
      default:
        throw Error(KESTREL_ERR_INVALID, "op #" + std::to_string(i) + ": kind " + std::to_string(op.kind) +
                                             " is not a kestrel_catalog_op_kind (1-4)");
    }
    out.push_back(std::move(op));
  }
  return out;
}

}  // namespace catalog_schema
}  // namespace kestrel
