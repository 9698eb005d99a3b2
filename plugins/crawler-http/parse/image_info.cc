#include "image_info.h"

#include <vips/vips.h>

#include <cstring>
#include <memory>
#include <mutex>

namespace kestrel::crawler {

namespace {

bool starts_with(const unsigned char* p, size_t size, const char* magic, size_t magic_size) {
  return size >= magic_size && std::memcmp(p, magic, magic_size) == 0;
}

struct GObjectUnref {
  void operator()(VipsImage* image) const { g_object_unref(image); }
};
using VipsImagePtr = std::unique_ptr<VipsImage, GObjectUnref>;

// libvips' thread-shared error buffer, taken and cleared; may hold another thread's message too, so it
// is only ever used as detail after our own sentence.
std::string take_vips_error() {
  std::unique_ptr<char, void (*)(void*)> copy(vips_error_buffer_copy(), g_free);
  std::string text = copy ? copy.get() : "";
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  const size_t newline = text.find('\n');  // the first line is the one about our call
  return newline == std::string::npos ? text : text.substr(0, newline);
}

// Smallest byte count that can hold the header we need, per format (signature + the chunk/segment
// carrying the dimensions); below it the input is reported as truncated rather than corrupt.
size_t minimum_header_size(ImageFormat f) {
  switch (f) {
    case ImageFormat::Png: return 8 + 8 + 13 + 4;  // signature, IHDR length/type, IHDR data, CRC
    case ImageFormat::Gif: return 6 + 7;            // signature, logical screen descriptor
    case ImageFormat::Jpeg: return 2 + 2 + 2 + 6;   // SOI, SOFn marker, length, precision+height+width
    case ImageFormat::Webp: return 12 + 8 + 5;      // RIFF header, chunk header, VP8L signature + dimensions
    case ImageFormat::Unknown: break;
  }
  return 0;
}

std::string upper_name(ImageFormat f) {
  std::string name = format_name(f);
  for (char& c : name) c = static_cast<char>(c - 'a' + 'A');
  return name;
}

// The first libvips warning of the current read on this thread: loaders read headers synchronously in the
// calling thread, and some (libpng: "Image width is zero in IHDR") explain a failure only this way.
thread_local std::string t_first_warning;

void on_vips_warning(const gchar*, GLogLevelFlags, const gchar* message, gpointer) {
  if (t_first_warning.empty() && message != nullptr) t_first_warning = message;
}

void set_error(std::string* error, std::string message) {
  if (error != nullptr) *error = std::move(message);
}

}  // namespace

ImageFormat sniff_image_format(const void* data, size_t size) {
  if (data == nullptr) return ImageFormat::Unknown;
  const auto* p = static_cast<const unsigned char*>(data);
  if (starts_with(p, size, "\x89PNG\r\n\x1A\n", 8)) return ImageFormat::Png;
  if (starts_with(p, size, "\xFF\xD8\xFF", 3)) return ImageFormat::Jpeg;
  if (starts_with(p, size, "GIF87a", 6) || starts_with(p, size, "GIF89a", 6)) return ImageFormat::Gif;
  if (size >= 12 && std::memcmp(p, "RIFF", 4) == 0 && std::memcmp(p + 8, "WEBP", 4) == 0) return ImageFormat::Webp;
  return ImageFormat::Unknown;
}

const char* format_name(ImageFormat f) {
  switch (f) {
    case ImageFormat::Png: return "png";
    case ImageFormat::Jpeg: return "jpeg";
    case ImageFormat::Gif: return "gif";
    case ImageFormat::Webp: return "webp";
    case ImageFormat::Unknown: break;
  }
  return "";
}

const char* format_mime_type(ImageFormat f) {
  switch (f) {
    case ImageFormat::Png: return "image/png";
    case ImageFormat::Jpeg: return "image/jpeg";
    case ImageFormat::Gif: return "image/gif";
    case ImageFormat::Webp: return "image/webp";
    case ImageFormat::Unknown: break;
  }
  return "";
}

const char* format_extension(ImageFormat f) {
  switch (f) {
    case ImageFormat::Png: return "png";
    case ImageFormat::Jpeg: return "jpg";
    case ImageFormat::Gif: return "gif";
    case ImageFormat::Webp: return "webp";
    case ImageFormat::Unknown: break;
  }
  return "";
}

bool image_library_init(std::string* error) {
  static std::once_flag once;
  static std::string init_error;  // written once under call_once, read-only afterwards
  std::call_once(once, [] {
    if (VIPS_INIT("kestrel") != 0) {
      init_error = "libvips initialization failed: " + take_vips_error();
      return;
    }
    vips_block_untrusted_set(TRUE);  // only loaders fuzzed for untrusted input (png, jpeg, gif, webp are)
    vips_cache_set_max(0);           // loads borrow caller memory: a cached operation must never outlive it
    // Loader warnings ("Premature end of JPEG file") would go to the daemon's stderr once per bad image
    // from the web; read_image_info reports them to its caller instead.
    g_log_set_handler("VIPS", static_cast<GLogLevelFlags>(G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE),
                      on_vips_warning, nullptr);
  });
  if (!init_error.empty()) {
    set_error(error, init_error);
    return false;
  }
  return true;
}

std::optional<ImageInfo> read_image_info(const void* data, size_t size, std::string* error) {
  if (size == 0 || data == nullptr) {
    set_error(error, "not an image: empty body");
    return std::nullopt;
  }
  const ImageFormat format = sniff_image_format(data, size);
  if (format == ImageFormat::Unknown) {
    set_error(error, "not an image: no PNG, JPEG, GIF or WebP signature in the first bytes");
    return std::nullopt;
  }
  if (size < minimum_header_size(format)) {
    set_error(error, "truncated " + upper_name(format) + " header: " + std::to_string(size) + " bytes, at least " +
                         std::to_string(minimum_header_size(format)) + " needed");
    return std::nullopt;
  }
  if (!image_library_init(error)) return std::nullopt;

  // Only the sniffed format's loader runs: libvips' generic vips_image_new_from_buffer would try every
  // loader it has. Loaders read the header now and pixels only on demand, which never comes.
  void* buf = const_cast<void*>(data);  // the loaders take a non-const pointer but only read
  t_first_warning.clear();
  VipsImage* raw = nullptr;
  int rc = -1;
  switch (format) {
    case ImageFormat::Png: rc = vips_pngload_buffer(buf, size, &raw, nullptr); break;
    case ImageFormat::Jpeg: rc = vips_jpegload_buffer(buf, size, &raw, nullptr); break;
    case ImageFormat::Gif: rc = vips_gifload_buffer(buf, size, &raw, nullptr); break;
    case ImageFormat::Webp: rc = vips_webpload_buffer(buf, size, &raw, nullptr); break;
    case ImageFormat::Unknown: break;
  }
  VipsImagePtr image(raw);
  if (rc != 0 || !image) {
    std::string detail = take_vips_error();
    if (detail.empty()) detail = t_first_warning;
    set_error(error, "corrupt " + upper_name(format) + " header" + (detail.empty() ? "" : ": " + detail));
    return std::nullopt;
  }
  const int width = vips_image_get_width(image.get());
  const int height = vips_image_get_height(image.get());
  if (width <= 0 || height <= 0) {
    set_error(error, "corrupt " + upper_name(format) + " header: zero dimensions " + std::to_string(width) + "x" +
                         std::to_string(height));
    return std::nullopt;
  }
  ImageInfo info;
  info.format = format;
  info.width = static_cast<uint32_t>(width);
  info.height = static_cast<uint32_t>(height);
  return info;
}

bool image_looks_complete(ImageFormat format, const void* data, size_t size, std::string* why) {
  const auto* b = static_cast<const unsigned char*>(data);
  auto no = [why](const std::string& text) {
    if (why) *why = text;
    return false;
  };
  switch (format) {
    case ImageFormat::Png: {
      static const unsigned char kIend[12] = {0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xAE, 0x42, 0x60, 0x82};
      if (size < 12 || std::memcmp(b + size - 12, kIend, 12) != 0) return no("PNG cut short: no IEND chunk at the end");
      return true;
    }
    case ImageFormat::Jpeg: {
      const size_t from = size > 64 ? size - 64 : 0;
      for (size_t i = size; i-- > from + 1;)
        if (b[i - 1] == 0xFF && b[i] == 0xD9) return true;
      return no("JPEG cut short: no EOI marker at the end");
    }
    case ImageFormat::Gif:
      if (size == 0 || b[size - 1] != 0x3B) return no("GIF cut short: no trailer byte at the end");
      return true;
    case ImageFormat::Webp: {
      if (size < 12) return no("WebP cut short");
      const uint64_t riff = uint64_t{b[4]} | uint64_t{b[5]} << 8 | uint64_t{b[6]} << 16 | uint64_t{b[7]} << 24;
      if (riff + 8 > size) return no("WebP cut short: RIFF size " + std::to_string(riff + 8) + " bytes, file " +
                                     std::to_string(size) + " bytes");
      return true;
    }
    case ImageFormat::Unknown: return true;
  }
  return true;
}

}  // namespace kestrel::crawler
