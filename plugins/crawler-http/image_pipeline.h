// What happens to a fetched image body: sniffed (never trusting Content-Type
// or the file name), header read by its format's library (never decoding pixels), checked
// against the pixel cap, hashed (sha256 for content addressing, md5 for older
// catalogs), stored in the blob store unless the catalog already holds the same
// content, and turned into an images row.
//
// Used by the crawl thread only (one upload at a time). Blob uploads are RAII:
// an exception aborts the open upload, so no temporary file stays behind.
#ifndef KESTREL_CRAWLER_HTTP_IMAGE_PIPELINE_H_
#define KESTREL_CRAWLER_HTTP_IMAGE_PIPELINE_H_

#include "body.h"
#include "catalog_batch.h"
#include "scheduler.h"
#include "transfer.h"

#include <kestrel/plugin.hpp>

#include <cstdint>
#include <string>

namespace kestrel::crawler {

struct ImageOutcome {
  enum class Status {
    Stored,     // new or changed: `row` is to be written to the catalog
    Unchanged,  // the catalog already holds this URL with the same content and headers
    Rejected    // not usable: `kind` says why ("not_an_image", "bad_image", "too_many_pixels")
  };
  Status status = Status::Rejected;
  std::string kind;
  std::string detail;
  ImageRow row;
};

// What the catalog holds for an image URL (found false when nothing).
struct CatalogedImage {
  bool found = false;
  std::string sha256, file_path, etag, last_modified, source_url;
};

// Reads the catalog row of `url` (exact, normalized). Throws kestrel::Error
// when the catalog fails. Any thread (the catalog serializes).
CatalogedImage lookup_image(const CatalogClient& catalog, const std::string& url);

class ImagePipeline {
 public:
  // `catalog` and `files` must stay valid while the pipeline is used;
  // max_pixels caps width*height.
  ImagePipeline(CatalogClient catalog, BlobStoreClient files, uint64_t max_pixels)
      : catalog_(catalog), files_(files), max_pixels_(max_pixels) {}

  // Examines `body` (the whole response) fetched for `item`. `known` is the
  // catalog's row for item.url read before the request (nullptr: read it
  // now). Throws kestrel::Error when the catalog or the blob store fails (disk
  // full, I/O) or a spilled body cannot be read: the crawl cannot go on. Bad
  // images are a Rejected outcome, not a throw.
  ImageOutcome process(const Body& body, const WorkItem& item, const TransferResult& response,
                       const CatalogedImage* known, int64_t crawl_session_id, int64_t fetched_at_us);

 private:
  CatalogClient catalog_;
  BlobStoreClient files_;
  uint64_t max_pixels_;
};

}  // namespace kestrel::crawler

#endif  // KESTREL_CRAWLER_HTTP_IMAGE_PIPELINE_H_
