#include "snapshot.h"

#include <Poco/DigestEngine.h>
#include <Poco/SHA2Engine.h>

#include <kestrel/plugin.hpp>

#include <chrono>
#include <fstream>
#include <memory>
#include <thread>

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

namespace kestrel {
namespace replicator_changelog {
namespace {

struct DbCloser {
  void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
using Db = std::unique_ptr<sqlite3, DbCloser>;

Db open_db(const std::string& path, int flags) {
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  Db db(raw);
  if (rc != SQLITE_OK)
    throw Error(KESTREL_ERR_UNAVAILABLE, "snapshot: cannot open " + path + ": " +
                                             (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)), true);
  return db;
}

void fsync_path(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error(KESTREL_ERR_UNAVAILABLE, "snapshot: cannot open " + path + " to sync it", true);
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) throw Error(KESTREL_ERR_UNAVAILABLE, "snapshot: fsync of " + path + " failed", true);
}

}  // namespace

void take_snapshot(const std::string& source_path, const std::string& target_path, int64_t busy_timeout_ms) {
  ::unlink(target_path.c_str());
  Db src = open_db(source_path, SQLITE_OPEN_READONLY);
  sqlite3_busy_timeout(src.get(), static_cast<int>(busy_timeout_ms));
  Db dst = open_db(target_path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  sqlite3_backup* b = sqlite3_backup_init(dst.get(), "main", src.get(), "main");
  if (b == nullptr)
    throw Error(KESTREL_ERR_UNAVAILABLE, "snapshot of " + source_path + ": " + sqlite3_errmsg(dst.get()), true);
  // -1: every page in one step, so the copy is one read transaction of the
  // source (a writer there does not restart it, as it would between steps).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(busy_timeout_ms);
  int rc;
  while ((rc = sqlite3_backup_step(b, -1)) == SQLITE_BUSY || rc == SQLITE_LOCKED) {
    if (std::chrono::steady_clock::now() > deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const int finish = sqlite3_backup_finish(b);
  if (rc != SQLITE_DONE || finish != SQLITE_OK) {
    const std::string why = sqlite3_errmsg(dst.get());
    dst.reset();
    ::unlink(target_path.c_str());
    throw Error(KESTREL_ERR_UNAVAILABLE, "snapshot of " + source_path + " failed: " + why, true);
  }
  dst.reset();
  fsync_path(target_path);
}

std::string sha256_hex(const char* data, size_t size) {
  Poco::SHA2Engine engine(Poco::SHA2Engine::SHA_256);
  engine.update(data, static_cast<unsigned>(size));
  return Poco::DigestEngine::digestToHex(engine.digest());
}

std::string sha256_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(KESTREL_ERR_UNAVAILABLE, "cannot read " + path, true);
  Poco::SHA2Engine engine(Poco::SHA2Engine::SHA_256);
  std::string buf(1 << 20, '\0');
  while (in.read(&buf[0], static_cast<std::streamsize>(buf.size())) || in.gcount() > 0)
    engine.update(buf.data(), static_cast<unsigned>(in.gcount()));
  return Poco::DigestEngine::digestToHex(engine.digest());
}

std::string temp_path_beside(const std::string& near, const std::string& tag) { return near + ".snapshot-" + tag; }

}  // namespace replicator_changelog
}  // namespace kestrel
