// Reading failover_events (migration 2), the HA catalog's history of
// failovers and switchovers: newest first, rows stepped one at a time.
#ifndef KESTREL_STORE_SQLITE_FAILOVER_QUERY_H
#define KESTREL_STORE_SQLITE_FAILOVER_QUERY_H

#include <kestrel/plugin.h>

#include <cstdint>
#include <functional>

#include "reader_pool.h"

namespace kestrel {
namespace store_sqlite {

// Calls `fn(id, record)` once per failover_events row, newest first (by
// started_at, then id), at most `limit` rows (0: all), until `fn` returns
// false. The record and its strings are borrowed for the call only; SQL NULL
// strings are NULL pointers. Throws kestrel::Error (sqlite_errors.h);
// exceptions from `fn` pass through. Uses the lease's connection and its
// statement cache for the whole call.
void stream_failover_events(ReaderPool::Lease& lease, uint32_t limit,
                            const std::function<bool(int64_t, const kestrel_failover_record&)>& fn);

}  // namespace store_sqlite
}  // namespace kestrel

#endif  // KESTREL_STORE_SQLITE_FAILOVER_QUERY_H
