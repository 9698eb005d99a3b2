// Link and image-URL extraction from HTML documents, streaming, with libxml2's HTML push parser in SAX mode
// (no tree is built).
//
// An HtmlLinkExtractor belongs to one thread at a time; any number of them may run on different threads at
// once (libxml2 is initialized once per process, per its rules for multi-threaded use).
#ifndef KESTREL_CRAWLER_PARSE_HTML_EXTRACT_H_
#define KESTREL_CRAWLER_PARSE_HTML_EXTRACT_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kestrel::crawler {

struct ExtractedLinks {
  std::vector<std::string> pages;   // absolute normalized URLs of a[href] (also area[href]) targets, de-duplicated, document order
  std::vector<std::string> images;  // absolute normalized image URLs from img[src], img[srcset] (every candidate),
                                    // picture source[srcset] (every candidate), meta[property=og:image][content],
                                    // url() in <style> elements and style attributes (CSS Syntax §4);
                                    // de-duplicated, document order
  std::vector<std::string> stylesheets;  // absolute normalized URLs of link[rel~=stylesheet][href], de-duplicated,
                                         // document order (their url() images are found by css_urls)
  std::string base_url;             // the URL relative references were resolved against (<base href> if any, resolved)
  std::vector<std::string> invalid; // raw attribute values that could not be resolved (for the crawl report), document
                                    // order, each value once per list it was meant for
  bool truncated = false;           // a limit of HtmlLinkExtractor (kMax*) was hit: the lists hold what was found
                                    // before it (the rest of the document, or the end of a <style>, was not read)
};

// Extracts the links above from an HTML document given in pieces of any size, in constant memory: besides the
// results it keeps at most kMaxPendingBytes of unparsed input (the construct being parsed: a tag, a text run,
// a comment, a <script> or <style> element's text) and kMaxStyleBytes of one <style> element's text.
//
//   HtmlLinkExtractor extractor(final_url);
//   for (each UTF-8 chunk) extractor.feed(chunk);
//   ExtractedLinks links = extractor.finish();
//
// Parsing follows HTML as browsers do where it matters for links (libxml2 2.9's HTML parser plus the fixes
// in html_extract.cc): unquoted and upper-case attributes, unclosed and mis-nested tags, character references
// in attribute values (&amp; -> &, numeric ones as the HTML standard maps them: &#128; -> U+20AC, &#0; ->
// U+FFFD), the first <base href> (wherever it is; relative references are resolved at finish()), inert
// <template> contents (ignored; a </template> end tag ends them even where libxml2 keeps the element open),
// text-only elements (<title>, <textarea>, <xmp>, <iframe>, <noembed>, <noframes>, <plaintext>: tags inside
// them are text), <script> text up to "</script" only, void <source>/<track>/<wbr> (libxml2 2.9 does not know
// them), markup after </body> and </html> (libxml2 alone drops it), a tag cut off by the end of the input
// dropped. srcset is parsed per the HTML standard's algorithm (URLs may contain commas; descriptors like
// 1.5x, 300w). javascript:, data:, mailto: and other non-http(s) schemes are skipped silently.
// Known differences from a browser's DOM: "document order" is the order of the tags in the source (table
// content that the HTML tree builder moves before the table keeps its place); libxml2 2.9 knows only HTML 4's
// named character references (&hellip; works, &NotEqualTilde; stays as written) and drops control characters
// from attribute values; an element that libxml2 closes early (a stray end tag, a <template> in <head> holding
// body content) lets the links after it count; a start tag with a stray quote in it (<a title="x"" href=y>)
// that straddles one of the 64 KiB windows the input is parsed in may lose its attributes after the window.
// For documents that were not UTF-8, browsers percent-encode the *query* of a link in the document's encoding;
// we see UTF-8 only (after Utf8Decoder), so queries are UTF-8-encoded.
// Input that is not UTF-8 is repaired (each bad byte becomes U+FFFD, NUL too), so any bytes are safe.
// Never fails and never throws on bad input; the limits below stop the extraction early instead, with
// `truncated` set in the result.
class HtmlLinkExtractor {
 public:
  // Unparsed input libxml2 may hold for one construct (bytes). A tag, text run, comment or <script>/<style>
  // text longer than this stops the extraction (libxml2 2.9 has no such limit of its own in push mode).
  static constexpr size_t kMaxPendingBytes = size_t{8} << 20;
  // Text of one <style> element looked at for url() (bytes); the rest of a longer one is skipped.
  static constexpr size_t kMaxStyleBytes = size_t{4} << 20;
  // Open elements; deeper nesting stops the extraction (libxml2's element stack has no limit of its own).
  static constexpr int kMaxDepth = 10000;
  // Bytes of distinct element and attribute names libxml2 interns; names beyond it are not recognized.
  static constexpr size_t kMaxNameBytes = size_t{1} << 20;

  // document_url: absolute URL of the document (after redirects); relative references resolve against it
  // (or against <base href>). css: look at <style> elements, style="" attributes and link[rel=stylesheet].
  explicit HtmlLinkExtractor(const std::string& document_url, bool css = true);
  ~HtmlLinkExtractor();  // frees the parser
  HtmlLinkExtractor(const HtmlLinkExtractor&) = delete;
  HtmlLinkExtractor& operator=(const HtmlLinkExtractor&) = delete;
  HtmlLinkExtractor(HtmlLinkExtractor&&) noexcept;  // a moved-from extractor may only be destroyed
  HtmlLinkExtractor& operator=(HtmlLinkExtractor&&) noexcept;

  // Parses the next piece of the document: UTF-8, split anywhere (inside tags, attribute values, character
  // references and multi-byte sequences too). Feeding after finish() does nothing.
  void feed(std::string_view utf8);

  // Ends the document and returns the links; the same result as extract_links() of the concatenated input,
  // however it was split. Call once; later calls return empty lists.
  ExtractedLinks finish();

  // Input bytes held right now (libxml2's input buffer and our own carry), for tests and metrics.
  size_t buffered_bytes() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The links of a whole document: HtmlLinkExtractor fed `html_utf8` at once. Never fails: unparsable input
// yields empty lists. Any thread may call.
ExtractedLinks extract_links(std::string_view html_utf8, const std::string& document_url, bool css = true);

// The image-candidate URLs of a srcset attribute value, in order, exactly as written (not resolved),
// per the HTML standard's "parse a srcset attribute" algorithm; descriptors are dropped.
// E.g. "a.png 1x, b,c.png 2x" -> {"a.png", "b,c.png"}.
std::vector<std::string> parse_srcset(std::string_view srcset);

}  // namespace kestrel::crawler

#endif  // KESTREL_CRAWLER_PARSE_HTML_EXTRACT_H_
