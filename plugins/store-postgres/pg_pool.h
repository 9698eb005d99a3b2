// PgPool: up to pool_size connections, opened on demand, closed after
// idle_timeout unused; a broken one is dropped when handed back.
#ifndef KESTREL_STORE_POSTGRES_PG_POOL_H
#define KESTREL_STORE_POSTGRES_PG_POOL_H

#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>

#include "pg_connection.h"
#include "pg_options.h"

namespace kestrel {
namespace store_postgres {

// Thread-safe: any thread may acquire. The pool must outlive its leases.
class PgPool {
 public:
  // A borrowed connection, handed back (rolled back if a transaction is
  // still open) by the destructor.
  class Lease {
   public:
    Lease(PgPool& pool, std::unique_ptr<PgConnection> conn) : pool_(pool), conn_(std::move(conn)) {}
    ~Lease() { pool_.give_back(std::move(conn_)); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    PgConnection& operator*() const { return *conn_; }
    PgConnection* operator->() const { return conn_.get(); }

   private:
    PgPool& pool_;
    std::unique_ptr<PgConnection> conn_;
  };

  explicit PgPool(const PgOptions& options) : options_(options) {}

  // An idle connection, or a new one while fewer than pool_size are open;
  // else waits up to connect_timeout for one to come back. Throws
  // kestrel::Error(UNAVAILABLE, retryable) when none comes in time or the
  // server cannot be reached (naming it).
  std::unique_ptr<Lease> acquire();

  // Open connections (idle + leased), for status.
  int open_count();

 private:
  void give_back(std::unique_ptr<PgConnection> conn) noexcept;

  const PgOptions options_;
  std::mutex mu_;
  std::condition_variable returned_;
  std::vector<std::unique_ptr<PgConnection>> idle_;  // GUARDED_BY(mu_); most recently used last
  int open_ = 0;                                     // GUARDED_BY(mu_)
};

}  // namespace store_postgres
}  // namespace kestrel

#endif  // KESTREL_STORE_POSTGRES_PG_POOL_H
