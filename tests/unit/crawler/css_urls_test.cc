// css_urls: url() references per CSS Syntax Level 3 §4, case by case.
#include <cppunit/extensions/HelperMacros.h>

#include <string>
#include <vector>

#include "css_urls.h"
#include "html_extract.h"

namespace kestrel::crawler {

class CssUrlsTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(CssUrlsTest);
  CPPUNIT_TEST(testUnquotedAndQuoted);
  CPPUNIT_TEST(testCommentsStringsAndOtherFunctionsAreSkipped);
  CPPUNIT_TEST(testEscapes);
  CPPUNIT_TEST(testBadUrlsYieldNothing);
  CPPUNIT_TEST(testHtmlStylesheetsStyleElementsAndAttributes);
  CPPUNIT_TEST(testFontsImportsAndNamespacesAreNotImages);
  CPPUNIT_TEST_SUITE_END();

  using Urls = std::vector<std::string>;

 public:
  void testUnquotedAndQuoted() {
    CPPUNIT_ASSERT(css_urls("a{background:url(a.png)}") == Urls({"a.png"}));
    CPPUNIT_ASSERT(css_urls("a{background:url( 'b c.png' )}") == Urls({"b c.png"}));
    CPPUNIT_ASSERT(css_urls("a{background:URL(\"d.png\")} b{x:Url(  e.png  )}") == Urls({"d.png", "e.png"}));
    CPPUNIT_ASSERT(css_urls("a{b:image-set(url(1x.png) 1x, url(2x.png) 2x)}") == Urls({"1x.png", "2x.png"}));
    CPPUNIT_ASSERT(css_urls("a{b:url()} c{d:url('')}").empty());
    CPPUNIT_ASSERT(css_urls("a{b:url(unterminated.png") == Urls({"unterminated.png"}));  // EOF ends the token
  }

  void testCommentsStringsAndOtherFunctionsAreSkipped() {
    CPPUNIT_ASSERT(css_urls("/* url(no.png) */ a{b:url(yes.png)}") == Urls({"yes.png"}));
    CPPUNIT_ASSERT(css_urls("a{content:\"url(no.png)\"} b{c:'url(no2.png)'}").empty());
    CPPUNIT_ASSERT(css_urls("a{b:myurl(no.png); c:url-x(no.png); d:src(no.png)}").empty());
    CPPUNIT_ASSERT(css_urls("/* unterminated url(no.png)").empty());
  }

  void testEscapes() {
    CPPUNIT_ASSERT(css_urls("a{b:url(a\\)b.png)}") == Urls({"a)b.png"}));
    CPPUNIT_ASSERT(css_urls("a{b:url(\\61 .png)}") == Urls({"a.png"}));        // hex escape, one space eaten
    CPPUNIT_ASSERT(css_urls("a{b:u\\72l(c.png)}") == Urls({"c.png"}));         // escaped letter in the name
    CPPUNIT_ASSERT(css_urls("a{b:url(\"caf\\E9.png\")}") == Urls({"caf\xC3\xA9.png"}));
    CPPUNIT_ASSERT(css_urls("a{b:url(\"x\\\ny.png\")}") == Urls({"xy.png"}));  // escaped newline in a string
  }

  void testFontsImportsAndNamespacesAreNotImages() {
    // The GIMP manual's theme: @font-face src url()s are fonts (woff2, ttf, svg fonts), never images.
    CPPUNIT_ASSERT(css_urls("@font-face{font-family:'O';src:url(o.eot);src:url(o.woff2) format('woff2'),"
                            "url(o.svg#O) format('svg')} body{background:url(bg.png)}") == Urls({"bg.png"}));
    CPPUNIT_ASSERT(css_urls("@FONT-FACE { src: url(f.ttf) } a{b:url(a.png)} @font-face{src:url(g.ttf)}") ==
                   Urls({"a.png"}));
    CPPUNIT_ASSERT(css_urls("@import url(s.css); @import 'n.css' screen; @namespace svg url(http://www.w3.org/2000/svg);"
                            " a{b:url(a.png)}") == Urls({"a.png"}));
    // Nested blocks: only the @font-face block is skipped.
    CPPUNIT_ASSERT(css_urls("@media print{@font-face{src:url(f.woff)} a{b:url(p.png)}} c{d:url(q.png)}") ==
                   Urls({"p.png", "q.png"}));
    // Braces inside strings and comments do not count.
    CPPUNIT_ASSERT(css_urls("@font-face{font-family:'{';/* } */src:url(f.woff)} a{b:url(a.png)}") == Urls({"a.png"}));
  }

  void testBadUrlsYieldNothing() {
    CPPUNIT_ASSERT(css_urls("a{b:url(a b.png)} c{d:url(ok.png)}") == Urls({"ok.png"}));
    CPPUNIT_ASSERT(css_urls("a{b:url(a\"b.png)} c{d:url(ok.png)}") == Urls({"ok.png"}));
    CPPUNIT_ASSERT(css_urls("a{b:url(a(b.png)} c{d:url(ok.png)}") == Urls({"ok.png"}));
    // A raw newline ends a string as a bad string (no URL); the stray quote after it opens a string that
    // runs to the next newline, hiding what follows on that line.
    CPPUNIT_ASSERT(css_urls("a{b:url(\"a\nb.png\")} c{d:url(hidden.png)}\ne{f:url(ok.png)}") == Urls({"ok.png"}));
    CPPUNIT_ASSERT(css_urls("a{b:url(1)} c{d:url(2)} e{f:url(3)}", 2) == Urls({"1", "2"}));
  }

  void testHtmlStylesheetsStyleElementsAndAttributes() {
    const ExtractedLinks links = extract_links(
        "<html><head><link rel=\"alternate stylesheet\" href=\"/s.css\"><link rel=icon href=/i.png>"
        "<style>.a{background:url(bg.png)} /* url(no.png) */</style></head>"
        "<body><div style=\"background:url('d.png')\"></div><template><div style=\"x:url(t.png)\"></div></template>"
        "</body></html>",
        "http://example.org/dir/page.html");
    CPPUNIT_ASSERT(links.stylesheets == Urls({"http://example.org/s.css"}));
    CPPUNIT_ASSERT(links.images == Urls({"http://example.org/dir/bg.png", "http://example.org/dir/d.png"}));
    const ExtractedLinks off = extract_links("<link rel=stylesheet href=s.css><style>a{b:url(x.png)}</style>",
                                             "http://example.org/", false);
    CPPUNIT_ASSERT(off.stylesheets.empty());
    CPPUNIT_ASSERT(off.images.empty());
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(CssUrlsTest);

}  // namespace kestrel::crawler
