// Link and image-URL extraction from HTML documents with gumbo (an HTML5-conformant parser).
//
// Pure function of its inputs: any thread may call it; gumbo keeps no global state.
#ifndef KESTREL_CRAWLER_PARSE_HTML_EXTRACT_H_
#define KESTREL_CRAWLER_PARSE_HTML_EXTRACT_H_

#include <cstddef>
#include <cstdint>
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
  std::vector<std::string> invalid; // raw attribute values that could not be resolved (for the crawl report)
};

// Parses UTF-8 HTML with gumbo (HTML5 parsing, so broken markup is fine) and extracts the links above,
// resolved against <base href> (first one only, per HTML) else `document_url`. srcset is parsed per the
// HTML standard's algorithm (URLs may contain commas; descriptors like 1.5x, 300w; &amp; already decoded
// by the parser). javascript:, data:, mailto: and other non-http(s) schemes are skipped silently.
// Elements inside <template> are inert and ignored; a tag cut off by the end of the input is dropped (HTML5).
// Known difference from browsers: for documents that were not UTF-8, browsers percent-encode the *query*
// of a link in the document's encoding; we see UTF-8 only (after to_utf8), so queries are UTF-8-encoded.
// Never fails: unparsable input yields empty lists. Any thread may call.
// With css false, <style>, style attributes and stylesheets are not looked at.
ExtractedLinks extract_links(std::string_view html_utf8, const std::string& document_url, bool css = true);

// The image-candidate URLs of a srcset attribute value, in order, exactly as written (not resolved),
// per the HTML standard's "parse a srcset attribute" algorithm; descriptors are dropped.
// E.g. "a.png 1x, b,c.png 2x" -> {"a.png", "b,c.png"}.
std::vector<std::string> parse_srcset(std::string_view srcset);

}  // namespace kestrel::crawler

#endif  // KESTREL_CRAWLER_PARSE_HTML_EXTRACT_H_
