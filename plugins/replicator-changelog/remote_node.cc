#include "remote_node.h"

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>

#include <kestrel/plugin.hpp>

#include <chrono>
#include <fstream>
#include <thread>
#include <sstream>

#include "snapshot.h"
#include "wire.h"

namespace kestrel {
namespace replicator_changelog {
namespace {

// The result a peer's error names ("code": result_name); UNAVAILABLE for a name this build does not know.
kestrel_result code_named(const std::string& name) {
  for (int c = KESTREL_ERR_INVALID; c <= KESTREL_ERR_BUSY; ++c)
    if (name == result_name(c)) return static_cast<kestrel_result>(c);
  return KESTREL_ERR_UNAVAILABLE;
}

}  // namespace

RemoteNode::RemoteNode(NodeSpec spec, std::string token, int64_t timeout_ms)
    : spec_(std::move(spec)), token_(std::move(token)), timeout_ms_(timeout_ms) {
  Poco::URI uri;
  try {
    uri = Poco::URI(spec_.url);
  } catch (const Poco::Exception& e) {
    throw Error(KESTREL_ERR_INVALID, "option nodes: node " + spec_.name + ": url '" + spec_.url + "': " + e.displayText());
  }
  if (uri.getScheme() != "http" || uri.getHost().empty())
    throw Error(KESTREL_ERR_INVALID, "option nodes: node " + spec_.name + ": url '" + spec_.url +
                                         "' is not http://host:port (the HA API of the kestreld holding it; no TLS "
                                         "in this build)");
  host_ = uri.getHost();
  port_ = uri.getPort();
  base_path_ = uri.getPath();
  while (!base_path_.empty() && base_path_.back() == '/') base_path_.pop_back();
}

RemoteNode::~RemoteNode() = default;

Poco::JSON::Object::Ptr RemoteNode::call(const std::string& method, Poco::JSON::Object::Ptr body,
                                         const std::string& payload, int64_t timeout_ms) {
  body->set("node", spec_.name);
  std::string text = wire::to_text(body);
  if (!payload.empty()) text += "\n" + payload;
  const std::string where = "node " + spec_.name + " at " + spec_.url;
  std::lock_guard<std::mutex> lock(mu_);
  int status = 0;
  std::string reply;
  try {
    if (!session_) {
      session_ = std::make_unique<Poco::Net::HTTPClientSession>(host_, port_);
      session_->setKeepAlive(true);
    }
    const Poco::Timespan timeout((timeout_ms > 0 ? timeout_ms : timeout_ms_) * 1000);
    session_->setTimeout(timeout, timeout, timeout);
    Poco::Net::HTTPRequest req(Poco::Net::HTTPRequest::HTTP_POST, base_path_ + "/api/changes/" + method,
                               Poco::Net::HTTPMessage::HTTP_1_1);
    req.setContentType(payload.empty() ? "application/json" : "application/octet-stream");
    req.setContentLength64(static_cast<Poco::Int64>(text.size()));
    req.setKeepAlive(true);
    if (!token_.empty()) req.set("Authorization", "Bearer " + token_);
    session_->sendRequest(req).write(text.data(), static_cast<std::streamsize>(text.size()));
    Poco::Net::HTTPResponse resp;
    std::istream& in = session_->receiveResponse(resp);
    Poco::StreamCopier::copyToString(in, reply);
    status = resp.getStatus();
  } catch (const Poco::Exception& e) {
    session_.reset();  // a fresh connection next time
    throw Error(KESTREL_ERR_UNAVAILABLE, where + " does not answer (" + method + "): " + e.displayText(), true);
  }
  if (status == 200) return wire::parse_object(reply, where + ": the answer to " + method);
  Poco::JSON::Object::Ptr err;
  try {
    err = wire::parse_object(reply, "error");
  } catch (const Error&) {
  }
  const std::string message = !err.isNull() && err->has("error") ? err->optValue<std::string>("error", reply) : reply;
  if (status == 413) {
    session_.reset();  // the server answered before reading the body
    throw Error(KESTREL_ERR_INVALID, where + ": the request is too large for its HA API (" + method + ", " +
                                         std::to_string(text.size()) + " bytes): " + message);
  }
  if (status == 401 || status == 403)
    throw Error(KESTREL_ERR_INVALID, where + " refused the token (HTTP " + std::to_string(status) +
                                         "): set the replicator's peer_token to that daemon's admin.token");
  if (status == 404 && (err.isNull() || !err->has("code")))
    throw Error(KESTREL_ERR_UNSUPPORTED, where + ": HTTP 404 for /api/changes/" + method +
                                             " (an older kestreld, or no replicator-changelog there): " + message);
  const kestrel_result code =
      !err.isNull() && err->has("code") ? code_named(err->optValue<std::string>("code", "")) : KESTREL_ERR_UNAVAILABLE;
  const bool retryable = !err.isNull() && err->has("retryable") ? err->optValue<bool>("retryable", false)
                                                                  : code == KESTREL_ERR_UNAVAILABLE;
  throw Error(code, where + ": " + message, retryable);
}

FileState RemoteNode::state() { return wire::state_from(call("state", new Poco::JSON::Object)); }

int64_t RemoteNode::head_seq() { return state().head_seq; }

std::vector<Entry> RemoteNode::entries_after(int64_t seq, size_t limit) {
  Poco::JSON::Object::Ptr b = new Poco::JSON::Object;
  b->set("seq", seq);
  b->set("limit", static_cast<int64_t>(limit));
  return wire::entries_from(wire::array_field(call("entries-after", b), "entries"));
}

void RemoteNode::backlog(int64_t seq, int64_t upto, int64_t* bytes, int64_t* oldest_created_at_us) {
  Poco::JSON::Object::Ptr b = new Poco::JSON::Object;
  b->set("seq", seq);
  b->set("upto", upto);
  const Poco::JSON::Object::Ptr r = call("backlog", b);
  *bytes = wire::int_field(r, "bytes");
  *oldest_created_at_us = wire::int_field(r, "oldest_created_at_us");
}

int64_t RemoteNode::apply(const std::string& source, const std::vector<Entry>& entries) {
  Poco::JSON::Object::Ptr b = new Poco::JSON::Object;
  b->set("source", source);
  b->set("entries", wire::entries_json(entries));
  return wire::int_field(call("apply", b), "head_seq");
}

void RemoteNode::promote(uint64_t epoch) {
  Poco::JSON::Object::Ptr b = new Poco::JSON::Object;
  b->set("epoch", static_cast<int64_t>(epoch));
  call("promote", b);
}

void RemoteNode::set_role(const std::string& role, const std::string& source) {
  Poco::JSON::Object::Ptr b = new Poco::JSON::Object;
  b->set("role", role);
  b->set("source", source);
  call("set-role", b);
}

void RemoteNode::record_position(const std::string& standby, int64_t seq, int64_t commit_seq, int64_t epoch) {
  Poco::JSON::Object::Ptr b = new Poco::JSON::Object;
  b->set("standby", standby);
  b->set("seq", seq);
  b->set("commit_seq", commit_seq);
  b->set("epoch", epoch);
  call("record-position", b);
}

void RemoteNode::truncate(int64_t seq) {
  Poco::JSON::Object::Ptr b = new Poco::JSON::Object;
  b->set("seq", seq);
  call("truncate", b);
}

std::vector<Entry> RemoteNode::entries_after_older_than(int64_t seq, int64_t epoch) {
  Poco::JSON::Object::Ptr b = new Poco::JSON::Object;
  b->set("seq", seq);
  b->set("epoch", epoch);
  return wire::entries_from(wire::array_field(call("entries-after-older-than", b), "entries"));
}

void RemoteNode::record_conflicts(const std::string& node, const std::vector<Entry>& entries) {
  Poco::JSON::Object::Ptr b = new Poco::JSON::Object;
  b->set("former_primary", node);
  b->set("entries", wire::entries_json(entries));
  call("record-conflicts", b);
}

std::string RemoteNode::conflicts_json(uint32_t limit) {
  Poco::JSON::Object::Ptr b = new Poco::JSON::Object;
  b->set("limit", static_cast<int64_t>(limit));
  std::ostringstream out;
  wire::array_field(call("conflicts", b), "conflicts")->stringify(out);
  return out.str();
}

std::vector<RowImage> RemoteNode::row_images(const IdRange& range) {
  Poco::JSON::Object::Ptr b = new Poco::JSON::Object;
  b->set("table", range.table);
  b->set("from_id", range.from_id);
  b->set("to_id", range.to_id);
  return wire::rows_from(wire::array_field(call("row-images", b), "rows"));
}

catalog_schema::CatalogSummary RemoteNode::summary(int64_t range_size, int64_t* head) {
  Poco::JSON::Object::Ptr b = new Poco::JSON::Object;
  b->set("range_size", range_size);
  const Poco::JSON::Object::Ptr r = call("summary", b);
  *head = wire::int_field(r, "head_seq");
  return wire::summary_from(wire::object_field(r, "tables"));
}

void RemoteNode::restore_snapshot(const std::string& source, const std::string& snapshot_path, int64_t chunk_bytes) {
  const std::string sha = sha256_file(snapshot_path);
  std::ifstream in(snapshot_path, std::ios::binary | std::ios::ate);
  if (!in) throw Error(KESTREL_ERR_UNAVAILABLE, "cannot read the snapshot " + snapshot_path, true);
  const int64_t size = static_cast<int64_t>(in.tellg());
  Poco::JSON::Object::Ptr b = new Poco::JSON::Object;
  b->set("sha256", sha);
  b->set("bytes", size);
  // A failed chunk (the peer restarted, a chunk damaged in transit) is
  // resumed from what the receiver holds, a few times within this rebuild.
  std::string chunk;
  for (int attempt = 1;; ++attempt) {
    try {
      int64_t offset = wire::int_field(call("snapshot-begin", b), "offset");  // what the receiver already holds
      while (offset < size) {
        const int64_t n = std::min(chunk_bytes, size - offset);
        chunk.resize(static_cast<size_t>(n));
        in.clear();
        in.seekg(offset);
        if (!in.read(&chunk[0], n))
          throw Error(KESTREL_ERR_IO, "cannot read the snapshot " + snapshot_path);
        Poco::JSON::Object::Ptr c = new Poco::JSON::Object;
        c->set("sha256", sha);
        c->set("offset", offset);
        c->set("chunk_sha256", sha256_hex(chunk.data(), chunk.size()));
        offset = wire::int_field(call("snapshot-chunk", c, chunk), "offset");
      }
      break;
    } catch (const Error& e) {
      if (!e.retryable() || attempt >= 5) throw;
      std::this_thread::sleep_for(std::chrono::milliseconds(200 * attempt));
    }
  }
  Poco::JSON::Object::Ptr e = new Poco::JSON::Object;
  e->set("sha256", sha);
  e->set("bytes", size);
  e->set("source", source);
  // snapshot-end hashes the file and copies it in one transaction there:
  // allow it a second per 16 MiB beyond peer_timeout.
  call("snapshot-end", e, std::string(), timeout_ms_ + size / (16 << 20) * 1000);
}

}  // namespace replicator_changelog
}  // namespace kestrel
