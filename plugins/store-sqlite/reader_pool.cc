#include "reader_pool.h"

#include <Poco/Data/SQLite/Utility.h>

#include <chrono>
#include <kestrel/plugin.hpp>

namespace kestrel {
namespace store_sqlite {

StatementCache::~StatementCache() {
  for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
}

sqlite3_stmt* StatementCache::get(sqlite3* db, const std::string& sql) {
  auto it = statements_.find(sql);
  if (it != statements_.end()) {
    sqlite3_reset(it->second);
    sqlite3_clear_bindings(it->second);
    return it->second;
  }
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v3(db, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt);
    Poco::Data::SQLite::Utility::throwException(db, rc, "preparing " + sql);
  }
  statements_.emplace(sql, stmt);
  return stmt;
}

ReaderPool::ReaderPool(std::vector<std::unique_ptr<Poco::Data::Session>> sessions, int64_t wait_ms)
    : size_(sessions.size()), wait_ms_(wait_ms) {
  for (auto& s : sessions) idle_.push_back(Reader{std::move(s)});
}

ReaderPool::Lease::Lease(ReaderPool& pool, Reader reader) : pool_(pool), reader_(std::move(reader)) {}

ReaderPool::Lease::~Lease() { pool_.give_back(std::move(reader_)); }

ReaderPool::Lease ReaderPool::acquire() {
  std::unique_lock<std::mutex> lock(mu_);
  if (!returned_.wait_for(lock, std::chrono::milliseconds(wait_ms_), [this] { return !idle_.empty(); }))
    throw Error(KESTREL_ERR_UNAVAILABLE,
                "all " + std::to_string(size_) + " reader connections stayed busy for " + std::to_string(wait_ms_) +
                    " ms (raise the readers option)",
                true);
  Reader reader = std::move(idle_.back());
  idle_.pop_back();
  return Lease(*this, std::move(reader));
}

void ReaderPool::give_back(Reader reader) noexcept {
  {
    std::lock_guard<std::mutex> lock(mu_);
    idle_.push_back(std::move(reader));
  }
  returned_.notify_one();
}

}  // namespace store_sqlite
}  // namespace kestrel
