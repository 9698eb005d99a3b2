// A fixed pool of reader sessions, so that reads run beside the writer (WAL)
// and beside each other.
#ifndef KESTREL_STORE_SQLITE_READER_POOL_H
#define KESTREL_STORE_SQLITE_READER_POOL_H

#include <Poco/Data/Session.h>

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

namespace kestrel {
namespace store_sqlite {

// Thread-safe. Each session is lent to one thread at a time.
class ReaderPool {
 public:
  // Takes ownership of `sessions`; a lease waits at most wait_ms milliseconds.
  ReaderPool(std::vector<std::unique_ptr<Poco::Data::Session>> sessions, int64_t wait_ms);
  ReaderPool(const ReaderPool&) = delete;
  ReaderPool& operator=(const ReaderPool&) = delete;
  // REQUIRES: every Lease has been returned.
  ~ReaderPool() = default;

  // A borrowed session, returned to the pool when the lease is destroyed.
  class Lease {
   public:
    Lease(ReaderPool& pool, std::unique_ptr<Poco::Data::Session> session);
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease();
    Poco::Data::Session& session() { return *session_; }

   private:
    ReaderPool& pool_;
    std::unique_ptr<Poco::Data::Session> session_;
  };

  // Borrows a session, waiting for one to be returned if all are lent.
  // Throws kestrel::Error(KESTREL_ERR_UNAVAILABLE, retryable) after wait_ms.
  // Any thread. A caller must not hold a lease while acquiring another
  // (a nested read from inside a read callback may time out).
  Lease acquire();

  size_t size() const { return size_; }

 private:
  void give_back(std::unique_ptr<Poco::Data::Session> session) noexcept;

  const size_t size_;
  const int64_t wait_ms_;
  std::mutex mu_;
  std::condition_variable returned_;
  std::vector<std::unique_ptr<Poco::Data::Session>> idle_;  // GUARDED_BY(mu_)
};

}  // namespace store_sqlite
}  // namespace kestrel

#endif  // KESTREL_STORE_SQLITE_READER_POOL_H
