// url() references in CSS text, found with a tokenizer that follows CSS Syntax Level 3 §4
// (https://www.w3.org/TR/css-syntax-3/#tokenization) as far as url() needs: comments, strings,
// escapes, ident-like tokens and url tokens.
//
// Hand-written because Debian 12 has no maintained C/C++ CSS tokenizer (apt-cache search "css parser"
// lists Java, Python, Go and Haskell ones; libcroco is gone from bookworm). Pure: any thread.
#ifndef KESTREL_CRAWLER_PARSE_CSS_URLS_H_
#define KESTREL_CRAWLER_PARSE_CSS_URLS_H_

#include <string>
#include <string_view>
#include <vector>

namespace kestrel::crawler {

// The URL of every url(...) in `css` (unquoted url tokens and url("...")/url('...') functions), escapes
// decoded, surrounding whitespace dropped, in source order, not resolved and not de-duplicated.
// "url" matches case-insensitively and only as a whole identifier ("myurl(x)" is not one); text in
// comments and in other strings is skipped; bad-url tokens (a quote, '(' or a control character inside
// an unquoted url, or an escaped newline) yield nothing. url()s that are not images are skipped: those
// in @font-face blocks (fonts) and in @import / @namespace preludes (stylesheets, namespaces; imported
// stylesheets are not followed). Never fails; at most `max_urls` are returned.
// E.g. "a{background:url( 'x.png' )} /* url(y) */ b{c:URL(z\\2e png)}" -> {"x.png", "z.png"}.
std::vector<std::string> css_urls(std::string_view css, size_t max_urls = 10000);

}  // namespace kestrel::crawler

#endif  // KESTREL_CRAWLER_PARSE_CSS_URLS_H_
