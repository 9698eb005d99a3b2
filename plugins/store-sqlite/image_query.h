// Reading images: a kestrel_image_query turned into one SQL statement whose
// rows are stepped one at a time (nothing is materialized).
#ifndef KESTREL_STORE_SQLITE_IMAGE_QUERY_H
#define KESTREL_STORE_SQLITE_IMAGE_QUERY_H

#include <Poco/Data/Session.h>
#include <kestrel/plugin.h>

#include <cstdint>
#include <functional>

#include "reader_pool.h"

namespace kestrel {
namespace store_sqlite {

// Calls `fn` once per images row matching `query`, in id order, until `fn`
// returns false or the rows end. The row and its strings are borrowed for the
// call only; record->fetched_at_us carries updated_at. Throws kestrel::Error
// (sqlite_errors.h); exceptions from `fn` pass through. Uses the lease's
// connection and its statement cache for the whole call.
void stream_images(ReaderPool::Lease& lease, const kestrel_image_query& query,
                   const std::function<bool(const kestrel_image_row&)>& fn);

// The number of images rows matching `query` (after_id and limit ignored).
// Same requirements and errors as stream_images.
uint64_t count_images(ReaderPool::Lease& lease, const kestrel_image_query& query);

}  // namespace store_sqlite
}  // namespace kestrel

#endif  // KESTREL_STORE_SQLITE_IMAGE_QUERY_H
