// Charset detection and conversion (charset.h): BOMs, the Content-Type parameter, <meta> prescan, the
// WHATWG label aliases, and replacement of undecodable bytes (never an exception, never lost text); the
// streaming Utf8Decoder split at every point and on 20 MB bodies, against to_utf8.
#include <cppunit/extensions/HelperMacros.h>

#include <string>
#include <vector>

#include "charset.h"
#include "fixture_files.h"

namespace kestrel::crawler {

namespace {

template <size_t N>
std::string bytes(const char (&literal)[N]) {
  return std::string(literal, N - 1);
}

// `body` through a Utf8Decoder for `charset`, in the given pieces.
std::string decode_pieces(const std::string& charset, const std::vector<std::string_view>& pieces) {
  Utf8Decoder decoder(charset);
  std::string out;
  for (std::string_view piece : pieces) decoder.feed(piece, out);
  decoder.finish(out);
  return out;
}

// Every way of cutting `body` in two or three, and byte by byte, decodes as to_utf8 does.
void assert_decoder_matches(const std::string& body, const std::string& content_type) {
  const std::string expected = to_utf8(body, content_type);
  const std::string charset = detect_charset(body, content_type);
  const std::string_view view(body);
  for (size_t i = 0; i <= body.size(); ++i) {
    for (size_t j = i; j <= body.size(); ++j) {
      const std::string got =
          decode_pieces(charset, {view.substr(0, i), view.substr(i, j - i), view.substr(j)});
      if (got != expected) {
        CPPUNIT_ASSERT_EQUAL_MESSAGE(charset + " cut at " + std::to_string(i) + " and " + std::to_string(j),
                                     expected, got);
      }
    }
  }
  std::vector<std::string_view> single;
  for (size_t i = 0; i < body.size(); ++i) single.push_back(view.substr(i, 1));
  CPPUNIT_ASSERT_EQUAL_MESSAGE(charset + " byte by byte", expected, decode_pieces(charset, single));
}

}  // namespace

class CharsetTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(CharsetTest);
  CPPUNIT_TEST(contentTypeParameter);
  CPPUNIT_TEST(utf8IsTheDefault);
  CPPUNIT_TEST(isUtf8);
  CPPUNIT_TEST(bomWinsOverHeaderAndMeta);
  CPPUNIT_TEST(headerWinsOverMeta);
  CPPUNIT_TEST(metaOnlyInFirst1024Bytes);
  CPPUNIT_TEST(unknownHeaderLabelFallsThroughToMeta);
  CPPUNIT_TEST(latin1AliasesMeanWindows1252);
  CPPUNIT_TEST(otherIconvCharsets);
  CPPUNIT_TEST(invalidBytesBecomeReplacementCharacters);
  CPPUNIT_TEST(truncatedMultibyteTail);
  CPPUNIT_TEST(illFormedUtf8ThatIconvPassesIsRepaired);
  CPPUNIT_TEST(utf16Bom);
  CPPUNIT_TEST(prescanFollowsWhatwg);
  CPPUNIT_TEST(decoderMatchesToUtf8AtEverySplit);
  CPPUNIT_TEST(decoderDropsBomSplitAcrossFeeds);
  CPPUNIT_TEST(decoderEndsEachCallOnACharacter);
  CPPUNIT_TEST(decoderTwentyMegabytesIn64KiBChunks);
  CPPUNIT_TEST_SUITE_END();

 public:
  void contentTypeParameter() {
    CPPUNIT_ASSERT_EQUAL(std::string("iso-8859-1"), charset_from_content_type("text/html; Charset=\"ISO-8859-1\""));
    CPPUNIT_ASSERT_EQUAL(std::string("utf-8"), charset_from_content_type("text/html;charset=UTF-8;q=1"));
    CPPUNIT_ASSERT_EQUAL(std::string("shift_jis"), charset_from_content_type("text/html ; charset = 'Shift_JIS' "));
    CPPUNIT_ASSERT_EQUAL(std::string(""), charset_from_content_type("text/html"));
    CPPUNIT_ASSERT_EQUAL(std::string(""), charset_from_content_type(""));
    CPPUNIT_ASSERT_EQUAL(std::string(""), charset_from_content_type("text/html; xcharset=koi8-r"));
  }

  void utf8IsTheDefault() {
    const std::string body = "<p>caf\xC3\xA9</p>";
    CPPUNIT_ASSERT_EQUAL(std::string("utf-8"), detect_charset(body, "text/html"));
    CPPUNIT_ASSERT_EQUAL(body, to_utf8(body, "text/html"));
  }

  void isUtf8() {
    CPPUNIT_ASSERT(is_utf8(""));
    CPPUNIT_ASSERT(is_utf8("W/\"caf\xC3\xA9\" \xF0\x9F\x90\xA6"));
    CPPUNIT_ASSERT(!is_utf8("\"caf\xE9\""));         // Latin-1 obs-text in an ETag
    CPPUNIT_ASSERT(!is_utf8("\xC0\xAF"));             // overlong '/'
    CPPUNIT_ASSERT(!is_utf8("\xED\xA0\x80"));         // a surrogate
    CPPUNIT_ASSERT(!is_utf8("ok\xE2\x82"));           // cut off
  }

  void bomWinsOverHeaderAndMeta() {
    const std::string body = "\xEF\xBB\xBF<meta charset=\"windows-1252\"><p>caf\xC3\xA9</p>";
    CPPUNIT_ASSERT_EQUAL(std::string("utf-8"), detect_charset(body, "text/html; charset=shift_jis"));
    CPPUNIT_ASSERT_EQUAL(body.substr(3), to_utf8(body, "text/html; charset=shift_jis"));  // BOM removed
  }

  void headerWinsOverMeta() {
    // The Shift_JIS fixture read as windows-1252 because the server said so: mojibake, but no loss.
    const std::string body = test::read_file(test::fixture_path("pages/shift_jis.html"));
    CPPUNIT_ASSERT_EQUAL(std::string("windows-1252"), detect_charset(body, "text/html; charset=windows-1252"));
    const std::string html = to_utf8(body, "text/html; charset=windows-1252");
    CPPUNIT_ASSERT(html.find("\xE7\x8C\xAB") == std::string::npos);  // no 猫
    CPPUNIT_ASSERT(html.size() > body.size());                        // every byte became a character
  }

  void metaOnlyInFirst1024Bytes() {
    std::string late = "<!DOCTYPE html><html><head>" + std::string(1100, ' ') + "<meta charset=\"euc-kr\">";
    CPPUNIT_ASSERT_EQUAL(std::string("utf-8"), detect_charset(late, ""));
    std::string early = "<!DOCTYPE html><html><head><meta charset=\"euc-kr\">" + std::string(1100, ' ');
    CPPUNIT_ASSERT_EQUAL(std::string("euc-kr"), detect_charset(early, ""));
  }

  void unknownHeaderLabelFallsThroughToMeta() {
    const std::string body = test::read_file(test::fixture_path("pages/euc-kr.html"));
    CPPUNIT_ASSERT_EQUAL(std::string("euc-kr"), detect_charset(body, "text/html; charset=no-such-charset"));
    CPPUNIT_ASSERT_EQUAL(std::string("utf-8"), detect_charset("<p>x</p>", "text/html; charset=x//TRANSLIT"));
  }

  void latin1AliasesMeanWindows1252() {
    const char* labels[] = {"iso-8859-1", "ISO_8859-1", "latin1", "l1", "us-ascii", "cp1252", "windows-1252"};
    for (const char* label : labels) {
      const std::string ct = std::string("text/html; charset=") + label;
      CPPUNIT_ASSERT_EQUAL_MESSAGE(label, std::string("windows-1252"), detect_charset("x", ct));
      CPPUNIT_ASSERT_EQUAL_MESSAGE(label, std::string("\xE2\x82\xAC \xC3\xA9"), to_utf8("\x80 \xE9", ct));
    }
  }

  void otherIconvCharsets() {
    // Not in the WHATWG table here, but iconv knows them: KOI8-R "привет", ISO-8859-2 "ł".
    CPPUNIT_ASSERT_EQUAL(std::string("\xD0\xBF\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82"),
                         to_utf8("\xD0\xD2\xC9\xD7\xC5\xD4", "text/html; charset=koi8-r"));
    CPPUNIT_ASSERT_EQUAL(std::string("\xC5\x82"), to_utf8("\xB3", "text/html; charset=iso-8859-2"));
    CPPUNIT_ASSERT_EQUAL(std::string("iso-8859-2"), detect_charset("", "text/html; charset=ISO-8859-2"));
  }

  void invalidBytesBecomeReplacementCharacters() {
    // Invalid UTF-8: a lone continuation byte and an overlong encoding; text around them survives.
    CPPUNIT_ASSERT_EQUAL(std::string("a\xEF\xBF\xBD" "b\xEF\xBF\xBD\xEF\xBF\xBD" "c"),
                         to_utf8("a\x80" "b\xC0\xAF" "c", "text/html; charset=utf-8"));
    // Shift_JIS: 0xA0 is not a valid byte in Windows-31J.
    CPPUNIT_ASSERT_EQUAL(std::string("x\xEF\xBF\xBDy"), to_utf8("x\xA0y", "text/html; charset=shift_jis"));
    // windows-1252 0x81 is undefined in glibc's CP1252.
    CPPUNIT_ASSERT_EQUAL(std::string("\xEF\xBF\xBD"), to_utf8("\x81", "text/html; charset=windows-1252"));
  }

  // Found by tests/fuzz/charset_fuzz.cc: glibc's iconv copies the old 5-byte
  // form F8 A1 A1 A1 A1 through as if it were UTF-8; RFC 3629 allows at most
  // 4 bytes, no surrogates (ED A0 80) and nothing above U+10FFFF (F4 90 ...).
  void illFormedUtf8ThatIconvPassesIsRepaired() {
    const std::string r = "\xEF\xBF\xBD";
    CPPUNIT_ASSERT_EQUAL("a" + r + r + r + r + r + "b", to_utf8("a\xF8\xA1\xA1\xA1\xA1" "b", "text/html"));
    CPPUNIT_ASSERT_EQUAL("x" + r + r + r + "y", to_utf8("x\xED\xA0\x80y", "text/html; charset=utf-8"));
    CPPUNIT_ASSERT_EQUAL(r + r + r + r, to_utf8("\xF4\x90\x80\x80", "text/html"));
    // Well-formed 2-, 3- and 4-byte sequences stay as they are.
    CPPUNIT_ASSERT_EQUAL(std::string("\xD1\xB1\xE2\x82\xAC\xF0\x9F\x90\xA6"),
                         to_utf8("\xD1\xB1\xE2\x82\xAC\xF0\x9F\x90\xA6", "text/html"));
  }

  void truncatedMultibyteTail() {
    CPPUNIT_ASSERT_EQUAL(std::string("ok\xEF\xBF\xBD"), to_utf8("ok\xE7\x8C", "text/html; charset=utf-8"));
    CPPUNIT_ASSERT_EQUAL(std::string("ok\xEF\xBF\xBD"), to_utf8("ok\x94", "text/html; charset=shift_jis"));
  }

  void utf16Bom() {
    const std::string le("\xFF\xFE<\0p\0>\0\xE9\0", 10);
    CPPUNIT_ASSERT_EQUAL(std::string("utf-16le"), detect_charset(le, "text/html; charset=utf-8"));
    CPPUNIT_ASSERT_EQUAL(std::string("<p>\xC3\xA9"), to_utf8(le, ""));
    const std::string be("\xFE\xFF\0<\0p\0>\0\xE9", 10);
    CPPUNIT_ASSERT_EQUAL(std::string("<p>\xC3\xA9"), to_utf8(be, ""));
    // A <meta> can't declare UTF-16: the markup it sits in was read as ASCII.
    CPPUNIT_ASSERT_EQUAL(std::string("utf-8"), detect_charset("<meta charset=utf-16>", ""));
  }
  // "Prescan a byte stream to determine its encoding" (HTML §13.2.3.2).
  void prescanFollowsWhatwg() {
    auto meta = [](const std::string& head) { return detect_charset(head, "text/html"); };
    CPPUNIT_ASSERT_EQUAL(std::string("shift_jis"),
                         meta("<!-- <meta charset=\"euc-kr\"> --><meta charset=\"shift_jis\">"));
    CPPUNIT_ASSERT_EQUAL(std::string("koi8-r"),
                         meta("<meta content=\"text/html; charset=koi8-r\" http-equiv=\"Content-Type\">"));
    CPPUNIT_ASSERT_EQUAL(std::string("big5"),
                         meta("<meta http-equiv=content-type content=\"text/html;charset='big5'\">"));
    // content= counts only with http-equiv=content-type.
    CPPUNIT_ASSERT_EQUAL(std::string("utf-8"), meta("<meta content=\"text/html; charset=koi8-r\">"));
    // An unknown label does not count; the next <meta> is looked at.
    CPPUNIT_ASSERT_EQUAL(std::string("euc-kr"), meta("<meta charset=\"no-such\"><meta charset=\"euc-kr\">"));
    CPPUNIT_ASSERT_EQUAL(std::string("windows-1252"), meta("<meta charset=x-user-defined>"));
    CPPUNIT_ASSERT_EQUAL(std::string("euc-kr"), meta("<META CHARSET='EUC-KR'/>"));
    CPPUNIT_ASSERT_EQUAL(std::string("euc-kr"), meta("<meta/charset=euc-kr>"));
    CPPUNIT_ASSERT_EQUAL(std::string("euc-kr"), meta("<p><meta name=x charset = euc-kr>"));
    // Not a <meta>: a longer name, inside an attribute value of another tag, or cut off by the end.
    CPPUNIT_ASSERT_EQUAL(std::string("utf-8"), meta("<metaa charset=euc-kr>"));
    CPPUNIT_ASSERT_EQUAL(std::string("utf-8"), meta("<p title=\"<meta charset=euc-kr>\">"));
    CPPUNIT_ASSERT_EQUAL(std::string("utf-8"), meta("<meta charset=euc-kr"));
    // The first declaration wins, charset= or content= alike.
    CPPUNIT_ASSERT_EQUAL(std::string("koi8-r"),
                         meta("<meta http-equiv=Content-Type content='text/html; charset=koi8-r'>"
                              "<meta charset=euc-kr>"));
  }

  void decoderMatchesToUtf8AtEverySplit() {
    // UTF-8 with a BOM, multi-byte characters, bytes iconv rejects and ill-formed forms it passes, a cut tail.
    assert_decoder_matches(bytes("\xEF\xBB\xBF<p>caf\xC3\xA9 \xE7\x8C\xAB\xF0\x9F\x90\xA6 \x80|\xC0\xAF|"
                                 "\xF8\xA1\xA1\xA1\xA1|\xED\xA0\x80|\xE7\x8Cx|\xF4\x90\x80\x80 end\xE7\x8C"),
                           "text/html");
    assert_decoder_matches(test::read_file(test::fixture_path("pages/shift_jis.html")), "text/html");
    assert_decoder_matches(test::read_file(test::fixture_path("pages/euc-kr.html")).substr(0, 120) + "\xB0", "");
    // UTF-16LE with a BOM, a surrogate pair and an odd byte at the end; UTF-16BE declared by the header.
    assert_decoder_matches(bytes("\xFF\xFE<\0p\0>\0\xE9\0\x3D\xD8\x00\xDE\x00\xD8z\0!"), "text/html");
    assert_decoder_matches(bytes("\0<\0p\0>\0\xE9\xD8\x3D\xDE\x00"), "text/html; charset=utf-16be");
    // ISO-2022-JP: escape sequences switch the state ("日本" then ASCII), one is cut at the end.
    assert_decoder_matches("\x1B$B\x46\x7C\x4B\x5C\x1B(Bok\x1B$B\x46", "text/html; charset=iso-2022-jp");
    assert_decoder_matches("caf\xE9 \x80 \x81|\x9D", "text/html; charset=windows-1252");
    assert_decoder_matches("", "text/html");
    assert_decoder_matches("\xEF\xBB", "text/html");  // shorter than a BOM
  }

  void decoderDropsBomSplitAcrossFeeds() {
    CPPUNIT_ASSERT_EQUAL(std::string("<p>x"), decode_pieces("utf-8", {"\xEF", "\xBB", "\xBF<p>x"}));
    CPPUNIT_ASSERT_EQUAL(std::string("<p>"), decode_pieces("utf-16le", {"\xFF", std::string_view("\xFE<\0p\0>\0", 7)}));
    // Only at the start: a BOM later is the character U+FEFF.
    CPPUNIT_ASSERT_EQUAL(std::string("a\xEF\xBB\xBF"), decode_pieces("utf-8", {"a", "\xEF\xBB\xBF"}));
    // A piece that is exactly the BOM ends the start: a second BOM in the next piece is U+FEFF (found by
    // fuzz_charset: "\xFF\xFE" then "\xFF\xFE<\0" lost the second one).
    CPPUNIT_ASSERT_EQUAL(std::string("\xEF\xBB\xBF<"),
                         decode_pieces("utf-16le", {"\xFF\xFE", std::string_view("\xFF\xFE<\0", 4)}));
    CPPUNIT_ASSERT_EQUAL(std::string("\xEF\xBB\xBFx"), decode_pieces("utf-8", {"\xEF\xBB\xBF", "\xEF\xBB\xBFx"}));
    // Another encoding's BOM is content.
    CPPUNIT_ASSERT_EQUAL(std::string("\xC3\xAF\xC2\xBB\xC2\xBFx"), decode_pieces("windows-1252", {"\xEF\xBB\xBFx"}));
  }

  void decoderEndsEachCallOnACharacter() {
    Utf8Decoder decoder("utf-8");
    std::string out;
    decoder.feed("ok\xE7\x8C", out);
    CPPUNIT_ASSERT_EQUAL(std::string("ok"), out);  // the cut character waits
    decoder.feed("\xAB!", out);
    CPPUNIT_ASSERT_EQUAL(std::string("ok\xE7\x8C\xAB!"), out);
    decoder.feed("\xE7", out);
    decoder.finish(out);
    CPPUNIT_ASSERT_EQUAL(std::string("ok\xE7\x8C\xAB!\xEF\xBF\xBD"), out);  // cut by the end: U+FFFD
    Utf8Decoder sjis("shift_jis");
    std::string jp;
    sjis.feed("\x94", jp);
    CPPUNIT_ASSERT_EQUAL(std::string(), jp);
    sjis.feed("\x4C", jp);
    CPPUNIT_ASSERT_EQUAL(std::string("\xE7\x8C\xAB"), jp);  // 猫
  }

  // The engine's case: a large body decoded 64 KiB at a time, chunk ends falling inside characters.
  void decoderTwentyMegabytesIn64KiBChunks() {
    const std::pair<std::string, std::string> bodies[] = {
        {"utf-8", "<p>caf\xC3\xA9 \xE7\x8C\xAB\xF0\x9F\x90\xA6 \xE2\x82\xAC\xFF x</p>\n"},
        {"shift_jis", test::read_file(test::fixture_path("pages/shift_jis.html"))},
        {"utf-16le", bytes("<\0p\0>\0\xE9\0\x3D\xD8\x00\xDE\n\0")},
    };
    for (const auto& [charset, unit] : bodies) {
      std::string body;
      while (body.size() < (size_t{20} << 20)) body += unit;
      const std::string expected = to_utf8(body, "text/html; charset=" + charset);
      Utf8Decoder decoder(charset);
      std::string out, chunk;
      for (size_t pos = 0; pos < body.size(); pos += 65536) {
        chunk.clear();
        decoder.feed(std::string_view(body).substr(pos, 65536), chunk);
        out += chunk;
      }
      decoder.finish(out);
      CPPUNIT_ASSERT_EQUAL_MESSAGE(charset, expected.size(), out.size());
      CPPUNIT_ASSERT_MESSAGE(charset, expected == out);
    }
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(CharsetTest);

}  // namespace kestrel::crawler
