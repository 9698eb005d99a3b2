// URL resolution and normalization (url.h): RFC 3986 §5.4 reference resolution examples, the
// normalizations the crawler relies on for de-duplication, IDN hosts, and rejection of what it can't fetch.
#include <cppunit/extensions/HelperMacros.h>

#include <string>
#include <vector>

#include "url.h"

namespace kestrel::crawler {

class UrlTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(UrlTest);
  CPPUNIT_TEST(resolvesRfc3986NormalExamples);
  CPPUNIT_TEST(resolvesRfc3986AbnormalExamples);
  CPPUNIT_TEST(resolvesFragmentAndEmptyToTheBase);
  CPPUNIT_TEST(trimsWhitespaceAndDropsTabsAndNewlines);
  CPPUNIT_TEST(lowercasesSchemeAndHost);
  CPPUNIT_TEST(dropsDefaultPortsKeepsOthers);
  CPPUNIT_TEST(dropsFragment);
  CPPUNIT_TEST(removesDotSegmentsIncludingEncodedOnes);
  CPPUNIT_TEST(canonicalizesPercentEncoding);
  CPPUNIT_TEST(encodesSpacesAndNonAscii);
  CPPUNIT_TEST(convertsIdnHostsToPunycode);
  CPPUNIT_TEST(emptyPathBecomesSlash);
  CPPUNIT_TEST(isIdempotent);
  CPPUNIT_TEST(rejectsNonHttpSchemes);
  CPPUNIT_TEST(rejectsGarbage);
  CPPUNIT_TEST(resolveRejectsBadBase);
  CPPUNIT_TEST(originOf);
  CPPUNIT_TEST(pathAndQuery);
  CPPUNIT_TEST(filenameOf);
  CPPUNIT_TEST(percentEncodedHostIsDecodedOrRefused);
  CPPUNIT_TEST(memoizedResolutionMatchesResolveUrl);
  CPPUNIT_TEST(normalizedOriginMatchesOriginOf);
  CPPUNIT_TEST_SUITE_END();

 public:
  // RFC 3986 §5.4.1, base "http://a/b/c/d;p?q" (the "g:h" example is a foreign scheme, tested below).
  void resolvesRfc3986NormalExamples() {
    const std::string base = "http://a/b/c/d;p?q";
    const std::pair<const char*, const char*> cases[] = {
        {"g", "http://a/b/c/g"},           {"./g", "http://a/b/c/g"},       {"g/", "http://a/b/c/g/"},
        {"/g", "http://a/g"},              {"//g", "http://g/"},            {"?y", "http://a/b/c/d;p?y"},
        {"g?y", "http://a/b/c/g?y"},       {"#s", "http://a/b/c/d;p?q"},    {"g#s", "http://a/b/c/g"},
        {"g?y#s", "http://a/b/c/g?y"},     {";x", "http://a/b/c/;x"},       {"g;x", "http://a/b/c/g;x"},
        {"g;x?y#s", "http://a/b/c/g;x?y"}, {"", "http://a/b/c/d;p?q"},      {".", "http://a/b/c/"},
        {"./", "http://a/b/c/"},           {"..", "http://a/b/"},           {"../", "http://a/b/"},
        {"../g", "http://a/b/g"},          {"../..", "http://a/"},          {"../../", "http://a/"},
        {"../../g", "http://a/g"},
    };
    for (const auto& [ref, expected] : cases) {
      std::string error;
      const auto got = resolve_url(base, ref, &error);
      CPPUNIT_ASSERT_MESSAGE(std::string(ref) + ": " + error, got.has_value());
      CPPUNIT_ASSERT_EQUAL_MESSAGE(ref, std::string(expected), *got);
    }
  }

  // RFC 3986 §5.4.2 (strict parser results).
  void resolvesRfc3986AbnormalExamples() {
    const std::string base = "http://a/b/c/d;p?q";
    const std::pair<const char*, const char*> cases[] = {
        {"../../../g", "http://a/g"},   {"../../../../g", "http://a/g"}, {"/./g", "http://a/g"},
        {"/../g", "http://a/g"},        {"g.", "http://a/b/c/g."},       {".g", "http://a/b/c/.g"},
        {"g..", "http://a/b/c/g.."},    {"..g", "http://a/b/c/..g"},     {"./../g", "http://a/b/g"},
        {"./g/.", "http://a/b/c/g/"},   {"g/./h", "http://a/b/c/g/h"},   {"g/../h", "http://a/b/c/h"},
        {"g;x=1/./y", "http://a/b/c/g;x=1/y"}, {"g;x=1/../y", "http://a/b/c/y"},
        {"g?y/./x", "http://a/b/c/g?y/./x"},   {"g?y/../x", "http://a/b/c/g?y/../x"},
        {"g#s/./x", "http://a/b/c/g"},         {"g#s/../x", "http://a/b/c/g"},
    };
    for (const auto& [ref, expected] : cases) {
      std::string error;
      const auto got = resolve_url(base, ref, &error);
      CPPUNIT_ASSERT_MESSAGE(std::string(ref) + ": " + error, got.has_value());
      CPPUNIT_ASSERT_EQUAL_MESSAGE(ref, std::string(expected), *got);
    }
  }

  void resolvesFragmentAndEmptyToTheBase() {
    CPPUNIT_ASSERT_EQUAL(std::string("http://x.org/a/b.html?q=1"),
                         resolve_url("http://x.org/a/b.html?q=1#old", "#top").value_or("?"));
    CPPUNIT_ASSERT_EQUAL(std::string("http://x.org/a/b.html"), resolve_url("http://x.org/a/b.html", "  ").value_or("?"));
  }

  void trimsWhitespaceAndDropsTabsAndNewlines() {
    CPPUNIT_ASSERT_EQUAL(std::string("http://x.org/dir/img.png"),
                         resolve_url("http://x.org/dir/", " \n\timg.png \r\n").value_or("?"));
    CPPUNIT_ASSERT_EQUAL(std::string("http://x.org/dir/image.png"),
                         resolve_url("http://x.org/dir/", "ima\nge.png").value_or("?"));
    CPPUNIT_ASSERT_EQUAL(std::string("https://y.org/"), resolve_url("http://x.org/", "  https://y.org ").value_or("?"));
  }

  void lowercasesSchemeAndHost() {
    CPPUNIT_ASSERT_EQUAL(std::string("http://www.example.com/Path/File.HTML"),
                         normalize_url("HTTP://WWW.Example.COM/Path/File.HTML").value_or("?"));
  }

  void dropsDefaultPortsKeepsOthers() {
    CPPUNIT_ASSERT_EQUAL(std::string("http://x.org/"), normalize_url("http://x.org:80/").value_or("?"));
    CPPUNIT_ASSERT_EQUAL(std::string("https://x.org/"), normalize_url("https://x.org:443/").value_or("?"));
    CPPUNIT_ASSERT_EQUAL(std::string("http://x.org:443/"), normalize_url("http://x.org:443/").value_or("?"));
    CPPUNIT_ASSERT_EQUAL(std::string("https://x.org:8443/a"), normalize_url("https://x.org:8443/a").value_or("?"));
  }

  void dropsFragment() {
    CPPUNIT_ASSERT_EQUAL(std::string("http://x.org/p?a=1"), normalize_url("http://x.org/p?a=1#sec-2").value_or("?"));
  }

  void removesDotSegmentsIncludingEncodedOnes() {
    CPPUNIT_ASSERT_EQUAL(std::string("http://x.org/a/c"), normalize_url("http://x.org/a/./b/../c").value_or("?"));
    CPPUNIT_ASSERT_EQUAL(std::string("http://x.org/a/c"), normalize_url("http://x.org/a/b/%2e%2E/c").value_or("?"));
    CPPUNIT_ASSERT_EQUAL(std::string("http://x.org/"), normalize_url("http://x.org/../../..").value_or("?"));
  }

  void canonicalizesPercentEncoding() {
    // Unreserved characters decoded, hex upper-cased, reserved ones left encoded, stray '%' encoded.
    CPPUNIT_ASSERT_EQUAL(std::string("http://x.org/~user/a%2Fb%3F?q=a%3Db&r=~-_.%26"),
                         normalize_url("http://x.org/%7Euser/a%2fb%3f?q=a%3db&r=%7E%2D%5F%2E%26").value_or("?"));
    CPPUNIT_ASSERT_EQUAL(std::string("http://x.org/100%25/%25zz"), normalize_url("http://x.org/100%/%zz").value_or("?"));
  }

  void encodesSpacesAndNonAscii() {
    CPPUNIT_ASSERT_EQUAL(std::string("http://x.org/dir/a%20b.png"),
                         resolve_url("http://x.org/dir/", "a b.png").value_or("?"));
    CPPUNIT_ASSERT_EQUAL(std::string("http://x.org/%C3%A9t%C3%A9.png?q=%C3%A9"),
                         normalize_url("http://x.org/\xC3\xA9t\xC3\xA9.png?q=\xC3\xA9").value_or("?"));
    CPPUNIT_ASSERT_EQUAL(std::string("http://x.org/a%22%3C%3E%60%7B%7D"),
                         normalize_url("http://x.org/a\"<>`{}").value_or("?"));
  }

  void convertsIdnHostsToPunycode() {
    CPPUNIT_ASSERT_EQUAL(std::string("http://xn--bcher-kva.example/"),
                         normalize_url("http://b\xC3\xBC" "cher.example/").value_or("?"));
    // Upper-case non-ASCII is case-folded by UTS #46 mapping.
    CPPUNIT_ASSERT_EQUAL(std::string("http://xn--bcher-kva.example/x"),
                         normalize_url("http://B\xC3\x9C" "CHER.Example/x").value_or("?"));
    CPPUNIT_ASSERT_EQUAL(std::string("https://xn--bcher-kva.example/"),
                         normalize_url("https://xn--bcher-kva.example/").value_or("?"));
    // A host that UTS #46 maps to nothing (soft hyphens) is no host, also as a
    // reference (found by fuzz_url: the path then became the host).
    CPPUNIT_ASSERT(!normalize_url("http://\xC2\xAD/x").has_value());
    CPPUNIT_ASSERT(!normalize_url("http://\xC2\xAD.\xC2\xAD/x").has_value());
    CPPUNIT_ASSERT(!resolve_url("http://example.test/a", "http://\xC2\xAD/\xACS/x").has_value());
  }

  void emptyPathBecomesSlash() {
    CPPUNIT_ASSERT_EQUAL(std::string("http://x.org/"), normalize_url("http://x.org").value_or("?"));
    CPPUNIT_ASSERT_EQUAL(std::string("http://x.org/?a"), normalize_url("http://x.org?a").value_or("?"));
  }

  void isIdempotent() {
    const char* urls[] = {"HTTP://B\xC3\x9C" "CHER.example:80/%7e/a b/%2e%2e/c?q=%zz#f", "http://x.org/100%",
                          "https://u:p@x.org:8443/a%2Fb?x=\xC3\xA9"};
    for (const char* url : urls) {
      const auto once = normalize_url(url);
      CPPUNIT_ASSERT_MESSAGE(url, once.has_value());
      CPPUNIT_ASSERT_EQUAL(*once, normalize_url(*once).value_or("?"));
    }
  }

  void rejectsNonHttpSchemes() {
    const char* refs[] = {"ftp://x.org/file", "javascript:alert(1)", "mailto:a@b.org", "data:image/png;base64,AAAA",
                          "file:///etc/passwd", "g:h"};
    for (const char* ref : refs) {
      std::string error;
      CPPUNIT_ASSERT_MESSAGE(ref, !resolve_url("http://a/b", ref, &error).has_value());
      CPPUNIT_ASSERT_MESSAGE(ref + std::string(" -> ") + error, error.find("unsupported scheme") != std::string::npos);
      error.clear();
      CPPUNIT_ASSERT_MESSAGE(ref, !normalize_url(ref, &error).has_value());
      CPPUNIT_ASSERT_MESSAGE(ref, !error.empty());
    }
  }

  void rejectsGarbage() {
    const char* urls[] = {"", "not a url", "/relative/path", "http://", "http://x.org:99999/", "http://x.org:port/",
                          "http://exa mple.org/", "http://[::1/"};
    for (const char* url : urls) {
      std::string error;
      const auto got = normalize_url(url, &error);
      CPPUNIT_ASSERT_MESSAGE(std::string(url) + " -> " + got.value_or(""), !got.has_value());
      CPPUNIT_ASSERT_MESSAGE(url, !error.empty());
    }
    std::string error;
    CPPUNIT_ASSERT(!resolve_url("http://x.org/", "http://x.org:99999/", &error).has_value());
    CPPUNIT_ASSERT(error.find("x.org:99999") != std::string::npos);
  }

  void resolveRejectsBadBase() {
    std::string error;
    CPPUNIT_ASSERT(!resolve_url("ftp://x.org/", "a.png", &error).has_value());
    CPPUNIT_ASSERT(error.find("bad base URL") != std::string::npos);
  }

  void originOf() {
    CPPUNIT_ASSERT_EQUAL(std::string("http://x.org"), origin_of("http://X.org:80/a/b?c"));
    CPPUNIT_ASSERT_EQUAL(std::string("https://x.org:8443"), origin_of("https://user@x.org:8443/"));
    CPPUNIT_ASSERT_EQUAL(std::string("http://xn--bcher-kva.example"), origin_of("http://b\xC3\xBC" "cher.example/"));
    CPPUNIT_ASSERT_EQUAL(std::string(""), origin_of("garbage"));
  }

  void pathAndQuery() {
    CPPUNIT_ASSERT_EQUAL(std::string("/"), path_and_query("http://x.org"));
    CPPUNIT_ASSERT_EQUAL(std::string("/a/b?c=d&e"), path_and_query("http://x.org/a/b?c=d&e#frag"));
    CPPUNIT_ASSERT_EQUAL(std::string("/?x"), path_and_query("http://x.org?x"));
  }

  void filenameOf() {
    CPPUNIT_ASSERT_EQUAL(std::string("photo 1.jpg"), filename_of("http://x.org/img/photo%201.jpg?size=2"));
    CPPUNIT_ASSERT_EQUAL(std::string(""), filename_of("http://x.org/img/"));
    // Decoded only when the bytes are UTF-8 (the catalog refuses anything else).
    CPPUNIT_ASSERT_EQUAL(std::string("caf\xC3\xA9.png"), filename_of("http://x.org/caf%C3%A9.png"));
    CPPUNIT_ASSERT_EQUAL(std::string("caf%E9.png"), filename_of("http://x.org/caf%E9.png"));
    CPPUNIT_ASSERT_EQUAL(std::string(""), filename_of("http://x.org"));
    CPPUNIT_ASSERT_EQUAL(std::string("\xC3\xA9t\xC3\xA9.png"), filename_of("http://x.org/%C3%A9t%C3%A9.png"));
  }

  // Found by tests/fuzz/url_fuzz.cc: a percent-encoded host must come out in
  // one canonical form (decoded, lower-case), so that normalizing twice is a no-op.
  void percentEncodedHostIsDecodedOrRefused() {
    CPPUNIT_ASSERT_EQUAL(std::string("http://example.net/"), *normalize_url("http://EXAMPLE.%4Eet/"));
    const auto once = resolve_url("http://example.test/", "http://B\xC3\xBC" "cler.e.%4%45/x");
    CPPUNIT_ASSERT(once);
    CPPUNIT_ASSERT_EQUAL(std::string("http://xn--bcler-kva.e.n/x"), *once);
    CPPUNIT_ASSERT_EQUAL(*once, *normalize_url(*once));
    CPPUNIT_ASSERT(!normalize_url("http://a%2Fb.example/"));  // decodes to a '/' in the host
    CPPUNIT_ASSERT_EQUAL(std::string("http://[::1]:8080/"), *normalize_url("http://[::1]:8080/"));
  }

  // The memo is keyed on the base's directory: bases that differ in scheme, userinfo, host, port or
  // directory, taken in turns, must each get resolve_url's answer, from the memo as well as without it.
  void memoizedResolutionMatchesResolveUrl() {
    const std::vector<std::string> bases = {
        "http://a.test/x/p.html", "http://a.test/y/p.html",     "http://b.test/x/p.html",
        "https://a.test/x/p.html", "http://a.test:8080/x/p.html", "http://u@a.test/x/p.html",
        "http://a.test/x/q.html?z=/w/", "http://a.test/x/",      "http://a.test/",
        "http://a.test/x/y/z.html"};
    const std::vector<std::string> refs = {"img.png", "../up.png", "/root.png", "//c.test/z.png", "https://d.test/",
                                           "./", "..", "g;x?y", "#frag", "?q", "", " sp.png", "a b.png",
                                           "ftp://e.test/", "http://[bad"};
    for (int round = 0; round < 2; ++round) {
      for (const auto& ref : refs) {
        for (const auto& base : bases) {
          std::string want_error, got_error;
          const auto want = resolve_url(base, ref, &want_error);
          const auto got = resolve_url_memoized(base, ref, &got_error);
          const std::string what = base + " + '" + ref + "'";
          CPPUNIT_ASSERT_EQUAL_MESSAGE(what, want.value_or("(none)"), got.value_or("(none)"));
          CPPUNIT_ASSERT_EQUAL_MESSAGE(what, want_error, got_error);
        }
      }
    }
  }

  void normalizedOriginMatchesOriginOf() {
    for (const char* raw : {"http://X.org:80/a/b?c", "https://user:pw@x.org:8443/p", "http://b\xC3\xBC" "cher.example/",
                            "http://[::1]:8080/x", "http://x.org?q=/a", "http://127.0.0.1:18080/images/a.png",
                            "https://a%40b@c.test/"}) {
      const auto url = normalize_url(raw);
      CPPUNIT_ASSERT_MESSAGE(raw, url.has_value());
      CPPUNIT_ASSERT_EQUAL_MESSAGE(*url, origin_of(*url), normalized_origin(*url));
    }
    CPPUNIT_ASSERT_EQUAL(std::string(""), normalized_origin("garbage"));
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(UrlTest);

}  // namespace kestrel::crawler
