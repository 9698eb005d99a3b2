// What happens to a fetched page body on a worker thread: its type decided
// (Content-Type, else WHATWG MIME sniffing of the first bytes), decoded to
// UTF-8 and its links extracted — or, for a link that turned out to be an
// image (<a href="big.png">), handed to the image pipeline.
//
// Pure apart from reading the Body: any thread.
#ifndef KESTREL_CRAWLER_HTTP_PAGE_READER_H_
#define KESTREL_CRAWLER_HTTP_PAGE_READER_H_

#include "body.h"
#include "parse/html_extract.h"

#include <string>

namespace kestrel::crawler {

struct PageOutcome {
  enum class Type {
    Html,    // `links` holds the document's links
    Image,   // not HTML, but an image by its bytes: goes to the image pipeline
    Other    // neither: skipped as "not_html" (`detail` says the type)
  };
  Type type = Type::Other;
  ExtractedLinks links;
  std::string detail;
};

// The media type of a Content-Type value, lower-case, without parameters ("" if none).
std::string media_type(const std::string& content_type);

// WHATWG MIME Sniffing §7.1 ("identifying a resource with an unknown MIME
// type"), the HTML patterns only, on the first bytes of a body.
bool looks_like_html(std::string_view head);

// Reads `body` served with `content_type` from `document_url` (the URL after
// redirects). css: also extract url()s of <style> and style="". Throws
// kestrel::Error(KESTREL_ERR_IO) only if a spilled body cannot be read.
PageOutcome read_page(const Body& body, const std::string& content_type, const std::string& document_url, bool css);

}  // namespace kestrel::crawler

#endif  // KESTREL_CRAWLER_HTTP_PAGE_READER_H_
