// Charset detection and conversion (charset.h): BOMs, the Content-Type parameter, <meta> prescan, the
// WHATWG label aliases, and replacement of undecodable bytes (never an exception, never lost text).
#include <cppunit/extensions/HelperMacros.h>

#include <string>

#include "charset.h"
#include "fixture_files.h"

namespace kestrel::crawler {

class CharsetTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(CharsetTest);
  CPPUNIT_TEST(contentTypeParameter);
  CPPUNIT_TEST(utf8IsTheDefault);
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
};

CPPUNIT_TEST_SUITE_REGISTRATION(CharsetTest);

}  // namespace kestrel::crawler
