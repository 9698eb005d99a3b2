// Sitemaps (https://www.sitemaps.org/protocol.html): <urlset> and <sitemapindex> XML documents, plain or
// gzip-compressed, parsed with Poco::XML's SAX parser (expat).
//
// Pure function: any thread may call it. Never throws on bad input: the error is in the result.
#ifndef KESTREL_CRAWLER_PARSE_SITEMAP_H_
#define KESTREL_CRAWLER_PARSE_SITEMAP_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kestrel::crawler {

struct SitemapLinks {
  std::vector<std::string> pages;     // <urlset><url><loc>: absolute normalized URLs, document order
  std::vector<std::string> sitemaps;  // <sitemapindex><sitemap><loc>: further sitemaps, document order
  std::vector<std::string> invalid;   // <loc> values that are not absolute http(s) URLs
  std::string error;                  // "" when the whole document was read; else why not (what was
                                      // read before the error is kept above)
};

// Parses `body` (a sitemap as fetched; gzip when it starts with the gzip magic 1f 8b, whatever its name
// or Content-Type) and returns its <loc> URLs (elements of the sitemap namespace or of none; extensions
// such as image:loc are ignored). The document is read up to `max_bytes` bytes after
// decompression (the protocol's own limit is 50 MB): past that, error says so and parsing stops, so a
// gzip bomb costs at most max_bytes of memory. At most `max_urls` URLs are kept (the protocol allows 50000 per file). Any thread.
SitemapLinks parse_sitemap(std::string_view body, uint64_t max_bytes, size_t max_urls = 50000);

}  // namespace kestrel::crawler

#endif  // KESTREL_CRAWLER_PARSE_SITEMAP_H_
