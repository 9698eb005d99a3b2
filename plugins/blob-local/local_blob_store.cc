#include "local_blob_store.h"

#include <Poco/Crypto/Crypto.h>
#include <Poco/JSON/Object.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <sstream>

#include "blob_paths.h"
#include "posix_io.h"

namespace kestrel {
namespace blob_local {
namespace {

std::string resolve_root(const CreateArgs& args) {
  std::string root = args.get_string("root");
  if (root.empty()) throw Error(KESTREL_ERR_INVALID, "option root: must name a folder");
  if (root.front() != '/') {
    // The host resolves PATH options; this only guards hosts (and tests) that do not.
    const std::string dir = args.data_dir();
    if (dir.empty()) throw Error(KESTREL_ERR_INVALID, "option root: '" + root + "' is relative and no data dir is set");
    root = dir + "/" + root;
  }
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  return root;
}

// Creates `path` and its missing parents; fsyncs the parent of each one made.
void make_root(const std::string& path, bool sync) {
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) throw Error(KESTREL_ERR_IO, "blob root " + path + " exists and is not a folder");
    return;
  }
  const size_t slash = path.rfind('/');
  const std::string parent = slash == 0 ? "/" : path.substr(0, slash);
  make_root(parent, sync);
  if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) throw_errno(errno, "creating blob root " + path);
  if (sync) fsync_dir(parent);
}

// Removes every entry of `dir` (uploads a crash left behind). Returns how many.
uint64_t remove_all_in(const std::string& dir) {
  std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir.c_str()), &::closedir);
  if (!d) throw_errno(errno, "listing " + dir);
  uint64_t removed = 0;
  while (const dirent* e = ::readdir(d.get())) {
    const std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    const std::string path = dir + "/" + name;
    if (::unlink(path.c_str()) != 0) throw_errno(errno, "removing stale upload " + path);
    ++removed;
  }
  return removed;
}

}  // namespace

LocalBlobStore::LocalBlobStore(const CreateArgs& args)
    : host_(args), root_(resolve_root(args)), sync_(args.get_bool("fsync")) {}

void LocalBlobStore::require_started() const {
  if (!started_) throw Error(KESTREL_ERR_UNAVAILABLE, "blob store " + root_ + " is not started", true);
}

void LocalBlobStore::start() {
  // Poco::Crypto reference-counts OpenSSL's set-up: each DigestEngine would
  // otherwise initialize it and tear it down (destroying its mutexes) while
  // other threads use it (a data race TSan reports). Holding one reference
  // for the process keeps the count above zero; plugins are never unloaded.
  static const bool openssl_ready = (Poco::Crypto::initializeCrypto(), true);
  (void)openssl_ready;
  make_root(root_, sync_);
  make_dirs(root_, kTempDir, sync_);
  const uint64_t removed = remove_all_in(root_ + "/" + kTempDir);
  if (removed > 0) {
    if (sync_) fsync_dir(root_ + "/" + kTempDir);
    host_.logf(KESTREL_LOG_WARNING, "removed %llu unfinished upload(s) left in %s/%s by an earlier crash",
               static_cast<unsigned long long>(removed), root_.c_str(), kTempDir);
  }
  stale_removed_ = removed;
  started_ = true;
}

void LocalBlobStore::stop(uint32_t /*deadline_ms*/) { started_ = false; }

void LocalBlobStore::health() {
  require_started();
  if (::access((root_ + "/" + kTempDir).c_str(), W_OK | X_OK) != 0)
    throw_errno(errno, "blob root " + root_ + " is not writable");
}

std::string LocalBlobStore::status_json() {
  Poco::JSON::Object status;
  status.set("root", root_);
  status.set("fsync", sync_);
  status.set("state", started_ ? "running" : "stopped");
  status.set("stale_temp_removed", static_cast<Poco::UInt64>(stale_removed_));
  Poco::JSON::Object uploads;
  uploads.set("open", static_cast<Poco::UInt64>(counters_->open));
  uploads.set("committed", static_cast<Poco::UInt64>(counters_->committed));
  uploads.set("deduplicated", static_cast<Poco::UInt64>(counters_->deduplicated));
  uploads.set("aborted", static_cast<Poco::UInt64>(counters_->aborted));
  status.set("uploads", uploads);
  std::ostringstream out;
  status.stringify(out);
  return out.str();
}

std::unique_ptr<BlobWriter> LocalBlobStore::blob_begin() {
  require_started();
  return std::make_unique<LocalBlobWriter>(root_, sync_, counters_);
}

bool LocalBlobStore::blob_exists(const std::string& path) {
  require_started();
  check_relative_path(path);
  struct stat st;
  const std::string full = root_ + "/" + path;
  if (::stat(full.c_str(), &st) == 0) return S_ISREG(st.st_mode);
  if (errno == ENOENT || errno == ENOTDIR) return false;
  throw_errno(errno, "checking blob " + full);
}

bool LocalBlobStore::blob_remove(const std::string& path) {
  require_started();
  check_relative_path(path);
  const std::string full = root_ + "/" + path;
  if (::unlink(full.c_str()) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return false;
    throw_errno(errno, "removing blob " + full);
  }
  if (sync_) fsync_dir(full.substr(0, full.rfind('/')));
  return true;
}

}  // namespace blob_local
}  // namespace kestrel
