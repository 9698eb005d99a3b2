// RemoteNode: a catalog file another kestreld holds (a CatalogNode,
// catalog_node.h), reached through that daemon's HA API: each call is one
// POST {url}/api/changes/{method} with the bearer token, served there by
// replicator-changelog's peer service (peer_service.h) from its own
// CatalogFile. One keep-alive HTTP connection per node, reopened after an
// error.
//
// Errors: UNAVAILABLE (retryable) when the daemon does not answer within
// `timeout_ms` or answers 5xx without a result code; otherwise the remote
// call's own result (FENCED, INVALID, NOT_FOUND...) with its message,
// prefixed by the node and URL. A refused token is INVALID (not retryable:
// fix peer_token). Plain HTTP only (no TLS in this build).
//
// Threads: any; one request at a time per node (an internal mutex).
#ifndef KESTREL_REPLICATOR_CHANGELOG_REMOTE_NODE_H
#define KESTREL_REPLICATOR_CHANGELOG_REMOTE_NODE_H

#include <Poco/JSON/Object.h>

#include <memory>
#include <mutex>

#include "catalog_node.h"

namespace Poco {
namespace Net {
class HTTPClientSession;
}
}  // namespace Poco

namespace kestrel {
namespace replicator_changelog {

class RemoteNode : public CatalogNode {
 public:
  // `spec.url`: "http://host:port" (INVALID otherwise); `token`: the peers'
  // HA API bearer token ("" for none); `timeout_ms`: per request.
  RemoteNode(NodeSpec spec, std::string token, int64_t timeout_ms);
  ~RemoteNode() override;

  const NodeSpec& spec() const override { return spec_; }
  FileState state() override;
  int64_t head_seq() override;
  std::vector<Entry> entries_after(int64_t seq, size_t limit) override;
  void backlog(int64_t seq, int64_t upto, int64_t* bytes, int64_t* oldest_created_at_us) override;
  int64_t apply(const std::string& source, const std::vector<Entry>& entries) override;
  void promote(uint64_t epoch) override;
  void set_role(const std::string& role, const std::string& source) override;
  void record_position(const std::string& standby, int64_t seq, int64_t commit_seq, int64_t epoch) override;
  void truncate(int64_t seq) override;
  std::vector<Entry> entries_after_older_than(int64_t seq, int64_t epoch) override;
  void record_conflicts(const std::string& node, const std::vector<Entry>& entries) override;
  std::string conflicts_json(uint32_t limit) override;
  std::vector<RowImage> row_images(const IdRange& range) override;
  catalog_schema::CatalogSummary summary(int64_t range_size, int64_t* head) override;

  // Rebuilds the remote file from `snapshot_path` (a local snapshot of the
  // primary `source`, snapshot.h) as a standby of `source`: sent in chunks
  // of `chunk_bytes`, each with its SHA-256; an interrupted transfer
  // resumes from what the receiver holds (up to 5 tries within one call);
  // the receiver checks the whole
  // file's SHA-256 before it applies it (one transaction there).
  void restore_snapshot(const std::string& source, const std::string& snapshot_path, int64_t chunk_bytes);

 private:
  // POSTs `body` (this node's name is added as "node") to
  // /api/changes/{method}, then a newline and `payload` when not empty;
  // `timeout_ms` 0: the node's peer timeout.
  Poco::JSON::Object::Ptr call(const std::string& method, Poco::JSON::Object::Ptr body,
                               const std::string& payload = std::string(), int64_t timeout_ms = 0);

  const NodeSpec spec_;
  const std::string token_;
  const int64_t timeout_ms_;
  std::string host_;
  uint16_t port_ = 0;
  std::string base_path_;
  std::mutex mu_;
  std::unique_ptr<Poco::Net::HTTPClientSession> session_;
};

}  // namespace replicator_changelog
}  // namespace kestrel

#endif  // KESTREL_REPLICATOR_CHANGELOG_REMOTE_NODE_H
