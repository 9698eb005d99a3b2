// StateStore: the durable key-value store of ABI 1.3 (kv_* in
// kestrel_host_api), one namespace per component, kept in the host's own
// state database <data_dir>/host-state.db.
//
// Storage: raw SQLite in a file of its own (tables host_kv and
// host_kv_clock). Not in node.db beside the crawler's frontier: the frontier
// keeps a write transaction open until the catalog acknowledges its batch,
// which during a failover is up to failover_timeout, and SQLite has one
// writer per file, so the HA catalog's epoch claim there waited on it
// ("database is locked" after the 5 s busy timeout). WAL journal,
// synchronous=FULL on this store's connection: a write that returned is on
// stable storage. Each write runs in a BEGIN IMMEDIATE transaction, so a
// compare-and-set is atomic against other threads and against other
// processes that open the same file.
//
// Versions: host_kv_clock holds the node's last version; every write takes
// the next one, so versions grow across keys, components and restarts and
// are never reused (as etcd's revisions).
//
// The database opens on first use: a component that never uses the store
// costs nothing, and a data dir that cannot hold it fails the call
// (KESTREL_ERR_IO naming the file), not the host's start.
//
// Thread-safety: any thread; calls are serialized by one mutex (one
// connection). Errors are kestrel::Error: KESTREL_ERR_IO (SQLite failed,
// naming the file), KESTREL_ERR_INVALID (bad key or value size).
#ifndef KESTREL_HOST_RUNTIME_STATE_STORE_H_
#define KESTREL_HOST_RUNTIME_STATE_STORE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace kestrel::host {

class StateStore {
 public:
  static constexpr size_t kMaxKeyBytes = 1024;
  static constexpr size_t kMaxValueBytes = 16u << 20;

  struct Entry {
    std::string value;
    uint64_t version = 0;
  };

  // `path`: the database file (created on first use, its folder must exist).
  explicit StateStore(std::string path);
  ~StateStore();
  StateStore(const StateStore&) = delete;
  StateStore& operator=(const StateStore&) = delete;

  const std::string& path() const { return path_; }

  // The entry, or nullopt when absent.
  std::optional<Entry> get(const std::string& ns, const std::string& key);
  // Writes and returns the new version.
  uint64_t put(const std::string& ns, const std::string& key, const std::string& value);
  // Writes only when the current version is `expected` (0: absent). Returns
  // true with *version the new one, or false with *version the current one
  // (0: absent).
  bool compare_and_set(const std::string& ns, const std::string& key, uint64_t expected, const std::string& value,
                       uint64_t* version);
  // Deletes; false when it was absent.
  bool remove(const std::string& ns, const std::string& key);
  // Calls fn(key, entry) for every key of `ns` starting with `prefix`, in
  // bytewise key order, until fn returns false. The entries are read first,
  // so fn may call the store.
  void list(const std::string& ns, const std::string& prefix,
            const std::function<bool(const std::string&, const Entry&)>& fn);

 private:
  class Tx;
  void open_locked();
  // The prepared statement for `sql` (a string literal: cached by address).
  sqlite3_stmt* statement_locked(const char* sql);
  void exec_locked(const char* sql);
  [[noreturn]] void fail_locked(const std::string& what) const;
  uint64_t next_version_locked();
  void write_locked(const std::string& ns, const std::string& key, const std::string& value, uint64_t version);
  std::optional<Entry> get_locked(const std::string& ns, const std::string& key);
  void list_locked(const std::string& ns, const std::string& prefix,
                   std::vector<std::pair<std::string, Entry>>* rows);
  static void check_key(const std::string& key);

  const std::string path_;
  std::mutex mu_;
  sqlite3* db_ = nullptr;  // opened on first use, closed by the destructor
  std::map<const char*, sqlite3_stmt*> statements_;  // prepared once per connection
};

}  // namespace kestrel::host

#endif  // KESTREL_HOST_RUNTIME_STATE_STORE_H_
