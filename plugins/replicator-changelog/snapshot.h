// Snapshots of a primary's catalog file for rebuilding a standby another
// kestreld holds (issue 10): taken with SQLite's online backup API (the
// primary stays writable; the copy is one consistent read), shipped in
// chunks that each carry a SHA-256, checked whole before it is applied.
//
// Errors: Error(KESTREL_ERR_UNAVAILABLE) naming the file and SQLite's or the
// OS's reason. Any thread.
#ifndef KESTREL_REPLICATOR_CHANGELOG_SNAPSHOT_H
#define KESTREL_REPLICATOR_CHANGELOG_SNAPSHOT_H

#include <cstdint>
#include <string>

namespace kestrel {
namespace replicator_changelog {

// Copies the SQLite database at `source_path` into a new file at
// `target_path` (replaced if present) with sqlite3_backup_*, retrying while
// the source is busy for up to `busy_timeout_ms`, and fsyncs it.
void take_snapshot(const std::string& source_path, const std::string& target_path, int64_t busy_timeout_ms);

// Lower-case hex SHA-256 of `size` bytes, and of a whole file.
std::string sha256_hex(const char* data, size_t size);
std::string sha256_file(const std::string& path);

// A unique path beside `near` ("<near>.snapshot-<tag>"), for a temporary file
// on the same file system.
std::string temp_path_beside(const std::string& near, const std::string& tag);

}  // namespace replicator_changelog
}  // namespace kestrel

#endif  // KESTREL_REPLICATOR_CHANGELOG_SNAPSHOT_H
