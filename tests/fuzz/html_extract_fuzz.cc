// Fuzzes charset conversion + streaming HTML link extraction (libxml2's SAX push parser), as a crawled page
// goes. The first two bytes pick a cut point in the rest, the page. Properties:
//  - only absolute http(s) URLs come out;
//  - the page converted and extracted whole (to_utf8, extract_links) and in two pieces cut there
//    (Utf8Decoder, HtmlLinkExtractor) gives the same links; so does its UTF-8 cut at that point, and the
//    raw bytes (not UTF-8 at all) whole and cut.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "charset.h"
#include "html_extract.h"

namespace {

using kestrel::crawler::ExtractedLinks;
using kestrel::crawler::HtmlLinkExtractor;

const std::string kUrl = "http://example.test/a/b/page.html";

bool same(const ExtractedLinks& a, const ExtractedLinks& b) {
  return a.pages == b.pages && a.images == b.images && a.stylesheets == b.stylesheets && a.base_url == b.base_url &&
         a.invalid == b.invalid && a.truncated == b.truncated;
}

ExtractedLinks extract_cut(std::string_view text, size_t cut) {
  HtmlLinkExtractor extractor(kUrl);
  extractor.feed(text.substr(0, cut));
  extractor.feed(text.substr(cut));
  return extractor.finish();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const size_t seed = data[0] | (static_cast<size_t>(data[1]) << 8);
  const std::string_view body(reinterpret_cast<const char*>(data) + 2, size - 2);
  const size_t cut = seed % (body.size() + 1);

  const std::string utf8 = kestrel::crawler::to_utf8(body, "text/html");
  const ExtractedLinks whole = kestrel::crawler::extract_links(utf8, kUrl);
  for (const auto& u : whole.pages)
    if (u.rfind("http", 0) != 0) __builtin_trap();  // only absolute http(s) URLs come out
  for (const auto& u : whole.images)
    if (u.rfind("http", 0) != 0) __builtin_trap();
  for (const auto& u : whole.stylesheets)
    if (u.rfind("http", 0) != 0) __builtin_trap();

  // As the engine streams a body: charset from the first 1024 bytes, then decode and parse piece by piece.
  kestrel::crawler::Utf8Decoder decoder(kestrel::crawler::detect_charset(body.substr(0, 1024), "text/html"));
  HtmlLinkExtractor extractor(kUrl);
  std::string piece;
  decoder.feed(body.substr(0, cut), piece);
  extractor.feed(piece);
  piece.clear();
  decoder.feed(body.substr(cut), piece);
  extractor.feed(piece);
  piece.clear();
  decoder.finish(piece);
  extractor.feed(piece);
  if (!same(whole, extractor.finish())) __builtin_trap();

  if (!same(whole, extract_cut(utf8, seed % (utf8.size() + 1)))) __builtin_trap();
  if (!same(kestrel::crawler::extract_links(body, kUrl), extract_cut(body, cut))) __builtin_trap();
  return 0;
}
