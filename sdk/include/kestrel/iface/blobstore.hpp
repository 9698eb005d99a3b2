// kestrel/iface/blobstore.hpp — kestrel.blobstore.v1 for the C++ wrapper: the provider a
// component implements, the client a caller uses, and the C trampolines
// between them, together. Needs only the core (kestrel/plugin_core.hpp);
// kestrel/plugin.hpp includes it with every other interface.
#ifndef KESTREL_IFACE_BLOBSTORE_HPP
#define KESTREL_IFACE_BLOBSTORE_HPP

#include <kestrel/plugin_core.hpp>

#include <cstring>
#include <memory>
#include <string>

namespace kestrel {

// One open upload of a provider. Owned by the provider; commit() or abort() ends it.
class BlobWriter {
 public:
  virtual ~BlobWriter() = default;
  virtual void append(const void* data, size_t length) = 0;
  // Returns the relative path of the committed blob.
  virtual std::string commit(const std::string& sha256, const std::string& extension) = 0;
  // ABI 1.2 group commit: durable only after the store's next blob_sync()
  // (plugin.h, commit_deferred). By default as durable as commit().
  virtual std::string commit_deferred(const std::string& sha256, const std::string& extension) {
    return commit(sha256, extension);
  }
  virtual void abort() noexcept = 0;
};

// Implement this to provide kestrel.blobstore.v1. Any thread may call.
class BlobStoreProvider {
 public:
  virtual ~BlobStoreProvider() = default;
  virtual std::unique_ptr<BlobWriter> blob_begin() = 0;
  virtual bool blob_exists(const std::string& path) = 0;
  virtual bool blob_remove(const std::string& path) = 0;  // false: it did not exist
  virtual std::string blob_root() = 0;
  // ABI 1.2: makes every commit_deferred so far durable. Nothing to do for a
  // store whose commit_deferred is commit.
  virtual void blob_sync() {}

  // The one declaration of this interface: its name and its C table. The
  // dispatch (Provides<>, Component::interface_table) and describe()'s
  // provides list are derived from these two.
  static constexpr const char* interface_name = KESTREL_IFACE_BLOBSTORE_V1;
  static const kestrel_blobstore_v1* table();
};

// Caller side of kestrel.blobstore.v1. An Upload aborts itself unless committed.
class BlobStoreClient {
 public:
  class Upload {
   public:
    Upload(const kestrel_blobstore_v1* vt, kestrel_blob_writer* w) : vt_(vt), w_(w) {}
    Upload(Upload&& o) noexcept : vt_(o.vt_), w_(o.w_) { o.w_ = nullptr; }
    Upload(const Upload&) = delete;
    Upload& operator=(const Upload&) = delete;
    Upload& operator=(Upload&&) = delete;
    ~Upload() { abort(); }
    void append(const void* data, size_t length) {
      kestrel_status st = make_status();
      check(vt_->append(w_, data, length, &st), st, "blob append");
    }
    std::string commit(const std::string& sha256, const std::string& extension) {
      return commit_with(vt_->commit, sha256, extension);
    }
    // Group commit (ABI 1.2): the file is durable after the store's next
    // sync(). A store older than 1.2 commits durably at once.
    std::string commit_deferred(const std::string& sha256, const std::string& extension) {
      const bool has = KESTREL_HAS(vt_, kestrel_blobstore_v1, commit_deferred) && vt_->commit_deferred;
      return commit_with(has ? vt_->commit_deferred : vt_->commit, sha256, extension);
    }
    void abort() noexcept {
      if (w_) vt_->abort(w_);
      w_ = nullptr;
    }

   private:
    using CommitFn = kestrel_result (*)(kestrel_blob_writer*, const char*, const char*, char*, size_t,
                                        kestrel_status*);
    std::string commit_with(CommitFn fn, const std::string& sha256, const std::string& extension) {
      char path[1024] = {0};
      kestrel_status st = make_status();
      kestrel_blob_writer* w = w_;
      w_ = nullptr;  // a commit frees the writer whatever the result
      check(fn(w, sha256.c_str(), extension.c_str(), path, sizeof path, &st), st, "blob commit");
      return path;
    }

    const kestrel_blobstore_v1* vt_;
    kestrel_blob_writer* w_;
  };

  BlobStoreClient() = default;
  explicit BlobStoreClient(const kestrel_interface& ref)
      : vt_(static_cast<const kestrel_blobstore_v1*>(ref.vtable)), inst_(ref.instance) {}
  explicit operator bool() const { return vt_ != nullptr; }

  Upload begin() const {
    kestrel_blob_writer* w = nullptr;
    kestrel_status st = make_status();
    check(vt_->begin(inst_, &w, &st), st, "blob begin");
    return Upload(vt_, w);
  }
  bool exists(const std::string& path) const {
    kestrel_status st = make_status();
    kestrel_result rc = vt_->exists(inst_, path.c_str(), &st);
    if (rc == KESTREL_ERR_NOT_FOUND) return false;
    check(rc, st, "blob exists");
    return true;
  }
  // Makes every commit_deferred so far durable (ABI 1.2); a no-op for an
  // older store, whose commits are all durable already. Throws kestrel::Error.
  void sync() const {
    if (!KESTREL_HAS(vt_, kestrel_blobstore_v1, sync) || !vt_->sync) return;
    kestrel_status st = make_status();
    check(vt_->sync(inst_, &st), st, "blob sync");
  }
  bool remove(const std::string& path) const {
    kestrel_status st = make_status();
    kestrel_result rc = vt_->remove(inst_, path.c_str(), &st);
    if (rc == KESTREL_ERR_NOT_FOUND) return false;
    check(rc, st, "blob remove");
    return true;
  }
  std::string root() const {
    char buf[4096] = {0};
    kestrel_status st = make_status();
    check(vt_->root(inst_, buf, sizeof buf, &st), st, "blob root");
    return buf;
  }

 private:
  const kestrel_blobstore_v1* vt_ = nullptr;
  void* inst_ = nullptr;
};

// C trampolines: the instance is always the Component*; detail::as casts it.

namespace detail {
// commit / commit_deferred of a provider's writer (which it frees whatever the result).
inline kestrel_result blob_commit(kestrel_blob_writer* w, bool deferred, const char* sha, const char* ext, char* path,
                                  size_t cap, kestrel_status* st) {
  std::unique_ptr<BlobWriter> owned(reinterpret_cast<BlobWriter*>(w));
  return guard(st, [&] {
    const std::string s = sha ? sha : "", e = ext ? ext : "";
    std::string p = deferred ? owned->commit_deferred(s, e) : owned->commit(s, e);
    if (p.size() + 1 > cap) throw Error(KESTREL_ERR_INVALID, "path buffer too small");
    std::memcpy(path, p.c_str(), p.size() + 1);
  });
}
}  // namespace detail

inline const kestrel_blobstore_v1* BlobStoreProvider::table() {
  // A writer handle is a heap-allocated BlobWriter owned by this plugin.
  static const kestrel_blobstore_v1 vt = {
      sizeof(kestrel_blobstore_v1),
      [](void* inst, kestrel_blob_writer** out, kestrel_status* st) {
        return detail::guard(st, [&] {
          *out = reinterpret_cast<kestrel_blob_writer*>(detail::as<BlobStoreProvider>(inst).blob_begin().release());
        });
      },
      [](kestrel_blob_writer* w, const void* data, size_t len, kestrel_status* st) {
        return detail::guard(st, [&] { reinterpret_cast<BlobWriter*>(w)->append(data, len); });
      },
      [](kestrel_blob_writer* w, const char* sha, const char* ext, char* path, size_t cap, kestrel_status* st) {
        return detail::blob_commit(w, false, sha, ext, path, cap, st);
      },
      [](kestrel_blob_writer* w) {
        std::unique_ptr<BlobWriter> owned(reinterpret_cast<BlobWriter*>(w));
        if (owned) owned->abort();
      },
      [](void* inst, const char* path, kestrel_status* st) {
        bool found = false;
        kestrel_result rc =
            detail::guard(st, [&] { found = detail::as<BlobStoreProvider>(inst).blob_exists(path ? path : ""); });
        if (rc == KESTREL_OK && !found) return set_status(st, KESTREL_ERR_NOT_FOUND, false, "no such blob");
        return rc;
      },
      [](void* inst, const char* path, kestrel_status* st) {
        bool found = false;
        kestrel_result rc =
            detail::guard(st, [&] { found = detail::as<BlobStoreProvider>(inst).blob_remove(path ? path : ""); });
        if (rc == KESTREL_OK && !found) return set_status(st, KESTREL_ERR_NOT_FOUND, false, "no such blob");
        return rc;
      },
      [](void* inst, char* root, size_t cap, kestrel_status* st) {
        return detail::guard(st, [&] {
          std::string r = detail::as<BlobStoreProvider>(inst).blob_root();
          if (r.size() + 1 > cap) throw Error(KESTREL_ERR_INVALID, "root buffer too small");
          std::memcpy(root, r.c_str(), r.size() + 1);
        });
      },
      [](kestrel_blob_writer* w, const char* sha, const char* ext, char* path, size_t cap, kestrel_status* st) {
        return detail::blob_commit(w, true, sha, ext, path, cap, st);
      },
      [](void* inst, kestrel_status* st) {
        return detail::guard(st, [&] { detail::as<BlobStoreProvider>(inst).blob_sync(); });
      },
  };
  return &vt;
}

// Lets Component::interface_table's default (components not derived from
// Provides<>) find this interface; see plugin_core.hpp.
namespace detail {
inline const InterfaceRegistration<BlobStoreProvider> blobstore_v1_registration;
}  // namespace detail

}  // namespace kestrel

#endif  // KESTREL_IFACE_BLOBSTORE_HPP
