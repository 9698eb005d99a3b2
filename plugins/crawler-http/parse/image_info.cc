#include "image_info.h"

// Each format's reference library reads its own header; they are the decoders every browser and image
// tool is fuzzed against, and none is asked for a single pixel. libpng and libjpeg report errors by
// longjmp: the functions that call setjmp below hold only trivially destructible locals, and the state
// they need afterwards lives in a struct reached through a pointer (C11 7.13.2.1).
#include <gif_lib.h>
#include <jpeglib.h>
#include <png.h>
#include <webp/decode.h>

#include <algorithm>
#include <csetjmp>
#include <cstdio>
#include <cstring>

namespace kestrel::crawler {

namespace {

bool starts_with(const unsigned char* p, size_t size, const char* magic, size_t magic_size) {
  return size >= magic_size && std::memcmp(p, magic, magic_size) == 0;
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

void set_error(std::string* error, std::string message) {
  if (error != nullptr) *error = std::move(message);
}

// What a header reader found: dimensions, or the library's reason for refusing the bytes.
struct HeaderRead {
  uint32_t width = 0;
  uint32_t height = 0;
  char reason[JMSG_LENGTH_MAX] = {};   // the library's refusal, NUL-terminated; empty when it gave none
  char warning[JMSG_LENGTH_MAX] = {};  // its first warning before that, if any

  void set_reason(const char* text) {
    if (reason[0] == '\0' && text != nullptr) std::snprintf(reason, sizeof reason, "%s", text);
  }
  void set_warning(const char* text) {
    if (warning[0] == '\0' && text != nullptr) std::snprintf(warning, sizeof warning, "%s", text);
  }
  // "reason", or "reason (after: warning)" when a warning explains it.
  std::string explanation() const {
    std::string text = reason;
    if (warning[0] != '\0') text += std::string(text.empty() ? "" : " ") + "(after: " + warning + ")";
    return text;
  }
};

// ---- PNG (libpng 1.6, png_read_info: the chunks up to the first IDAT) ----

struct PngSource {
  const unsigned char* data;
  size_t size;
  size_t offset = 0;
  bool ended = false;  // a read asked for bytes past the end
  HeaderRead* out;
};

void png_read_bytes(png_structp png, png_bytep into, size_t count) {
  auto* source = static_cast<PngSource*>(png_get_io_ptr(png));
  if (count > source->size - source->offset) {
    source->ended = true;
    png_error(png, "file ends inside the header");  // does not return
  }
  std::memcpy(into, source->data + source->offset, count);
  source->offset += count;
}

[[noreturn]] void png_on_error(png_structp png, png_const_charp message) {
  static_cast<PngSource*>(png_get_error_ptr(png))->out->set_reason(message);
  png_longjmp(png, 1);
}

// libpng explains some refusals only in a warning before the error ("Image width is zero in IHDR",
// then "Invalid IHDR data"), so the first warning goes with the error.
void png_on_warning(png_structp png, png_const_charp message) {
  static_cast<PngSource*>(png_get_error_ptr(png))->out->set_warning(message);
}

// True with out->width/height set when the header up to the first IDAT reads cleanly, or when the bytes
// end after a valid IHDR (a body cut after its header still has a size; completeness is checked apart).
bool read_png(const unsigned char* data, size_t size, HeaderRead* out) {
  PngSource source{data, size, 0, false, out};
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &source, png_on_error, png_on_warning);
  if (png == nullptr) {
    out->set_reason("out of memory");
    return false;
  }
  png_infop info = png_create_info_struct(png);
  if (info == nullptr) {
    png_destroy_read_struct(&png, nullptr, nullptr);
    out->set_reason("out of memory");
    return false;
  }
  bool ok = false;
  if (setjmp(png_jmpbuf(png)) == 0) {
    png_set_read_fn(png, &source, png_read_bytes);
    // Ancillary chunks (text, sPLT, iCCP...) are skipped unread (num_chunks -1: every chunk but IHDR,
    // PLTE, tRNS, IDAT and IEND). libpng allocates a chunk's declared length before reading it, so
    // otherwise 178 bytes declaring a 158 MB sPLT made it malloc 158 MB; skipping also saves inflating
    // zTXt and iCCP for nothing.
    png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, nullptr, -1);
    png_read_info(png, info);
    ok = true;
  } else if (source.ended && png_get_image_width(png, info) > 0 && png_get_image_height(png, info) > 0) {
    ok = true;  // IHDR was read and checked (png_handle_IHDR) before the bytes ran out
  }
  if (ok) {
    out->width = png_get_image_width(png, info);
    out->height = png_get_image_height(png, info);
  }
  png_destroy_read_struct(&png, &info, nullptr);
  return ok;
}

// ---- JPEG (libjpeg-turbo, jpeg_read_header: markers up to the first SOS) ----

struct JpegErrors {
  jpeg_error_mgr manager;  // first member: libjpeg hands back its address
  std::jmp_buf jump;
  HeaderRead* out;
};

[[noreturn]] void jpeg_on_error(j_common_ptr cinfo) {
  auto* errors = reinterpret_cast<JpegErrors*>(cinfo->err);
  char message[JMSG_LENGTH_MAX];
  (*cinfo->err->format_message)(cinfo, message);
  errors->out->set_reason(message);
  std::longjmp(errors->jump, 1);
}

// Warnings ("Corrupt JPEG data: N extraneous bytes", "Premature end of JPEG file") are not refusals,
// as in every viewer; they are dropped rather than printed on the daemon's stderr.
void jpeg_on_message(j_common_ptr, int) {}

bool read_jpeg(const unsigned char* data, size_t size, HeaderRead* out) {
  jpeg_decompress_struct cinfo;
  JpegErrors errors;
  errors.out = out;
  cinfo.err = jpeg_std_error(&errors.manager);
  errors.manager.error_exit = jpeg_on_error;
  errors.manager.emit_message = jpeg_on_message;
  if (setjmp(errors.jump) != 0) {
    jpeg_destroy_decompress(&cinfo);
    return false;
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, data, static_cast<unsigned long>(size));
  jpeg_read_header(&cinfo, TRUE);  // with TRUE, a stream with no image is an error, not a return code
  out->width = cinfo.image_width;
  out->height = cinfo.image_height;
  jpeg_destroy_decompress(&cinfo);
  return true;
}

// ---- GIF (giflib 5: the logical screen descriptor, then records up to the first image descriptor) ----

struct GifSource {
  const unsigned char* data;
  size_t size;
  size_t offset = 0;
  bool ended = false;
};

int gif_read_bytes(GifFileType* gif, GifByteType* into, int count) {
  auto* source = static_cast<GifSource*>(gif->UserData);
  const size_t wanted = count > 0 ? static_cast<size_t>(count) : 0;
  const size_t n = std::min(wanted, source->size - source->offset);
  if (n < wanted) source->ended = true;
  std::memcpy(into, source->data + source->offset, n);
  source->offset += n;
  return static_cast<int>(n);
}

// giflib returns error codes (no longjmp); `code` is a D_GIF_ERR_*.
bool gif_failed(HeaderRead* out, const GifSource& source, int code) {
  out->set_reason(source.ended ? "file ends inside the header" : GifErrorString(code));
  return false;
}

// Reads records up to the first image descriptor: true when one is read; false with the reason set
// when the file ends, is malformed, or reaches its trailer first. Extensions are skipped unread.
bool reach_first_image(GifFileType* gif, const GifSource& source, HeaderRead* out) {
  for (;;) {
    GifRecordType type = UNDEFINED_RECORD_TYPE;
    if (DGifGetRecordType(gif, &type) == GIF_ERROR) return gif_failed(out, source, gif->Error);
    if (type == IMAGE_DESC_RECORD_TYPE) {
      if (DGifGetImageDesc(gif) == GIF_ERROR) return gif_failed(out, source, gif->Error);
      return true;
    }
    if (type != EXTENSION_RECORD_TYPE) {  // TERMINATE_RECORD_TYPE: the trailer before any image
      out->set_reason("no image before the trailer");
      return false;
    }
    int function = 0;
    GifByteType* block = nullptr;
    if (DGifGetExtension(gif, &function, &block) == GIF_ERROR) return gif_failed(out, source, gif->Error);
    while (block != nullptr)
      if (DGifGetExtensionNext(gif, &block) == GIF_ERROR) return gif_failed(out, source, gif->Error);
  }
}

// The size is the logical screen's, as browsers use it; the file must also hold a first image
// descriptor (a GIF of extensions only shows nothing).
bool read_gif(const unsigned char* data, size_t size, HeaderRead* out) {
  GifSource source{data, size};
  int code = 0;
  GifFileType* gif = DGifOpen(&source, gif_read_bytes, &code);
  if (gif == nullptr) return gif_failed(out, source, code);
  const bool ok = reach_first_image(gif, source, out);
  if (ok) {
    out->width = static_cast<uint32_t>(std::max(0, gif->SWidth));
    out->height = static_cast<uint32_t>(std::max(0, gif->SHeight));
  }
  DGifCloseFile(gif, &code);
  return ok;
}

// ---- WebP (libwebp, WebPGetFeatures: RIFF, VP8X/VP8/VP8L headers; the canvas size when animated) ----

const char* webp_status_text(VP8StatusCode status) {
  switch (status) {
    case VP8_STATUS_OUT_OF_MEMORY: return "out of memory";
    case VP8_STATUS_INVALID_PARAM: return "invalid parameter";
    case VP8_STATUS_BITSTREAM_ERROR: return "bitstream error";
    case VP8_STATUS_UNSUPPORTED_FEATURE: return "unsupported feature";
    case VP8_STATUS_SUSPENDED: return "suspended";
    case VP8_STATUS_USER_ABORT: return "aborted";
    case VP8_STATUS_NOT_ENOUGH_DATA: return "file ends inside the header";
    case VP8_STATUS_OK: break;
  }
  return "";
}

bool read_webp(const unsigned char* data, size_t size, HeaderRead* out) {
  WebPBitstreamFeatures features;
  const VP8StatusCode status = WebPGetFeatures(data, size, &features);
  if (status != VP8_STATUS_OK) {
    out->set_reason(webp_status_text(status));
    return false;
  }
  out->width = static_cast<uint32_t>(std::max(0, features.width));
  out->height = static_cast<uint32_t>(std::max(0, features.height));
  return true;
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
  // Only the sniffed format's library runs, on the header only.
  const auto* bytes = static_cast<const unsigned char*>(data);
  HeaderRead read;
  bool ok = false;
  switch (format) {
    case ImageFormat::Png: ok = read_png(bytes, size, &read); break;
    case ImageFormat::Jpeg: ok = read_jpeg(bytes, size, &read); break;
    case ImageFormat::Gif: ok = read_gif(bytes, size, &read); break;
    case ImageFormat::Webp: ok = read_webp(bytes, size, &read); break;
    case ImageFormat::Unknown: break;
  }
  if (!ok) {
    const std::string why = read.explanation();
    set_error(error, "corrupt " + upper_name(format) + " header" + (why.empty() ? "" : ": " + why));
    return std::nullopt;
  }
  if (read.width == 0 || read.height == 0) {
    set_error(error, "corrupt " + upper_name(format) + " header: zero dimensions " + std::to_string(read.width) + "x" +
                         std::to_string(read.height));
    return std::nullopt;
  }
  ImageInfo info;
  info.format = format;
  info.width = read.width;
  info.height = read.height;
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
