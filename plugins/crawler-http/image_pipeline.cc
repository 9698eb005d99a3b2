#include "image_pipeline.h"

#include "parse/image_info.h"
#include "parse/url.h"

#include <Poco/Crypto/DigestEngine.h>

namespace kestrel::crawler {
namespace {

// OpenSSL's EVP digests (through Poco::Crypto): several times faster than
// Poco's portable SHA2Engine/MD5Engine on the same bytes.
std::string hex_digest(const char* algorithm, std::string_view data) {
  Poco::Crypto::DigestEngine engine(algorithm);
  engine.update(data.data(), data.size());
  return Poco::DigestEngine::digestToHex(engine.digest());
}

std::string str(const char* s) { return s ? s : ""; }

}  // namespace

CatalogedImage lookup_image(const CatalogClient& catalog, const std::string& url) {
  kestrel_image_query q{};
  q.struct_size = sizeof q;
  q.url = url.c_str();
  q.limit = 1;
  CatalogedImage out;
  catalog.read_images(0, q, [&](const kestrel_image_row& row) {
    if (row.record) {
      out.found = true;
      out.sha256 = str(row.record->sha256);
      out.file_path = str(row.record->file_path);
      out.etag = str(row.record->etag);
      out.last_modified = str(row.record->last_modified);
      out.source_url = str(row.record->source_url);
    }
    return false;
  });
  return out;
}

ImageOutcome ImagePipeline::process(const Body& whole, const WorkItem& item, const TransferResult& response,
                                    const CatalogedImage* known_before, int64_t crawl_session_id,
                                    int64_t fetched_at_us) {
  ImageOutcome out;
  const Body::View view = whole.view();
  const std::string_view body = view.bytes();
  const ImageFormat sniffed = sniff_image_format(body.data(), body.size());
  if (sniffed == ImageFormat::Unknown) {
    out.kind = "not_an_image";
    out.detail = "no PNG, JPEG, GIF or WebP signature (Content-Type '" + response.content_type + "', " +
                 std::to_string(body.size()) + " bytes)";
    return out;
  }
  std::string error;
  const auto info = read_image_info(body.data(), body.size(), &error);
  if (!info) {
    out.kind = "bad_image";
    out.detail = std::string(format_name(sniffed)) + ": " + error;
    return out;
  }
  const uint64_t pixels = uint64_t{info->width} * info->height;
  if (pixels > max_pixels_) {
    out.kind = "too_many_pixels";
    out.detail = std::to_string(info->width) + "x" + std::to_string(info->height) + " exceeds max_pixels " +
                 std::to_string(max_pixels_);
    return out;
  }
  // A whole response can still hold a file cut short at its source.
  if (!image_looks_complete(info->format, body.data(), body.size(), &error)) {
    out.kind = "truncated";
    out.detail = error;
    return out;
  }

  ImageRow& r = out.row;
  r.frontier_id = item.id;
  r.url = item.url;
  r.source_url = item.source_url;
  r.filename = filename_of(item.url);
  r.file_size = body.size();
  r.width = info->width;
  r.height = info->height;
  r.format = format_name(info->format);
  r.mime_type = format_mime_type(info->format);
  r.sha256 = hex_digest("SHA256", body);
  r.md5 = hex_digest("MD5", body);
  r.etag = response.etag;
  r.last_modified = response.last_modified;
  r.crawl_session_id = crawl_session_id;
  r.fetched_at_us = fetched_at_us;

  // Same content already catalogued under this URL with its file present:
  // nothing to store. If only the headers changed, re-write the row but not the file.
  const CatalogedImage known = known_before ? *known_before : lookup_image(catalog_, item.url);
  if (known.found && known.sha256 == r.sha256 && !known.file_path.empty() && files_.exists(known.file_path)) {
    if (known.etag == r.etag && known.last_modified == r.last_modified) {
      out.status = ImageOutcome::Status::Unchanged;
      return out;
    }
    r.file_path = known.file_path;
    if (!known.source_url.empty()) r.source_url = known.source_url;  // "the first page referencing it"
    out.status = ImageOutcome::Status::Stored;
    return out;
  }
  if (known.found && !known.source_url.empty()) r.source_url = known.source_url;

  BlobStoreClient::Upload upload = files_.begin();  // aborted by its destructor unless committed
  upload.append(body.data(), body.size());
  // Group commit: durable at the blob store's next sync, which the crawl
  // thread calls before the catalog batch holding this row is written.
  r.file_path = upload.commit_deferred(r.sha256, format_extension(info->format));
  out.status = ImageOutcome::Status::Stored;
  return out;
}

}  // namespace kestrel::crawler
