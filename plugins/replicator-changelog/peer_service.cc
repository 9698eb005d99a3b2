// ChangelogReplicator::replicator_peer_request: what this daemon's
// replicator-changelog serves to the same replicator in another kestreld
// (HA API POST /api/changes/{method}; the host checked the bearer token).
// Each call names a node this daemon holds ("node") and runs the
// CatalogNode call of the same name on its CatalogFile (wire.h gives the
// shapes); "snapshot-begin", "snapshot-chunk" and "snapshot-end" receive a
// rebuild's snapshot into a file beside the catalog, each chunk checked
// against its SHA-256 and synced before it counts, the whole file against
// its SHA-256 before it is applied (CatalogFile::copy_from, one
// transaction). An interrupted transfer resumes at the size of that file.
#include <Poco/File.h>
#include <Poco/Path.h>

#include <fstream>
#include <sstream>

#include <fcntl.h>
#include <unistd.h>

#include "changelog_replicator.h"
#include "snapshot.h"
#include "wire.h"

namespace kestrel {
namespace replicator_changelog {
namespace {

using Obj = Poco::JSON::Object::Ptr;

Obj object() { return new Poco::JSON::Object; }

int64_t file_size(const std::string& path) {
  Poco::File f(path);
  return f.exists() ? static_cast<int64_t>(f.getSize()) : 0;
}

// Appends `data` to `path` and syncs it: what the next chunk's offset counts on.
void append_synced(const std::string& path, const std::string& data) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) throw Error(KESTREL_ERR_IO, "snapshot: cannot open " + path + " for writing");
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n <= 0) {
      ::close(fd);
      throw Error(KESTREL_ERR_IO, "snapshot: writing " + path + " failed (disk full?)");
    }
    done += static_cast<size_t>(n);
  }
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) throw Error(KESTREL_ERR_IO, "snapshot: fsync of " + path + " failed");
}

std::string part_path(const CatalogFile& f, const std::string& sha) {
  if (sha.size() != 64 || sha.find_first_not_of("0123456789abcdef") != std::string::npos)
    throw Error(KESTREL_ERR_INVALID, "field 'sha256': not a lower-case hex SHA-256");
  return temp_path_beside(f.spec().path, sha.substr(0, 16) + ".part");
}

}  // namespace

std::string ChangelogReplicator::replicator_peer_request(const std::string& method, const std::string& body) {
  std::string header = body, payload;
  if (method == "snapshot-chunk") {
    const size_t nl = body.find('\n');
    if (nl == std::string::npos)
      throw Error(KESTREL_ERR_INVALID, "snapshot-chunk: a JSON object, a newline, then the chunk's bytes");
    header = body.substr(0, nl);
    payload = body.substr(nl + 1);
  }
  const Obj in = wire::parse_object(header, method);
  const std::string node = wire::string_field(in, "node");
  CatalogNode& n = file(node);  // NOT_FOUND for a node not in the list
  if (!n.is_local())
    throw Error(KESTREL_ERR_NOT_FOUND, "node " + node + " is not held by this daemon (its url is " + n.spec().url + ")");
  CatalogFile& f = static_cast<CatalogFile&>(n);
  Obj out = object();

  if (method == "state") {
    out = wire::state_json(f.state());
  } else if (method == "entries-after") {
    out->set("entries", wire::entries_json(
                            f.entries_after(wire::int_field(in, "seq"), static_cast<size_t>(wire::int_field(in, "limit")))));
  } else if (method == "backlog") {
    int64_t bytes = 0, oldest = 0;
    f.backlog(wire::int_field(in, "seq"), wire::int_field(in, "upto"), &bytes, &oldest);
    out->set("bytes", bytes);
    out->set("oldest_created_at_us", oldest);
  } else if (method == "apply") {
    const std::string source = wire::string_field(in, "source");
    file(source);  // a source outside the nodes list is refused (NOT_FOUND) before anything changes here
    const std::vector<Entry> entries = wire::entries_from(wire::array_field(in, "entries"));
    const int64_t head = f.apply(source, entries);
    out->set("head_seq", head);
    if (!entries.empty()) adopt_primary(source, entries.back().epoch, "its daemon ships batches here");
    std::lock_guard<std::mutex> lock(mu_);
    Progress& p = progress_[node];
    p.applied_seq = head;
    if (!entries.empty()) {
      p.applied_commit_seq = entries.back().commit_seq;
      p.epoch = std::max(p.epoch, entries.back().epoch);
    }
    p.streaming = true;
    p.detail.clear();
  } else if (method == "promote") {
    const int64_t epoch = wire::int_field(in, "epoch");
    if (epoch < 0) throw Error(KESTREL_ERR_INVALID, "field 'epoch': negative");
    f.promote(static_cast<uint64_t>(epoch));
    adopt_primary(node, epoch, "promoted at a peer daemon's request");
  } else if (method == "set-role") {
    const std::string role = wire::string_field(in, "role");
    const std::string source = in->optValue<std::string>("source", "");
    f.set_role(role, source);
    if (role == "standby" && !source.empty()) {
      file(source);
      adopt_primary(source, f.state().epoch, "this node follows it, at a peer daemon's request");
    }
  } else if (method == "record-position") {
    f.record_position(wire::string_field(in, "standby"), wire::int_field(in, "seq"), wire::int_field(in, "commit_seq"),
                      wire::int_field(in, "epoch"));
  } else if (method == "truncate") {
    f.truncate(wire::int_field(in, "seq"));
  } else if (method == "entries-after-older-than") {
    out->set("entries", wire::entries_json(f.entries_after_older_than(wire::int_field(in, "seq"),
                                                                       wire::int_field(in, "epoch"))));
  } else if (method == "record-conflicts") {
    f.record_conflicts(wire::string_field(in, "former_primary"), wire::entries_from(wire::array_field(in, "entries")));
  } else if (method == "conflicts") {
    const int64_t limit = wire::int_field(in, "limit");
    const auto n = static_cast<uint32_t>(std::max<int64_t>(0, std::min<int64_t>(limit, UINT32_MAX)));
    out->set("conflicts", wire::parse_array(f.conflicts_json(n), "conflicts"));
  } else if (method == "row-images") {
    out->set("rows", wire::rows_json(f.row_images(
                         {wire::string_field(in, "table"), wire::int_field(in, "from_id"), wire::int_field(in, "to_id")})));
  } else if (method == "summary") {
    int64_t head = 0;
    const int64_t range_size = wire::int_field(in, "range_size");
    if (range_size < 1) throw Error(KESTREL_ERR_INVALID, "field 'range_size': must be at least 1");
    const catalog_schema::CatalogSummary s = f.summary(range_size, &head);
    out->set("head_seq", head);
    out->set("tables", wire::summary_json(s));
  } else if (method == "snapshot-begin") {
    const std::string part = part_path(f, wire::string_field(in, "sha256"));
    // One transfer at a time per node: parts of other snapshots are stale.
    std::vector<std::string> names;
    const Poco::Path dir = Poco::Path(f.spec().path).parent();
    Poco::File(dir).list(names);
    const std::string prefix = Poco::Path(f.spec().path).getFileName() + ".snapshot-";
    for (const std::string& n : names)
      if (n.compare(0, prefix.size(), prefix) == 0 && n.size() > 5 && n.compare(n.size() - 5, 5, ".part") == 0 &&
          dir.toString() + n != part)
        ::unlink((dir.toString() + n).c_str());
    int64_t have = file_size(part);
    if (have > wire::int_field(in, "bytes")) {
      ::unlink(part.c_str());
      have = 0;
    }
    out->set("offset", have);
  } else if (method == "snapshot-chunk") {
    const std::string part = part_path(f, wire::string_field(in, "sha256"));
    const int64_t offset = wire::int_field(in, "offset");
    const int64_t have = file_size(part);
    if (offset != have)
      throw Error(KESTREL_ERR_INVALID, "snapshot-chunk at offset " + std::to_string(offset) + ", but " +
                                           std::to_string(have) + " bytes are held: resume from snapshot-begin");
    if (sha256_hex(payload.data(), payload.size()) != wire::string_field(in, "chunk_sha256"))
      throw Error(KESTREL_ERR_INVALID, "snapshot-chunk at offset " + std::to_string(offset) +
                                           ": the bytes do not match chunk_sha256 (damaged in transit): send it again",
                  true);
    append_synced(part, payload);
    out->set("offset", have + static_cast<int64_t>(payload.size()));
  } else if (method == "snapshot-end") {
    const std::string sha = wire::string_field(in, "sha256");
    const std::string part = part_path(f, sha);
    const std::string source = wire::string_field(in, "source");
    file(source);
    const int64_t bytes = wire::int_field(in, "bytes");
    if (file_size(part) != bytes)
      throw Error(KESTREL_ERR_INVALID, "snapshot-end: " + std::to_string(file_size(part)) + " of " +
                                           std::to_string(bytes) + " bytes held: resume from snapshot-begin");
    if (sha256_file(part) != sha) {
      ::unlink(part.c_str());
      throw Error(KESTREL_ERR_INVALID, "snapshot-end: the received file does not match its sha256 (discarded): "
                                       "send it again", true);
    }
    try {
      f.copy_from(source, part);
    } catch (...) {
      ::unlink(part.c_str());
      throw;
    }
    ::unlink(part.c_str());
    const FileState st = f.state();
    adopt_primary(source, st.epoch, "this node was rebuilt from its snapshot");
    {
      std::lock_guard<std::mutex> lock(mu_);
      Progress& p = progress_[node];
      p.applied_seq = st.head_seq;
      p.applied_commit_seq = st.commit_seq;
      p.epoch = st.epoch;
      p.needs_rebuild = false;
      p.detail.clear();
    }
    host_.logf(KESTREL_LOG_INFO, "node %s rebuilt from a snapshot of %s (%lld bytes, sha256 %s), at change %lld",
               node.c_str(), source.c_str(), static_cast<long long>(bytes), sha.substr(0, 16).c_str(),
               static_cast<long long>(st.head_seq));
    out = wire::state_json(st);
  } else {
    throw Error(KESTREL_ERR_NOT_FOUND,
                "no peer method '" + method +
                    "' (state, entries-after, backlog, apply, promote, set-role, record-position, truncate, "
                    "entries-after-older-than, record-conflicts, conflicts, row-images, summary, snapshot-begin, "
                    "snapshot-chunk, snapshot-end)");
  }
  return wire::to_text(out);
}

}  // namespace replicator_changelog
}  // namespace kestrel
