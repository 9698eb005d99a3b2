// A fixed pool of reader sessions, so that reads run beside the writer (WAL)
// and beside each other.
#ifndef KESTREL_STORE_SQLITE_READER_POOL_H
#define KESTREL_STORE_SQLITE_READER_POOL_H

#include <Poco/Data/Session.h>
#include <sqlite3.h>

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <mutex>
#include <vector>

namespace kestrel {
namespace store_sqlite {

// Statements prepared once on one reader connection, by SQL text: reads run
// a handful of query shapes, and preparing (parsing, planning) costs more
// than running one on an index. Used by the lease holder only.
class StatementCache {
 public:
  StatementCache() = default;
  StatementCache(const StatementCache&) = delete;
  StatementCache& operator=(const StatementCache&) = delete;
  ~StatementCache();  // finalizes every statement (before the connection closes)

  // The statement for `sql` on connection `db`, prepared on first use, reset
  // and with no bindings. Throws Poco::Data::SQLite exceptions (translate
  // them with rethrow_translated).
  sqlite3_stmt* get(sqlite3* db, const std::string& sql);

 private:
  std::map<std::string, sqlite3_stmt*> statements_;
};

// Thread-safe. Each session is lent to one thread at a time.
class ReaderPool {
 public:
  // Takes ownership of `sessions`; a lease waits at most wait_ms milliseconds.
  ReaderPool(std::vector<std::unique_ptr<Poco::Data::Session>> sessions, int64_t wait_ms);
  ReaderPool(const ReaderPool&) = delete;
  ReaderPool& operator=(const ReaderPool&) = delete;
  // REQUIRES: every Lease has been returned.
  ~ReaderPool() = default;

  // One reader connection and its prepared statements (destroyed first).
  struct Reader {
    std::unique_ptr<Poco::Data::Session> session;
    std::unique_ptr<StatementCache> statements = std::make_unique<StatementCache>();
  };

  // A borrowed session, returned to the pool when the lease is destroyed.
  class Lease {
   public:
    Lease(ReaderPool& pool, Reader reader);
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease();
    Poco::Data::Session& session() { return *reader_.session; }
    StatementCache& statements() { return *reader_.statements; }

   private:
    ReaderPool& pool_;
    Reader reader_;
  };

  // Borrows a session, waiting for one to be returned if all are lent.
  // Throws kestrel::Error(KESTREL_ERR_UNAVAILABLE, retryable) after wait_ms.
  // Any thread. A caller must not hold a lease while acquiring another
  // (a nested read from inside a read callback may time out).
  Lease acquire();

  size_t size() const { return size_; }

 private:
  void give_back(Reader reader) noexcept;

  const size_t size_;
  const int64_t wait_ms_;
  std::mutex mu_;
  std::condition_variable returned_;
  std::vector<Reader> idle_;  // GUARDED_BY(mu_)
};

}  // namespace store_sqlite
}  // namespace kestrel

#endif  // KESTREL_STORE_SQLITE_READER_POOL_H
