// Image format sniffing (WHATWG MIME Sniffing, image type pattern matching) and header reading with each
// format's reference library: libpng, libjpeg-turbo, giflib, libwebp.
//
// read_image_info never decodes pixels: each library is asked for the header only. No global state.
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
  uint32_t height = 0;  // pixels (the logical screen of a GIF, the canvas of an animated WebP)
};

// Reads format, width and height from the header of an in-memory image (bytes borrowed for the call) with
// ONLY the sniffed format's library, never decoding pixels:
//   PNG   libpng png_read_info: signature, IHDR and the chunks before the first IDAT, CRCs checked; bytes
//         that end after a valid IHDR still give its size (completeness is image_looks_complete's job);
//   JPEG  libjpeg-turbo jpeg_read_header: markers up to the first SOS; warnings are not refusals;
//   GIF   giflib DGifOpen: the logical screen size (what browsers show), and a first image descriptor
//         must follow; a GIF with no image is refused;
//   WebP  libwebp WebPGetFeatures: VP8/VP8L/VP8X headers; the canvas size of an animation.
// Returns nullopt and sets *error for unknown formats ("not an image: ..."), headers cut short
// ("truncated PNG header: ..."), headers the library refuses ("corrupt PNG header: <library's reason>")
// and zero dimensions. Any thread may call; reads nothing outside [data, data + size).
std::optional<ImageInfo> read_image_info(const void* data, size_t size, std::string* error = nullptr);

// Whether a file of `format` ends the way a whole file does, without decoding it: PNG ends with its IEND
// chunk (PNG §5.6), JPEG has an EOI marker FF D9 in its last 64 bytes (trailing bytes are common), GIF ends
// with the trailer 0x3B (GIF89a §27), WebP's RIFF size covers the file (RIFF header + size <= file size).
// False (and `why` says what is missing) for a file cut short; true for Unknown. Any thread.
bool image_looks_complete(ImageFormat format, const void* data, size_t size, std::string* why = nullptr);

}  // namespace kestrel::crawler

#endif  // KESTREL_CRAWLER_PARSE_IMAGE_INFO_H_
