#include "local_blob_store.h"

#include <Poco/Crypto/Crypto.h>
#include <Poco/JSON/Object.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <sstream>
#include <system_error>

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

// Why unnamed uploads cannot work in `dir`, or "" if they can: an
// open(O_TMPFILE) there and a linkat of it through /proc/self/fd (the probe's
// name is removed again). `unsupported` is set when the filesystem or kernel
// lacks the feature (rather than, say, a full disk).
std::string probe_tmpfile(const std::string& dir, bool* unsupported) {
  *unsupported = false;
  UniqueFd fd(::open(dir.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644));
  if (!fd.valid()) {
    const int err = errno;
    // EOPNOTSUPP: the filesystem has no tmpfile op; EISDIR/EINVAL: kernels
    // before 3.11 read O_TMPFILE as O_DIRECTORY or reject the flag.
    *unsupported = err == EOPNOTSUPP || err == EISDIR || err == EINVAL;
    return "open(O_TMPFILE) failed: " + std::system_category().message(err);
  }
  const std::string proc_path = "/proc/self/fd/" + std::to_string(fd.get());
  const std::string name = dir + "/probe-" + std::to_string(::getpid()) + ".part";
  ::unlink(name.c_str());
  if (::linkat(AT_FDCWD, proc_path.c_str(), AT_FDCWD, name.c_str(), AT_SYMLINK_FOLLOW) != 0) {
    const int err = errno;
    *unsupported = err == ENOENT || err == EOPNOTSUPP || err == EPERM;  // no /proc, or no linking
    return "linkat(" + proc_path + ") failed: " + std::system_category().message(err);
  }
  ::unlink(name.c_str());
  return "";
}

bool parse_tmpfile_option(const std::string& value) {
  if (value == "auto") return true;
  if (value == "off") return false;
  throw Error(KESTREL_ERR_INVALID, "option tmpfile: '" + value + "' is not one of auto, off");
}

GroupCommit::Barrier parse_batch_sync_option(const std::string& value) {
  if (value == "syncfs") return GroupCommit::Barrier::kSyncfs;
  if (value == "fsync") return GroupCommit::Barrier::kFsync;
  throw Error(KESTREL_ERR_INVALID, "option batch_sync: '" + value + "' is not one of syncfs, fsync");
}

}  // namespace

LocalBlobStore::LocalBlobStore(const CreateArgs& args)
    : host_(args),
      root_(std::make_shared<BlobRoot>(resolve_root(args), args.get_bool("fsync"),
                                       parse_batch_sync_option(args.get_string("batch_sync")))),
      batch_sync_(args.get_string("batch_sync")),
      tmpfile_auto_(parse_tmpfile_option(args.get_string("tmpfile"))) {}

void LocalBlobStore::require_started() const {
  if (!started_) throw Error(KESTREL_ERR_UNAVAILABLE, "blob store " + root_->root() + " is not started", true);
}

void LocalBlobStore::start() {
  // Poco::Crypto reference-counts OpenSSL's set-up: each DigestEngine would
  // otherwise initialize it and tear it down (destroying its mutexes) while
  // other threads use it (a data race TSan reports). Holding one reference
  // for the process keeps the count above zero; plugins are never unloaded.
  static const bool openssl_ready = (Poco::Crypto::initializeCrypto(), true);
  (void)openssl_ready;
  const bool sync = root_->sync();
  make_root(root_->root(), sync);
  make_dirs(root_->root(), kTempDir, sync);
  // Named uploads of a crash (unnamed ones vanish with their process), also
  // of an earlier run with tmpfile: off or on another filesystem.
  const uint64_t removed = remove_all_in(root_->temp_dir());
  if (removed > 0) {
    if (sync) fsync_dir(root_->temp_dir());
    host_.logf(KESTREL_LOG_WARNING, "removed %llu unfinished upload(s) left in %s by an earlier crash",
               static_cast<unsigned long long>(removed), root_->temp_dir().c_str());
  }
  stale_removed_ = removed;
  root_->forget_all_dirs();  // someone may have removed folders while we were stopped
  choose_upload_mode();
  started_ = true;
}

void LocalBlobStore::choose_upload_mode() {
  if (!tmpfile_auto_) {
    root_->set_use_tmpfile(false);
    host_.logf(KESTREL_LOG_INFO, "uploads use named temp files in %s (option tmpfile: off)", root_->temp_dir().c_str());
    return;
  }
  bool unsupported = false;
  const std::string why_not = probe_tmpfile(root_->temp_dir(), &unsupported);
  root_->set_use_tmpfile(why_not.empty());
  if (why_not.empty()) {
    host_.logf(KESTREL_LOG_INFO, "uploads use unnamed O_TMPFILE files in %s, linked into place on commit",
               root_->temp_dir().c_str());
  } else {
    host_.logf(unsupported ? KESTREL_LOG_INFO : KESTREL_LOG_WARNING,
               "uploads use named temp files in %s: %s (a crash leaves them for the next start to remove)",
               root_->temp_dir().c_str(), why_not.c_str());
  }
}

void LocalBlobStore::stop(uint32_t /*deadline_ms*/) { started_ = false; }

void LocalBlobStore::health() {
  require_started();
  if (::access(root_->temp_dir().c_str(), W_OK | X_OK) != 0)
    throw_errno(errno, "blob root " + root_->root() + " is not writable");
}

std::string LocalBlobStore::status_json() {
  const BlobCounters& counters = root_->counters;
  Poco::JSON::Object status;
  status.set("root", root_->root());
  status.set("fsync", root_->sync());
  status.set("tmpfile", tmpfile_auto_ ? "auto" : "off");
  status.set("batch_sync", batch_sync_);
  status.set("upload_mode", root_->use_tmpfile() ? "tmpfile" : "named");
  status.set("state", started_ ? "running" : "stopped");
  status.set("stale_temp_removed", static_cast<Poco::UInt64>(stale_removed_));
  Poco::JSON::Object uploads;
  uploads.set("open", static_cast<Poco::UInt64>(counters.open));
  uploads.set("committed", static_cast<Poco::UInt64>(counters.committed));
  uploads.set("deduplicated", static_cast<Poco::UInt64>(counters.deduplicated));
  uploads.set("waiting_for_sync", static_cast<Poco::UInt64>(root_->group.pending()));
  uploads.set("aborted", static_cast<Poco::UInt64>(counters.aborted));
  status.set("uploads", uploads);
  std::ostringstream out;
  status.stringify(out);
  return out.str();
}

std::unique_ptr<BlobWriter> LocalBlobStore::blob_begin() {
  require_started();
  return std::make_unique<LocalBlobWriter>(root_);
}

bool LocalBlobStore::blob_exists(const std::string& path) {
  require_started();
  check_relative_path(path);
  struct stat st;
  const std::string full = root_->root() + "/" + path;
  if (::stat(full.c_str(), &st) == 0) return S_ISREG(st.st_mode);
  if (errno == ENOENT || errno == ENOTDIR) return false;
  throw_errno(errno, "checking blob " + full);
}

bool LocalBlobStore::blob_remove(const std::string& path) {
  require_started();
  check_relative_path(path);
  const std::string full = root_->root() + "/" + path;
  if (::unlink(full.c_str()) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return false;
    throw_errno(errno, "removing blob " + full);
  }
  if (root_->sync()) fsync_dir(full.substr(0, full.rfind('/')));
  return true;
}

void LocalBlobStore::blob_sync() { root_->group.sync(*root_); }

}  // namespace blob_local
}  // namespace kestrel
