#include "page_reader.h"

#include "parse/charset.h"
#include "parse/image_info.h"

#include <cctype>

namespace kestrel::crawler {
namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Enough for sniffing (WHATWG: 512 bytes for images, 1445 for HTML patterns)
// and for the <meta charset> prescan (1024 bytes).
constexpr size_t kHeadBytes = 2048;

}  // namespace

std::string media_type(const std::string& content_type) {
  std::string t = lower(content_type.substr(0, content_type.find(';')));
  const auto b = t.find_first_not_of(" \t");
  const auto e = t.find_last_not_of(" \t");
  return b == std::string::npos ? std::string() : t.substr(b, e - b + 1);
}

bool looks_like_html(std::string_view body) {
  size_t i = 0;
  while (i < body.size() && (body[i] == ' ' || body[i] == '\t' || body[i] == '\n' || body[i] == '\r' || body[i] == '\f'))
    ++i;
  static const char* const kTags[] = {"<!doctype html", "<html", "<head", "<script", "<iframe", "<h1", "<div",
                                      "<font", "<table", "<a", "<style", "<title", "<b", "<body", "<br", "<p",
                                      "<!--"};
  for (const char* tag : kTags) {
    const size_t n = std::char_traits<char>::length(tag);
    if (i + n >= body.size()) continue;  // needs the terminating byte too
    if (lower(std::string(body.substr(i, n))) != tag) continue;
    const char end = body[i + n];
    if (end == ' ' || end == '>') return true;
  }
  return false;
}

PageOutcome read_page(const Body& body, const std::string& content_type, const std::string& document_url, bool css) {
  PageOutcome out;
  const std::string head = body.head(kHeadBytes);
  const std::string type = media_type(content_type);
  bool html = type == "text/html" || type == "application/xhtml+xml";
  if (type.empty()) html = looks_like_html(head);
  if (!html) {
    // A link to an image is still an image: sniff, never trust the type.
    if (sniff_image_format(head.data(), head.size()) != ImageFormat::Unknown) {
      out.type = PageOutcome::Type::Image;
      return out;
    }
    out.detail = "Content-Type '" + content_type + "'";
    return out;
  }
  out.type = PageOutcome::Type::Html;
  // Streaming: piece by piece from memory or the spill file, decoded and
  // parsed as it goes, so a page of any size costs the same memory.
  Utf8Decoder decoder(detect_charset(head, content_type));
  HtmlLinkExtractor extractor(document_url, css);
  std::string utf8;
  body.for_each_chunk([&](const char* data, size_t n) {
    utf8.clear();
    decoder.feed(std::string_view(data, n), utf8);
    extractor.feed(utf8);
  });
  utf8.clear();
  decoder.finish(utf8);
  extractor.feed(utf8);
  out.links = extractor.finish();
  return out;
}

}  // namespace kestrel::crawler
