// Link extraction (html_extract.h) on real pages of the GIMP manual and on hand-written fixture pages
// (tests/fixtures/crawler/pages) for what the manual lacks: srcset, <picture>, <base>, og:image, broken
// markup, non-UTF-8 charsets (via to_utf8, as the crawler does).
#include <cppunit/extensions/HelperMacros.h>

#include <algorithm>
#include <string>
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
    // HTML5 parsing: unquoted attributes, mis-nested tags and foster-parented table content all count
    // (the stray <img> in the table row is moved before the table, so it comes first); the tag cut off by
    // the end of the file is dropped, as browsers drop it.
    assert_list({"http://site.test/table-stray.png", "http://site.test/cell.png", "http://site.test/UPPER.PNG",
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
};

CPPUNIT_TEST_SUITE_REGISTRATION(HtmlExtractTest);

}  // namespace kestrel::crawler
