// Link extraction (html_extract.h) on real pages of the GIMP manual and on hand-written fixture pages
// (tests/fixtures/crawler/pages) for what the manual lacks: srcset, <picture>, <base>, og:image, broken
// markup, non-UTF-8 charsets (via to_utf8, as the crawler does); the streaming HtmlLinkExtractor split at
// every point, on 20 MB documents, and at its limits (endless text, attributes, nesting, <style>).
#include <cppunit/extensions/HelperMacros.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "charset.h"
#include "fixture_files.h"
#include "html_extract.h"

namespace kestrel::crawler {

namespace {

using Strings = std::vector<std::string>;
using test::fixture_path;
using test::manual_path;
using test::read_file;

std::string join(const Strings& v) {
  std::string out;
  for (const auto& s : v) out += "  " + s + "\n";
  return out;
}

void assert_list(const Strings& expected, const Strings& actual) {
  CPPUNIT_ASSERT_EQUAL_MESSAGE("expected:\n" + join(expected) + "actual:\n" + join(actual), join(expected), join(actual));
}

bool contains(const Strings& v, const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); }

const std::string kManual = "http://docs.test/en/";

// A string literal with its NUL bytes.
template <size_t N>
std::string bytes(const char (&literal)[N]) {
  return std::string(literal, N - 1);
}

// `text` around position `at`, marked with '|', for failure messages.
std::string around(const std::string& text, size_t at) {
  const size_t from = at > 30 ? at - 30 : 0;
  return "[" + text.substr(from, at - from) + "|" + text.substr(at, 30) + "]";
}

// Every field of a result, for comparing two of them.
std::string dump(const ExtractedLinks& links) {
  return "pages:\n" + join(links.pages) + "images:\n" + join(links.images) + "stylesheets:\n" +
         join(links.stylesheets) + "base: " + links.base_url + "\ninvalid:\n" + join(links.invalid) +
         "truncated: " + (links.truncated ? "yes" : "no") + "\n";
}

// The document fed in the given pieces.
ExtractedLinks extract_pieces(const std::vector<std::string_view>& pieces, const std::string& url) {
  HtmlLinkExtractor extractor(url);
  for (std::string_view piece : pieces) extractor.feed(piece);
  return extractor.finish();
}

// Every way of cutting `doc` in two, and byte by byte, gives what the whole gives.
void assert_split_invariant(const std::string& doc, const std::string& url) {
  const std::string whole = dump(extract_links(doc, url));
  for (size_t i = 0; i <= doc.size(); ++i) {
    const std::string_view view(doc);
    const std::string split = dump(extract_pieces({view.substr(0, i), view.substr(i)}, url));
    if (split != whole) {
      CPPUNIT_ASSERT_EQUAL_MESSAGE("split at " + std::to_string(i) + ": " + around(doc, i), whole, split);
    }
  }
  HtmlLinkExtractor bytewise(url);
  for (char c : doc) bytewise.feed(std::string_view(&c, 1));
  CPPUNIT_ASSERT_EQUAL_MESSAGE("byte by byte", whole, dump(bytewise.finish()));
}

// Script and style text, quotes around '>', templates, text-only elements, void <source>, character
// references, multi-byte text, a comment and a tag cut off by the end: the places a chunk boundary can hurt.
const char kTricky[] =
    "<!DOCTYPE html><html><head><meta charset=\"windows-1252\"><base href=\"/base/\">\n"
    "<style>.a{background:url(\"bg.png\")} /* url(no-comment.png) */ .b{x:y}</style>\n"
    "<script>var s = \"</div><img src=no-script.png>\"; if (a</b) {}</script>\n"
    "<link rel=\"alternate stylesheet\" href=\"s.css\"></head>\n"
    "<body><img alt=\"a>b 'q'\" src='q.png' srcset=\"w1.png 1x, w,2.png 2x\">\n"
    "<template><div><p><img src=\"inert.png\"></template><img src=\"after-template.png\">\n"
    "<textarea><img src=\"in-textarea.png\"></textarea><title><a href=\"in-title.html\"></a></title>\n"
    "<picture><source srcset=\"p1.webp\"><source srcset=\"p2.webp 2x\"><img src=\"p.png\"></picture>\n"
    "<a href=\"caf&eacute;.html?a=1&amp;b=2&#38;c=&#x33;&#128;&#0;\">caf\xC3\xA9 \xE7\x8C\xAB</a>\n"
    "<p style=\"background-image:url(&quot;st.png&quot;)\">x < y &amp; z</p>\n"
    "<!-- <img src=\"in-comment.png\"> --><area href=\"/area.html\"><meta property=\"og:image\" content=\"og.png\">\n"
    "<img src=\"cut-off.png\"";

}  // namespace

class HtmlExtractTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(HtmlExtractTest);
  CPPUNIT_TEST(manualCropToolPage);
  CPPUNIT_TEST(manualShowAllPageHasJpegs);
  CPPUNIT_TEST(manualIndexPage);
  CPPUNIT_TEST(srcsetPictureAndOgImage);
  CPPUNIT_TEST(linksSkipForeignSchemesAndReportInvalid);
  CPPUNIT_TEST(baseHrefFirstOneWins);
  CPPUNIT_TEST(brokenMarkup);
  CPPUNIT_TEST(windows1252ViaHttpHeader);
  CPPUNIT_TEST(shiftJisViaMetaCharset);
  CPPUNIT_TEST(eucKrViaMetaHttpEquiv);
  CPPUNIT_TEST(parseSrcsetAlgorithm);
  CPPUNIT_TEST(emptyAndBinaryInput);
  CPPUNIT_TEST(trickyDocument);
  CPPUNIT_TEST(everySplitPointGivesTheWholeResult);
  CPPUNIT_TEST(metaCharsetDoesNotRedecodeUtf8);
  CPPUNIT_TEST(characterReferencesInAttributes);
  CPPUNIT_TEST(cutOffTagAtTheEndIsDropped);
  CPPUNIT_TEST(templateEndTagEndsInertContent);
  CPPUNIT_TEST(textOnlyElementsAndScripts);
  CPPUNIT_TEST(badBytesNulAndBom);
  CPPUNIT_TEST(twentyMegabytesIn64KiBChunks);
  CPPUNIT_TEST(chunkEndingInsideQuotedValueKeepsMemoryBounded);
  CPPUNIT_TEST(windowBoundaryAnywhereInTrickyDocuments);
  CPPUNIT_TEST(contentAfterTheEndOfTheDocument);
  CPPUNIT_TEST(markupWithoutTextInConstantMemory);
  CPPUNIT_TEST(endlessTextStopsAtTheLimit);
  CPPUNIT_TEST(endlessAttributeStopsAtTheLimit);
  CPPUNIT_TEST(deepNestingStopsAtTheLimit);
  CPPUNIT_TEST(longStyleIsCapped);
  CPPUNIT_TEST(feedAfterFinishIsIgnored);
  CPPUNIT_TEST(nothingWrittenToStderr);
  CPPUNIT_TEST(parallelExtractorsAgree);
  CPPUNIT_TEST_SUITE_END();

 public:
  void manualCropToolPage() {
    const std::string body = read_file(manual_path("gimp-tool-crop.html"));
    CPPUNIT_ASSERT_EQUAL(std::string("utf-8"), detect_charset(body, "text/html"));
    const auto links = extract_links(to_utf8(body, "text/html"), kManual + "gimp-tool-crop.html");
    CPPUNIT_ASSERT_EQUAL(kManual + "gimp-tool-crop.html", links.base_url);
    assert_list({kManual + "images/prev.png", kManual + "images/next.png", kManual + "images/toolbox/toolbox-crop.png",
                 kManual + "images/note.png", kManual + "images/tip.png",
                 kManual + "images/toolbox/stock-tool-crop-22.png", kManual + "images/toolbox/crop-dialog.png",
                 kManual + "images/toolbox/crop-grow-1.png", kManual + "images/toolbox/crop-grow-2.png",
                 kManual + "images/toolbox/crop-grow-3.png", kManual + "images/toolbox/autoshrink-1.png",
                 kManual + "images/toolbox/autoshrink-2.png", kManual + "images/up.png", kManual + "images/home.png"},
                links.images);
    assert_list({kManual + "gimp-tool-move.html", kManual + "gimp-tool-rotate.html",
                 kManual + "gimp-concepts-image-guides.html", kManual + "gimp-tool-rect-select.html",
                 kManual + "gimp-tools-transform.html", kManual + "index.html",
                 "https://gitlab.gnome.org/GNOME/gimp/issues", "https://gitlab.gnome.org/GNOME/gimp-help/issues"},
                links.pages);
    CPPUNIT_ASSERT(links.invalid.empty());
  }

  void manualShowAllPageHasJpegs() {
    const auto links =
        extract_links(read_file(manual_path("gimp-view-show-all.html")), kManual + "gimp-view-show-all.html");
    assert_list({kManual + "images/prev.png", kManual + "images/next.png",
                 kManual + "images/menus/view/show_all-ex-no.jpg", kManual + "images/menus/view/show_all-ex-with.jpg",
                 kManual + "images/menus/view/show_all-ex-newimg.jpg",
                 kManual + "images/menus/view/show_all-ex-clone.jpg", kManual + "images/up.png",
                 kManual + "images/home.png"},
                links.images);
    CPPUNIT_ASSERT_EQUAL(size_t(8), links.pages.size());
    CPPUNIT_ASSERT_EQUAL(kManual + "gimp-view-new.html", links.pages.front());
  }

  // 832 a[href], 687 distinct once fragments are dropped (counted independently with Python's html.parser).
  void manualIndexPage() {
    const auto links = extract_links(read_file(manual_path("index.html")), kManual + "index.html");
    assert_list({kManual + "images/gimp-org.png", kManual + "images/next.png"}, links.images);
    CPPUNIT_ASSERT_EQUAL(size_t(687), links.pages.size());
    CPPUNIT_ASSERT_EQUAL(std::string("https://www.gimp.org/"), links.pages[0]);
    CPPUNIT_ASSERT_EQUAL(kManual + "preface.html", links.pages[1]);
    CPPUNIT_ASSERT(contains(links.pages, kManual + "gimp-tool-crop.html"));
    CPPUNIT_ASSERT(contains(links.pages, kManual + "plug_in_spyrogimp.html"));
    CPPUNIT_ASSERT(!contains(links.pages, kManual + "preface.html#gimp-team"));
  }

  void srcsetPictureAndOgImage() {
    const std::string url = "http://site.test/dir/srcset.html";
    const auto links = extract_links(read_file(fixture_path("pages/srcset.html")), url);
    assert_list({"http://site.test/social/card.png?w=1200&h=630", "http://site.test/dir/img/plain.png",
                 "http://site.test/dir/img/a.png", "http://site.test/dir/img/a-1x.png",
                 "http://site.test/dir/img/a,comma.png", "http://site.test/dir/img/a-2x.png?x=1&y=2",
                 "http://site.test/dir/img/w300.jpg", "http://site.test/dir/img/w600.jpg",
                 "http://site.test/dir/img/w900.jpg", "http://site.test/dir/img/trailing-comma.png",
                 "http://site.test/dir/img/next.png", "http://site.test/dir/img/one,url.png,img/not-split.png",
                 "http://site.test/dir/img/dup.png",
                 "http://site.test/dir/img/good.png", "http://site.test/dir/img/pic.webp",
                 "http://site.test/dir/img/pic@2x.webp", "http://site.test/dir/img/pic-large.jpg",
                 "http://site.test/dir/img/pic-fallback.jpg"},
                links.images);
  }

  void linksSkipForeignSchemesAndReportInvalid() {
    const std::string url = "http://site.test/dir/srcset.html";
    const auto links = extract_links(read_file(fixture_path("pages/srcset.html")), url);
    assert_list({"http://site.test/dir/page-1.html", "http://site.test/up.html",
                 "https://other.example.org/x?b=2&a=1", "http://site.test/dir/area-target.html"},
                links.pages);
    assert_list({"http://bad.example.org:99999/"}, links.invalid);
  }

  void baseHrefFirstOneWins() {
    const std::string url = "http://site.test/docs/base.html";
    const auto links = extract_links(read_file(fixture_path("pages/base.html")), url);
    CPPUNIT_ASSERT_EQUAL(std::string("http://site.test/assets/v2/"), links.base_url);
    assert_list({"http://site.test/assets/v2/logo.png", "http://site.test/root.png", "http://cdn.example.net/lib/pic.gif"},
                links.images);
    assert_list({"http://site.test/assets/v2/guide.html", "http://site.test/assets/v2/?page=2",
                 "http://site.test/assets/v2/"},
                links.pages);
  }

  void brokenMarkup() {
    const std::string url = "http://site.test/broken.html";
    const auto links = extract_links(read_file(fixture_path("pages/broken.html")), url);
    // Unquoted attributes, mis-nested tags and stray table content all count; the tag cut off by the end of
    // the file is dropped, as browsers drop it. Order: HTML's tree builder moves the stray <img> of the table
    // row before the table ("foster parenting"), so in DOM tree order it comes before cell.png. A streaming
    // parser reports tags in source order and cannot move one back before links it has already reported; the
    // lists are the same, only the order of these two differs (a tree-building parser gave tree order).
    assert_list({"http://site.test/cell.png", "http://site.test/table-stray.png", "http://site.test/UPPER.PNG",
                 "http://site.test/a&b.png", "http://site.test/space%20in%20name.png",
                 "http://site.test/img/caf%C3%A9.png"},
                links.images);
    assert_list({"http://site.test/unquoted.html", "http://site.test/single.html", "http://site.test/last.html"},
                links.pages);
  }

  void windows1252ViaHttpHeader() {
    const std::string body = read_file(fixture_path("pages/cp1252.html"));
    const std::string html = to_utf8(body, "text/html; charset=windows-1252");
    CPPUNIT_ASSERT(html.find("Prix : 5 \xE2\x82\xAC") != std::string::npos);    // 0x80 is the euro sign
    CPPUNIT_ASSERT(html.find(">Caf\xC3\xA9</a>") != std::string::npos);         // link text
    const auto links = extract_links(html, "http://site.test/fr/cp1252.html");
    assert_list({"http://site.test/fr/caf%C3%A9.html"}, links.pages);
    assert_list({"http://site.test/fr/images/%C3%BCber.png"}, links.images);
    // ISO-8859-1 is decoded as windows-1252 (WHATWG Encoding), so the euro sign survives that label too.
    CPPUNIT_ASSERT_EQUAL(html, to_utf8(body, "text/html;charset=\"ISO-8859-1\""));
  }

  void shiftJisViaMetaCharset() {
    const std::string body = read_file(fixture_path("pages/shift_jis.html"));
    CPPUNIT_ASSERT_EQUAL(std::string("shift_jis"), detect_charset(body, "text/html"));
    const std::string html = to_utf8(body, "text/html");
    CPPUNIT_ASSERT(html.find(">\xE7\x8C\xAB\xE3\x81\xAE\xE5\x86\x99\xE7\x9C\x9F</a>") != std::string::npos);  // 猫の写真
    const auto links = extract_links(html, "http://site.test/ja/");
    assert_list({"http://site.test/ja/%E7%8C%AB.html"}, links.pages);                       // 猫.html
    assert_list({"http://site.test/ja/%E7%94%BB%E5%83%8F/%E7%8A%AC.png"}, links.images);  // 画像/犬.png
    // Declared by the HTTP header instead (and its Windows-31J alias): the same text.
    CPPUNIT_ASSERT_EQUAL(html, to_utf8(body, "text/html; charset=Shift_JIS"));
    CPPUNIT_ASSERT_EQUAL(html, to_utf8(body, "text/html; charset=windows-31j"));
  }

  void eucKrViaMetaHttpEquiv() {
    const std::string body = read_file(fixture_path("pages/euc-kr.html"));
    CPPUNIT_ASSERT_EQUAL(std::string("euc-kr"), detect_charset(body, ""));
    const std::string html = to_utf8(body, "");
    CPPUNIT_ASSERT(html.find(">\xED\x95\x9C\xEA\xB5\xAD\xEC\x96\xB4</a>") != std::string::npos);  // 한국어
    const auto links = extract_links(html, "http://site.test/ko/index.html");
    assert_list({"http://site.test/ko/%ED%95%9C%EA%B5%AD%EC%96%B4.html"}, links.pages);
    assert_list({"http://site.test/ko/%EC%82%AC%EC%A7%84.jpg"}, links.images);  // 사진.jpg
  }

  void parseSrcsetAlgorithm() {
    assert_list({"a.png", "b,c.png"}, parse_srcset("a.png 1x, b,c.png 2x"));
    assert_list({"a.png,b.png"}, parse_srcset("  a.png,b.png  "));  // no space after the comma: one URL
    assert_list({"a.png", "b.png"}, parse_srcset("  a.png, b.png  "));
    // A comma inside parentheses doesn't end the candidate (whose "(...)" descriptor is then invalid).
    assert_list({"good.png"}, parse_srcset("bad.png 1x (a, b.png 2x), good.png 2x, y.png 5q"));
    assert_list({"u.png", "v.png"}, parse_srcset("u.png 1.5x,\n\tv.png 2e0x"));
    assert_list({}, parse_srcset("a.png 0w, b.png -1x, c.png 1x 2x, d.png 10h, e.png 1.x"));
    assert_list({}, parse_srcset(" , ,, "));
  }

  void emptyAndBinaryInput() {
    auto links = extract_links("", "http://site.test/");
    CPPUNIT_ASSERT(links.pages.empty() && links.images.empty() && links.invalid.empty());
    const char raw[] = "\x89PNG\r\n\x1A\n\0\0\0\rIHDR<a href=x.html>";
    const std::string binary(raw, sizeof raw - 1);
    links = extract_links(binary, "http://site.test/");
    assert_list({"http://site.test/x.html"}, links.pages);
  }
  void trickyDocument() {
    const auto links = extract_links(kTricky, "http://site.test/dir/page.html");
    CPPUNIT_ASSERT_EQUAL(std::string("http://site.test/base/"), links.base_url);
    // &#128; is the euro sign (windows-1252 numbering), &#0; U+FFFD; the attribute goes on after both.
    assert_list({"http://site.test/base/caf%C3%A9.html?a=1&b=2&c=3%E2%82%AC%EF%BF%BD", "http://site.test/area.html"},
                links.pages);
    assert_list({"http://site.test/base/bg.png", "http://site.test/base/q.png", "http://site.test/base/w1.png",
                 "http://site.test/base/w,2.png", "http://site.test/base/after-template.png",
                 "http://site.test/base/p1.webp", "http://site.test/base/p2.webp", "http://site.test/base/p.png",
                 "http://site.test/base/st.png", "http://site.test/base/og.png"},
                links.images);
    assert_list({"http://site.test/base/s.css"}, links.stylesheets);
    CPPUNIT_ASSERT(links.invalid.empty());
    CPPUNIT_ASSERT(!links.truncated);
    // Without css: no <style>, style="" or stylesheet links.
    const auto plain = extract_links(kTricky, "http://site.test/dir/page.html", false);
    CPPUNIT_ASSERT(!contains(plain.images, "http://site.test/base/bg.png"));
    CPPUNIT_ASSERT(!contains(plain.images, "http://site.test/base/st.png"));
    CPPUNIT_ASSERT(contains(plain.images, "http://site.test/base/og.png"));
    CPPUNIT_ASSERT(plain.stylesheets.empty());
  }

  void everySplitPointGivesTheWholeResult() {
    assert_split_invariant(kTricky, "http://site.test/dir/page.html");
    assert_split_invariant(read_file(fixture_path("pages/broken.html")), "http://site.test/broken.html");
    assert_split_invariant(read_file(fixture_path("pages/srcset.html")), "http://site.test/dir/srcset.html");
    assert_split_invariant(read_file(fixture_path("pages/base.html")), "http://site.test/docs/base.html");
    // Character references, NUL, bad and multi-byte UTF-8 and a BOM, cut everywhere.
    assert_split_invariant(bytes("\xEF\xBB\xBF<img src=\"\xE7\x8C\xAB&#x1F600;&#12345678901;&#\">"
                                 "<img src=\"a\0b\xFF\xE7\x8C.png\"><a href=x&ampy&#65>t</a>"
                                 "<template><tr><td><img src=in></template><img src=out>&#"),
                           "http://site.test/");
  }

  // The body was windows-1252 and says so in <meta>; to_utf8 made it UTF-8. libxml2 must not decode it again.
  void metaCharsetDoesNotRedecodeUtf8() {
    const std::string body =
        "<html><head><meta charset=\"windows-1252\"></head><body>"
        "<img src=\"\xFC" "ber/caf\xE9.png\" alt=\"\x80\"><a href=\"\xE9t\xE9.html\">\x80</a></body></html>";
    CPPUNIT_ASSERT_EQUAL(std::string("windows-1252"), detect_charset(body, "text/html"));
    const auto links = extract_links(to_utf8(body, "text/html"), "http://site.test/");
    assert_list({"http://site.test/%C3%BCber/caf%C3%A9.png"}, links.images);
    assert_list({"http://site.test/%C3%A9t%C3%A9.html"}, links.pages);
  }

  void characterReferencesInAttributes() {
    const std::string url = "http://site.test/";
    auto image = [&](const std::string& src) {
      const auto links = extract_links("<img src=\"" + src + "\">", url);
      return links.images.empty() ? std::string("(none)") : links.images.front();
    };
    CPPUNIT_ASSERT_EQUAL(url + "?a=1&b=2", image("?a=1&amp;b=2"));                    // named
    CPPUNIT_ASSERT_EQUAL(url + "caf%C3%A9-%E2%80%A6", image("caf&eacute;-&hellip;"));  // HTML 4 names
    CPPUNIT_ASSERT_EQUAL(url + "&&&", image("&#38;&#x26;&#X26;"));                       // numeric, dec and hex
    CPPUNIT_ASSERT_EQUAL(url + "AB", image("&#65&#x42"));                                // without ';'
    CPPUNIT_ASSERT_EQUAL(url + "%E2%82%AC%E2%80%93", image("&#128;&#150;"));           // windows-1252 numbers
    // Values HTML maps to U+FFFD: libxml2 alone would cut the value short at each of them.
    CPPUNIT_ASSERT_EQUAL(url + "a%EF%BF%BDb%EF%BF%BDc%EF%BF%BDd%EF%BF%BDe",
                         image("a&#0;b&#xD800;c&#x110000;d&#99999999999999999999;e"));
    CPPUNIT_ASSERT_EQUAL(url + "x&y", image("x&#0000000000000000000000000000000000000038;y"));  // long, but fine
    // Not references: kept as written (libxml2 alone would cut the value at "&#"). Seen in the raw value of
    // an unusable URL, because '#' would start the fragment of a usable one, which is dropped.
    assert_list({"http://h.test:99999/a&ampx&copy=&#;&#xg&# &#x"},
                extract_links("<a href=\"http://h.test:99999/a&ampx&copy=&#;&#xg&# &#x\">", url).invalid);
  }

  void cutOffTagAtTheEndIsDropped() {
    const std::string url = "http://site.test/";
    const char* cut[] = {"<img src=\"x.png", "<img src=\"x.png\"", "<img src=x.png", "<img src=x.png ",
                         "<a href=x.html", "<img src=\"x.png\" /", "<img alt='a>b' src=x.png"};
    for (const char* tail : cut) {
      const auto links = extract_links(std::string("<a href=first.html>f</a>") + tail, url);
      CPPUNIT_ASSERT_EQUAL_MESSAGE(tail, std::string("pages:\n  http://site.test/first.html\nimages:\n"),
                                   "pages:\n" + join(links.pages) + "images:\n" + join(links.images));
    }
    assert_list({url + "x.png"}, extract_links("<img src=x.png>", url).images);
    // A stray quote makes libxml2 read on to the next one before it parses the tag, but the tag is whole.
    const auto links = extract_links("<p title=don't>x</p><img src=a.png alt=\"6\" tall\"><a href=b.html>", url);
    assert_list({url + "a.png"}, links.images);
    assert_list({url + "b.html"}, links.pages);
  }

  // HTML ends a template at </template> whatever is still open in it; libxml2 2.9 ignores that end tag while a
  // <div> or <td> is open inside, so without the extractor's own check everything after would be inert.
  void templateEndTagEndsInertContent() {
    const std::string url = "http://site.test/";
    const char* docs[] = {
        "<template><div><p><img src=in.png></template><img src=out.png>",
        "<template><table><tr><td><img src=in.png></template><img src=out.png>",
        "<template><img src=in.png></TEMPLATE ><img src=out.png>",
        "<template><template><div><img src=in.png></template><img src=in2.png></template><img src=out.png>",
        "<template><a href=in.html><img src=in.png></a></template><img src=out.png>",
    };
    for (const char* doc : docs) {
      const auto links = extract_links(doc, url);
      assert_list({url + "out.png"}, links.images);
      CPPUNIT_ASSERT_MESSAGE(doc, links.pages.empty());
    }
    // "</template>" as text, in a comment or a script, ends nothing.
    assert_list({}, extract_links("<template><script>x='</template>'</script><img src=in.png></template>", url).images);
    assert_list({}, extract_links("<template><!-- </template> --><img src=in.png></template>", url).images);
    assert_list({}, extract_links("<template><div title='</template>'><img src=in.png></template>", url).images);
    // <base> inside a template is inert too.
    CPPUNIT_ASSERT_EQUAL(url, extract_links("<template><base href=/t/></template>", url).base_url);
  }

  void textOnlyElementsAndScripts() {
    const std::string url = "http://site.test/";
    // HTML reads these as text: an embed snippet in a <textarea> is not a link.
    auto links = extract_links(
        "<textarea><a href=\"http://x.test/\"><img src=\"badge.png\"></a></textarea><title><img src=t.png></title>"
        "<xmp><img src=x.png></xmp><noembed><img src=e.png></noembed><iframe><img src=i.png></iframe>"
        "<img src=ok.png><noscript><img src=noscript.png></noscript>",
        url);
    assert_list({url + "ok.png", url + "noscript.png"}, links.images);
    CPPUNIT_ASSERT(links.pages.empty());
    // "</" inside a script ends it only as "</script" (libxml2 without RECOVER ends it at "</" + a letter).
    links = extract_links(
        "<script>if (a</b) document.write(\"</div><img src=no.png>\")</script><img src=yes.png>", url);
    assert_list({url + "yes.png"}, links.images);
    links = extract_links("<plaintext><img src=no.png></plaintext><img src=no2.png>", url);
    assert_list({}, links.images);
    // <source> is void: the second one is still a child of <picture>; outside <picture> it is not an image.
    links = extract_links("<picture><source srcset=a.webp><source srcset=b.webp><img src=c.png></picture>"
                          "<video><source srcset=v.png></video>", url);
    assert_list({url + "a.webp", url + "b.webp", url + "c.png"}, links.images);
  }

  void badBytesNulAndBom() {
    const std::string url = "http://site.test/";
    // NUL and undecodable bytes become U+FFFD; the value goes on after them; a leading BOM is not text.
    const std::string doc =
        bytes("\xEF\xBB\xBF<img src=\"a\0b.png\"><img src=\"c\xFF\xC0.png\"><img src=\"\xE7\x8C\xAB.png\">");
    const auto links = extract_links(doc, url);
    assert_list({url + "a%EF%BF%BDb.png", url + "c%EF%BF%BD%EF%BF%BD.png", url + "%E7%8C%AB.png"}, links.images);
  }

  // The engine's case: a large document decoded and parsed 64 KiB at a time, in constant memory.
  void twentyMegabytesIn64KiBChunks() {
    std::string doc = "<!DOCTYPE html><html><head><title>big</title></head><body>\n";
    for (size_t i = 0; doc.size() < (size_t{20} << 20); ++i) {
      doc += "<div class=\"row\" data-note=\"it's > all\"><a href=\"/p/" + std::to_string(i % 5000) +
             ".html\" title='caf\xC3\xA9 &amp; more'>row " + std::to_string(i) + "</a> text &lt; text " +
             "<img alt=\"\" src=\"/i/" + std::to_string(i % 3000) + ".png\"><br></div>\n";
    }
    doc += "<img src=\"/last.png\"></body></html>\n";
    HtmlLinkExtractor extractor("http://site.test/");
    size_t most = 0;
    for (size_t pos = 0; pos < doc.size(); pos += 65536) {
      extractor.feed(std::string_view(doc).substr(pos, 65536));
      most = std::max(most, extractor.buffered_bytes());
    }
    const auto links = extractor.finish();
    CPPUNIT_ASSERT_EQUAL(size_t(5000), links.pages.size());
    CPPUNIT_ASSERT_EQUAL(size_t(3001), links.images.size());
    CPPUNIT_ASSERT_EQUAL(std::string("http://site.test/p/0.html"), links.pages.front());
    CPPUNIT_ASSERT_EQUAL(std::string("http://site.test/last.png"), links.images.back());
    CPPUNIT_ASSERT(!links.truncated);
    CPPUNIT_ASSERT_MESSAGE("held " + std::to_string(most) + " bytes", most < (size_t{256} << 10));
    CPPUNIT_ASSERT_EQUAL(dump(extract_links(doc, "http://site.test/")), dump(links));
  }

  // libxml2 2.9.14 forgets it was inside a quoted value when a push ends there, and would then hold all the
  // rest of the document unparsed. The extractor pushes 64 KiB windows: this value spans the first boundary.
  void chunkEndingInsideQuotedValueKeepsMemoryBounded() {
    HtmlLinkExtractor extractor("http://site.test/");
    extractor.feed("<p>x <img alt=\"" + std::string(70000, 'v') + "\" src=\"a.png\">");
    size_t most = 0;
    const std::string rows = "<p>para <a href='b.html'>link</a> text</p>\n";
    for (int i = 0; i < 40000; ++i) {
      extractor.feed(rows);
      most = std::max(most, extractor.buffered_bytes());
    }
    const auto links = extractor.finish();
    assert_list({"http://site.test/a.png"}, links.images);
    assert_list({"http://site.test/b.html"}, links.pages);
    CPPUNIT_ASSERT_MESSAGE("held " + std::to_string(most) + " bytes", most < (size_t{256} << 10));
  }

  // libxml2 gets the input in 64 KiB windows. Behind a comment of the right length, the first window ends at
  // each byte of a tricky document in turn: the links must not change.
  void windowBoundaryAnywhereInTrickyDocuments() {
    const std::pair<std::string, std::string> docs[] = {
        {kTricky, "http://site.test/dir/page.html"},
        {read_file(fixture_path("pages/broken.html")), "http://site.test/broken.html"},
        {bytes("<a href=\"caf\xC3\xA9&#x1F600;&#128;&#0;&#\"><img src=\"a\0b\xFF.png\" alt='x>y'>"
               "<template><tr><td><img src=in></template><img src=out></body></html><img src=after>"),
         "http://site.test/"},
    };
    for (const auto& [doc, url] : docs) {
      const std::string expected = dump(extract_links(doc, url));
      for (size_t k = 1; k < doc.size(); ++k) {
        const std::string padded = "<!--" + std::string(65536 - k - 7, '-') + "-->" + doc;
        const std::string got = dump(extract_links(padded, url));
        if (got != expected) {
          CPPUNIT_ASSERT_EQUAL_MESSAGE("boundary at " + std::to_string(k) + ": " + around(doc, k), expected, got);
        }
      }
    }
  }

  // HTML parses on after </body> and </html>; libxml2 stops at </html>.
  void contentAfterTheEndOfTheDocument() {
    const std::string url = "http://site.test/";
    auto links = extract_links("<html><body><img src=a.png></body></html>\n<img src=after.png><a href=x.html>", url);
    assert_list({url + "a.png", url + "after.png"}, links.images);
    assert_list({url + "x.html"}, links.pages);
    CPPUNIT_ASSERT(!links.truncated);
    links = extract_links("</html><img src=first.png></BODY ><img src=second.png>", url);
    assert_list({url + "first.png", url + "second.png"}, links.images);
    // A stray end tag first: libxml2 takes it for the end of the document.
    links = extract_links("</div></p><img src=first.png><a href=x.html>", url);
    assert_list({url + "first.png"}, links.images);
    assert_list({url + "x.html"}, links.pages);
    CPPUNIT_ASSERT(!links.truncated);
    // A lone '<' at the very end is text; libxml2 ends the document before it.
    assert_list({url + "x.png"}, extract_links("<html></html><img src=x.png><", url).images);
    // Inside a script or an attribute value they are text.
    links = extract_links("<script>x='</html>'</script><img title='</body>' src=s.png>", url);
    assert_list({url + "s.png"}, links.images);
    // An unclosed quote hides </html> from the extractor, not from libxml2: a new parser goes on after it.
    links = extract_links("<img srcset=\"w.jpg 1x,again</a>\n<a href=\"up.html\">up</a>\n</body>\n</html>ones\">\n"
                          "<img src=after.png>",
                          url);
    CPPUNIT_ASSERT(contains(links.images, url + "after.png"));
    CPPUNIT_ASSERT(!links.truncated);
  }

  // libxml2 2.9 frees the input it has parsed only while it parses text.
  void markupWithoutTextInConstantMemory() {
    HtmlLinkExtractor extractor("http://site.test/");
    std::string chunk;
    for (int i = 0; i < 1000; ++i) chunk += "<span class=x><img src=\"/i/" + std::to_string(i) + ".png\"></span>";
    size_t most = 0;
    for (size_t fed = 0; fed < (size_t{16} << 20); fed += chunk.size()) {
      extractor.feed(chunk);
      most = std::max(most, extractor.buffered_bytes());
    }
    const auto links = extractor.finish();
    CPPUNIT_ASSERT_EQUAL(size_t(1000), links.images.size());
    CPPUNIT_ASSERT_MESSAGE("held " + std::to_string(most), most < (size_t{256} << 10));
  }

  void endlessTextStopsAtTheLimit() {
    // Feeds `piece` 800 times; returns the most the extractor held meanwhile.
    auto feed_800 = [](HtmlLinkExtractor& x, const std::string& piece) {
      size_t most = 0;
      for (int i = 0; i < 800; ++i) {
        x.feed(piece);
        most = std::max(most, x.buffered_bytes());
      }
      return most;
    };
    HtmlLinkExtractor extractor("http://site.test/");
    extractor.feed("<a href=before.html>x</a><p>");
    size_t most = feed_800(extractor, std::string(65536, 'a'));  // 50 MB without a '<': libxml2 waits for one
    extractor.feed("<a href=after.html>y</a>");
    const auto links = extractor.finish();
    assert_list({"http://site.test/before.html"}, links.pages);
    CPPUNIT_ASSERT(links.truncated);
    CPPUNIT_ASSERT_MESSAGE("held " + std::to_string(most),
                           most <= HtmlLinkExtractor::kMaxPendingBytes + (size_t{256} << 10));
    // The same amount of text with a tag now and then is no problem, and takes little memory.
    HtmlLinkExtractor tagged("http://site.test/");
    most = feed_800(tagged, std::string(65530, 'a') + "<b>x</b>");
    tagged.feed("<a href=after.html>y</a>");
    const auto tagged_links = tagged.finish();
    assert_list({"http://site.test/after.html"}, tagged_links.pages);
    CPPUNIT_ASSERT(!tagged_links.truncated);
    CPPUNIT_ASSERT_MESSAGE("held " + std::to_string(most), most < (size_t{512} << 10));
  }

  void endlessAttributeStopsAtTheLimit() {
    for (const char* opening : {"<img src=\"", "<img src=", "<!--", "<style>", "<script>", "<a "}) {
      HtmlLinkExtractor extractor("http://site.test/");
      extractor.feed("<a href=before.html>x</a><img src=before.png>");
      extractor.feed(opening);
      const std::string filler(65536, 'a');
      size_t most = 0;
      for (int i = 0; i < 200; ++i) {  // 13 MB
        extractor.feed(filler);
        most = std::max(most, extractor.buffered_bytes());
      }
      const auto links = extractor.finish();
      assert_list({"http://site.test/before.html"}, links.pages);
      assert_list({"http://site.test/before.png"}, links.images);
      CPPUNIT_ASSERT_MESSAGE(opening, links.truncated);
      CPPUNIT_ASSERT_MESSAGE(std::string(opening) + " held " + std::to_string(most),
                             most <= 2 * HtmlLinkExtractor::kMaxPendingBytes + (size_t{256} << 10));
    }
  }

  void deepNestingStopsAtTheLimit() {
    std::string doc = "<a href=before.html>x</a>";
    for (int i = 0; i < HtmlLinkExtractor::kMaxDepth + 100000; ++i) doc += "<div>";
    doc += "<a href=deep.html>y</a>";
    const auto links = extract_links(doc, "http://site.test/");
    assert_list({"http://site.test/before.html"}, links.pages);
    CPPUNIT_ASSERT(links.truncated);
    // Nesting below the limit is fine.
    std::string ok = "<a href=before.html>x</a>";
    for (int i = 0; i < HtmlLinkExtractor::kMaxDepth / 2; ++i) ok += "<div>";
    ok += "<a href=deep.html>y</a>";
    const auto ok_links = extract_links(ok, "http://site.test/");
    assert_list({"http://site.test/before.html", "http://site.test/deep.html"}, ok_links.pages);
    CPPUNIT_ASSERT(!ok_links.truncated);
  }

  void longStyleIsCapped() {
    std::string doc = "<style>a{background:url(s1.png)}";
    while (doc.size() < HtmlLinkExtractor::kMaxStyleBytes + 1000) doc += "b{color:red}\n";
    doc += "c{background:url(s2.png)}</style><img src=after.png>";
    const auto links = extract_links(doc, "http://site.test/");
    assert_list({"http://site.test/s1.png", "http://site.test/after.png"}, links.images);
    CPPUNIT_ASSERT(links.truncated);
  }

  void feedAfterFinishIsIgnored() {
    HtmlLinkExtractor extractor("http://site.test/");
    extractor.feed("<img src=a.png>");
    assert_list({"http://site.test/a.png"}, extractor.finish().images);
    extractor.feed("<img src=b.png>");
    const auto again = extractor.finish();
    CPPUNIT_ASSERT(again.images.empty() && again.pages.empty());
  }

  // libxml2 prints parse errors to stderr unless told otherwise; a daemon's stderr is no place for them.
  void nothingWrittenToStderr() {
    std::fflush(stderr);
    FILE* capture = std::tmpfile();
    CPPUNIT_ASSERT(capture != nullptr);
    const int saved = dup(STDERR_FILENO);
    dup2(fileno(capture), STDERR_FILENO);
    const auto links = extract_links(
        "<html><p><b><i></b></i><unknown-tag x=1 x=2><img src=\"\x80\"></div></span>&bogus; &#0; <!-- x",
        "http://site.test/");
    extract_links(read_file(fixture_path("pages/broken.html")), "http://site.test/");
    std::fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    std::fseek(capture, 0, SEEK_END);
    const long written = std::ftell(capture);
    std::fclose(capture);
    CPPUNIT_ASSERT_EQUAL(size_t(1), links.images.size());
    CPPUNIT_ASSERT_EQUAL(0L, written);
  }

  // The engine parses on several threads at once.
  void parallelExtractorsAgree() {
    const std::string page = read_file(manual_path("index.html"));
    const std::string expected = dump(extract_links(page, kManual + "index.html"));
    std::vector<std::string> results(4);
    std::vector<std::thread> threads;
    for (size_t t = 0; t < results.size(); ++t) {
      threads.emplace_back([&, t] {
        for (int round = 0; round < 10; ++round) {
          HtmlLinkExtractor extractor(kManual + "index.html");
          for (size_t pos = 0; pos < page.size(); pos += 1000 + t) {
            extractor.feed(std::string_view(page).substr(pos, 1000 + t));
          }
          const std::string got = dump(extractor.finish());
          if (got != expected) results[t] = got;
        }
      });
    }
    for (auto& thread : threads) thread.join();
    for (const auto& result : results) CPPUNIT_ASSERT_EQUAL(std::string(), result);
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(HtmlExtractTest);

}  // namespace kestrel::crawler
