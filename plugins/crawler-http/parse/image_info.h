// Image format sniffing (WHATWG MIME Sniffing, image type pattern matching) and header reading with libvips.
//
// read_image_info never decodes pixels: libvips loaders read only the header until pixels are requested,
// and we never request them. Untrusted loaders are blocked process-wide by image_library_init.
#ifndef KESTREL_CRAWLER_PARSE_IMAGE_INFO_H_
#define KESTREL_CRAWLER_PARSE_IMAGE_INFO_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kestrel::crawler {

enum class ImageFormat { Unknown, Png, Jpeg, Gif, Webp };

// Sniffs the format from the first bytes (magic numbers; WHATWG MIME sniffing image patterns). Needs >= 12 bytes for WebP.
// `data` is borrowed for the call and may be null when size is 0. Any thread may call.
ImageFormat sniff_image_format(const void* data, size_t size);

const char* format_name(ImageFormat f);      // "png", "jpeg", "gif", "webp", "" for Unknown
const char* format_mime_type(ImageFormat f); // "image/png", "image/jpeg", "image/gif", "image/webp", "" for Unknown
const char* format_extension(ImageFormat f); // "png", "jpg", "gif", "webp", "" for Unknown

struct ImageInfo {
  ImageFormat format = ImageFormat::Unknown;
  uint32_t width = 0;   // pixels
  uint32_t height = 0;  // pixels (of the first frame/page for animated GIF and WebP)
};

// Initializes libvips once per process (thread-safe, idempotent): VIPS_INIT, vips_block_untrusted_set(TRUE),
// cache off, and libvips' own warnings (GLib log domain "VIPS") silenced, since failures are returned to
// callers instead. Returns false with *error on failure; the failure is remembered and returned again.
bool image_library_init(std::string* error = nullptr);

// Reads format, width and height from the header of an in-memory image (bytes borrowed for the call) with
// libvips, using ONLY the loader of the sniffed format (vips_pngload_buffer, vips_jpegload_buffer,
// vips_gifload_buffer, vips_webpload_buffer) and never decoding pixels. Returns nullopt and sets *error
// ("not an image", "truncated PNG header", ...) for unknown formats, corrupt headers, zero dimensions.
// Calls image_library_init itself if needed. Any thread may call.
std::optional<ImageInfo> read_image_info(const void* data, size_t size, std::string* error = nullptr);

// Whether a file of `format` ends the way a whole file does, without decoding it: PNG ends with its IEND
// chunk (PNG §5.6), JPEG has an EOI marker FF D9 in its last 64 bytes (trailing bytes are common), GIF ends
// with the trailer 0x3B (GIF89a §27), WebP's RIFF size covers the file (RIFF header + size <= file size).
// False (and `why` says what is missing) for a file cut short; true for Unknown. Any thread.
bool image_looks_complete(ImageFormat format, const void* data, size_t size, std::string* why = nullptr);

}  // namespace kestrel::crawler

#endif  // KESTREL_CRAWLER_PARSE_IMAGE_INFO_H_
