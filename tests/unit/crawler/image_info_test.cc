// Format sniffing and header reading (image_info.h) on real PNG and JPEG files of the GIMP manual and on
// GIF/WebP files made from them with PIL (tests/fixtures/crawler/images/make_images.py, which printed the
// sizes asserted here); corrupt, truncated, empty and HTML inputs must be refused with a reason.
#include <cppunit/extensions/HelperMacros.h>

#include <string>
#include <thread>
#include <vector>

#include "fixture_files.h"
#include "image_info.h"

namespace kestrel::crawler {

namespace {

using test::fixture_path;
using test::manual_path;
using test::read_file;

struct Expected {
  std::string path;
  ImageFormat format;
  uint32_t width;
  uint32_t height;
};

// Sizes as PIL reported them (make_images.py output).
std::vector<Expected> real_images() {
  return {
      {manual_path("images/toolbox/crop-grow-1.png"), ImageFormat::Png, 146, 145},
      {manual_path("images/toolbox/toolbox-crop.png"), ImageFormat::Png, 199, 213},
      {manual_path("images/gimp-org.png"), ImageFormat::Png, 119, 27},
      {manual_path("images/tool-options/measure-ex1.jpg"), ImageFormat::Jpeg, 200, 100},
      {manual_path("images/menus/view/show_all-ex-no.jpg"), ImageFormat::Jpeg, 300, 300},
      {fixture_path("images/crop-grow-1.gif"), ImageFormat::Gif, 146, 145},
      {fixture_path("images/crop-grow-1-animated.gif"), ImageFormat::Gif, 146, 145},
      {fixture_path("images/measure-ex1.webp"), ImageFormat::Webp, 200, 100},
      {fixture_path("images/crop-grow-1-lossless.webp"), ImageFormat::Webp, 146, 145},
  };
}

std::string reject(const std::string& bytes) {
  std::string error;
  const auto info = read_image_info(bytes.data(), bytes.size(), &error);
  CPPUNIT_ASSERT_MESSAGE("accepted " + std::to_string(bytes.size()) + " bytes", !info.has_value());
  CPPUNIT_ASSERT(!error.empty());
  return error;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

class ImageInfoTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(ImageInfoTest);
  CPPUNIT_TEST(sniffsMagicNumbers);
  CPPUNIT_TEST(formatNames);
  CPPUNIT_TEST(readsRealHeaders);
  CPPUNIT_TEST(readsHeaderOfImageWithTruncatedPixels);
  CPPUNIT_TEST(rejectsEmpty);
  CPPUNIT_TEST(rejectsHtmlServedAsImage);
  CPPUNIT_TEST(rejectsTruncatedHeaders);
  CPPUNIT_TEST(rejectsCorruptHeaders);
  CPPUNIT_TEST(rejectsZeroDimensions);
  CPPUNIT_TEST(rejectsGifWithoutImage);
  CPPUNIT_TEST(acceptsJpegWithWarnings);
  CPPUNIT_TEST(worksFromSeveralThreads);
  CPPUNIT_TEST_SUITE_END();

 public:
  void sniffsMagicNumbers() {
    CPPUNIT_ASSERT(ImageFormat::Png == sniff_image_format("\x89PNG\r\n\x1A\n", 8));
    CPPUNIT_ASSERT(ImageFormat::Unknown == sniff_image_format("\x89PNG\r\n\x1A", 7));
    CPPUNIT_ASSERT(ImageFormat::Jpeg == sniff_image_format("\xFF\xD8\xFF\xE0", 4));
    CPPUNIT_ASSERT(ImageFormat::Gif == sniff_image_format("GIF87a", 6));
    CPPUNIT_ASSERT(ImageFormat::Gif == sniff_image_format("GIF89a", 6));
    CPPUNIT_ASSERT(ImageFormat::Unknown == sniff_image_format("GIF90a", 6));
    CPPUNIT_ASSERT(ImageFormat::Webp == sniff_image_format("RIFF\x10\0\0\0WEBPVP8 ", 16));
    CPPUNIT_ASSERT(ImageFormat::Unknown == sniff_image_format("RIFF\x10\0\0\0WAVEfmt ", 16));  // a WAV file
    CPPUNIT_ASSERT(ImageFormat::Unknown == sniff_image_format("RIFF\x10\0\0\0WEB", 11));
    CPPUNIT_ASSERT(ImageFormat::Unknown == sniff_image_format("<!DOCTYPE html>", 15));
    CPPUNIT_ASSERT(ImageFormat::Unknown == sniff_image_format(nullptr, 0));
    for (const auto& e : real_images()) {
      const std::string bytes = read_file(e.path);
      CPPUNIT_ASSERT_MESSAGE(e.path, e.format == sniff_image_format(bytes.data(), bytes.size()));
    }
  }

  void formatNames() {
    CPPUNIT_ASSERT_EQUAL(std::string("jpeg"), std::string(format_name(ImageFormat::Jpeg)));
    CPPUNIT_ASSERT_EQUAL(std::string("jpg"), std::string(format_extension(ImageFormat::Jpeg)));
    CPPUNIT_ASSERT_EQUAL(std::string("image/webp"), std::string(format_mime_type(ImageFormat::Webp)));
    CPPUNIT_ASSERT_EQUAL(std::string("gif"), std::string(format_extension(ImageFormat::Gif)));
    CPPUNIT_ASSERT_EQUAL(std::string("image/png"), std::string(format_mime_type(ImageFormat::Png)));
    CPPUNIT_ASSERT_EQUAL(std::string(""), std::string(format_name(ImageFormat::Unknown)));
    CPPUNIT_ASSERT_EQUAL(std::string(""), std::string(format_mime_type(ImageFormat::Unknown)));
  }

  void readsRealHeaders() {
    for (const auto& e : real_images()) {
      const std::string bytes = read_file(e.path);
      std::string error;
      const auto info = read_image_info(bytes.data(), bytes.size(), &error);
      CPPUNIT_ASSERT_MESSAGE(e.path + ": " + error, info.has_value());
      CPPUNIT_ASSERT_MESSAGE(e.path, e.format == info->format);
      CPPUNIT_ASSERT_EQUAL_MESSAGE(e.path, e.width, info->width);
      CPPUNIT_ASSERT_EQUAL_MESSAGE(e.path, e.height, info->height);
    }
  }

  // Only the header is read: a body cut after its header still reports the size (pixels are the
  // blob store's business, not ours).
  void readsHeaderOfImageWithTruncatedPixels() {
    const std::string png = read_file(manual_path("images/toolbox/toolbox-crop.png"));
    const std::string head = png.substr(0, 200);
    std::string error;
    const auto info = read_image_info(head.data(), head.size(), &error);
    CPPUNIT_ASSERT_MESSAGE(error, info.has_value());
    CPPUNIT_ASSERT_EQUAL(uint32_t(199), info->width);
    CPPUNIT_ASSERT_EQUAL(uint32_t(213), info->height);
  }

  void rejectsEmpty() {
    std::string error;
    CPPUNIT_ASSERT(!read_image_info(nullptr, 0, &error).has_value());
    CPPUNIT_ASSERT(contains(error, "empty"));
    CPPUNIT_ASSERT(contains(reject(""), "empty"));
  }

  void rejectsHtmlServedAsImage() {
    const std::string html = read_file(manual_path("gimp-tool-crop.html"));
    CPPUNIT_ASSERT(contains(reject(html), "not an image"));
  }

  void rejectsTruncatedHeaders() {
    const char* files[] = {"images/toolbox/crop-grow-1.png", "images/tool-options/measure-ex1.jpg"};
    for (const char* file : files) {
      const std::string bytes = read_file(manual_path(file));
      CPPUNIT_ASSERT(contains(reject(bytes.substr(0, 2)), "not an image"));  // not even a whole signature
      for (size_t n : {size_t(10), size_t(20)}) {
        const std::string error = reject(bytes.substr(0, n));
        CPPUNIT_ASSERT_MESSAGE(error, contains(error, "truncated") || contains(error, "corrupt"));
      }
    }
    const std::string png = read_file(manual_path("images/toolbox/crop-grow-1.png"));
    CPPUNIT_ASSERT_EQUAL(std::string("truncated PNG header: 20 bytes, at least 33 needed"), reject(png.substr(0, 20)));
    const std::string gif = read_file(fixture_path("images/crop-grow-1.gif"));
    CPPUNIT_ASSERT(contains(reject(gif.substr(0, 8)), "truncated GIF header"));
    const std::string webp = read_file(fixture_path("images/measure-ex1.webp"));
    CPPUNIT_ASSERT(contains(reject(webp.substr(0, 16)), "truncated WEBP header"));
    // A JPEG cut before its SOF segment: long enough to pass the size floor, but no dimensions.
    const std::string jpeg = read_file(manual_path("images/tool-options/measure-ex1.jpg"));
    CPPUNIT_ASSERT(contains(reject(jpeg.substr(0, 40)), "JPEG"));
  }

  void rejectsCorruptHeaders() {
    // PNG whose IHDR chunk type is overwritten: the signature still says PNG.
    std::string png = read_file(manual_path("images/toolbox/crop-grow-1.png"));
    png.replace(12, 4, "XXXX");
    CPPUNIT_ASSERT(contains(reject(png), "corrupt PNG header"));
    // Signature followed by garbage.
    CPPUNIT_ASSERT(contains(reject(std::string("\xFF\xD8\xFF") + std::string(200, '\x55')), "JPEG"));
    const char riff[] = "RIFF\x40\0\0\0WEBPVP8 ";
    CPPUNIT_ASSERT(contains(reject(std::string(riff, sizeof riff - 1) + std::string(60, '\x11')), "corrupt WEBP"));
    CPPUNIT_ASSERT(contains(reject(std::string("GIF89a") + std::string(40, '\xFF')), "GIF"));
  }

  // Well-formed apart from its 0 width (make_images.py writes it with valid CRCs).
  void rejectsZeroDimensions() {
    const std::string error = reject(read_file(fixture_path("images/zero-width.png")));
    CPPUNIT_ASSERT_MESSAGE(error, contains(error, "corrupt PNG header"));
    CPPUNIT_ASSERT_MESSAGE(error, contains(error, "width is zero"));
    // libpng's own error stays; its warning only explains it.
    CPPUNIT_ASSERT_EQUAL(std::string("corrupt PNG header: Invalid IHDR data (after: Image width is zero in IHDR)"), error);
  }

  // A GIF whose screen is 0x0 but otherwise well-formed, and one that ends (trailer) before any image.
  void rejectsGifWithoutImage() {
    std::string gif = read_file(fixture_path("images/crop-grow-1.gif"));
    std::string zero = gif;
    zero.replace(6, 4, std::string(4, '\0'));  // logical screen width and height
    CPPUNIT_ASSERT(contains(reject(zero), "zero dimensions 0x0"));
    // Signature, screen descriptor without a global colour table, then the trailer.
    const std::string empty = std::string("GIF89a\x10\0\x10\0\0\0\0", 13) + ";";
    CPPUNIT_ASSERT_EQUAL(std::string("corrupt GIF header: no image before the trailer"), reject(empty));
    // The same file cut inside its first image descriptor.
    const std::string cut = std::string("GIF89a\x10\0\x10\0\0\0\0,\0\0", 16);
    CPPUNIT_ASSERT_EQUAL(std::string("corrupt GIF header: file ends inside the header"), reject(cut));
  }

  // Bytes between JPEG segments make libjpeg warn ("extraneous bytes before marker"); a warning is no
  // refusal, as in every viewer.
  void acceptsJpegWithWarnings() {
    std::string jpeg = read_file(manual_path("images/tool-options/measure-ex1.jpg"));
    // After SOI and the APP0 segment (length at bytes 4-5), insert garbage before the next marker.
    const size_t app0_end = 4 + (size_t(uint8_t(jpeg[4])) << 8 | uint8_t(jpeg[5]));
    jpeg.insert(app0_end, "\x01\x02\x03");
    std::string error;
    const auto info = read_image_info(jpeg.data(), jpeg.size(), &error);
    CPPUNIT_ASSERT_MESSAGE(error, info.has_value());
    CPPUNIT_ASSERT_EQUAL(uint32_t(200), info->width);
    CPPUNIT_ASSERT_EQUAL(uint32_t(100), info->height);
  }

  void worksFromSeveralThreads() {
    const auto images = real_images();
    std::vector<std::string> bytes;
    for (const auto& e : images) bytes.push_back(read_file(e.path));
    std::vector<int> failures(4, 0);
    std::vector<std::thread> threads;
    for (size_t t = 0; t < failures.size(); ++t) {
      threads.emplace_back([&, t] {
        for (int round = 0; round < 10; ++round) {
          for (size_t i = 0; i < images.size(); ++i) {
            const auto info = read_image_info(bytes[i].data(), bytes[i].size());
            if (!info || info->width != images[i].width || info->height != images[i].height) ++failures[t];
          }
        }
      });
    }
    for (auto& th : threads) th.join();
    for (int f : failures) CPPUNIT_ASSERT_EQUAL(0, f);
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ImageInfoTest);

}  // namespace kestrel::crawler
