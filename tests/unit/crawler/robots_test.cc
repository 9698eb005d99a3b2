// robots.txt (robots.h) case by case against RFC 9309: the §5 examples, the §2.2.2 percent-encoding table
// and the §2.2.3 special characters, group merging, product-token matching and the "*" fallback.
#include <cppunit/extensions/HelperMacros.h>

#include <string>

#include "robots.h"
#include "url.h"

namespace kestrel::crawler {

namespace {

// RFC 9309 §5.1.
const char kSimpleExample[] =
    "User-Agent: *\n"
    "Disallow: *.gif$\n"
    "Disallow: /example/\n"
    "Allow: /publications/\n"
    "\n"
    "User-Agent: foobot\n"
    "Disallow:/\n"
    "Allow:/example/page.html\n"
    "Allow:/example/allowed.gif\n"
    "\n"
    "User-Agent: barbot\n"
    "User-Agent: bazbot\n"
    "Disallow: /example/page.html\n"
    "\n"
    "User-Agent: quxbot\n"
    "\n"
    "EOF\n";

}  // namespace

class RobotsTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(RobotsTest);
  CPPUNIT_TEST(simpleExampleFoobot);
  CPPUNIT_TEST(simpleExampleBarbotAndBazbot);
  CPPUNIT_TEST(simpleExampleQuxbotHasNoRules);
  CPPUNIT_TEST(simpleExampleOthersUseStarGroup);
  CPPUNIT_TEST(longestMatch);
  CPPUNIT_TEST(allowWinsATie);
  CPPUNIT_TEST(productTokenIsCaseInsensitiveAndPrefixOnly);
  CPPUNIT_TEST(groupsForTheSameAgentAreMerged);
  CPPUNIT_TEST(noMatchingGroupAndNoStarMeansAllowed);
  CPPUNIT_TEST(specialCharacters);
  CPPUNIT_TEST(percentEncodingTable);
  CPPUNIT_TEST(encodedSpecialCharactersMatchLiterally);
  CPPUNIT_TEST(commentsCaseAndLineEndings);
  CPPUNIT_TEST(emptyDisallowAllowsEverything);
  CPPUNIT_TEST(robotsTxtIsAlwaysAllowed);
  CPPUNIT_TEST(crawlDelayAndSitemaps);
  CPPUNIT_TEST(allowAllAndDisallowAll);
  CPPUNIT_TEST(stopsAt500KiB);
  CPPUNIT_TEST(worksWithPathAndQueryOfUrls);
  CPPUNIT_TEST_SUITE_END();

 public:
  void simpleExampleFoobot() {
    const auto r = RobotsRules::parse(kSimpleExample, "foobot");
    CPPUNIT_ASSERT(r.allowed("/example/page.html"));
    CPPUNIT_ASSERT(r.allowed("/example/allowed.gif"));
    CPPUNIT_ASSERT(!r.allowed("/"));
    CPPUNIT_ASSERT(!r.allowed("/example/"));
    CPPUNIT_ASSERT(!r.allowed("/publications/"));
    CPPUNIT_ASSERT(r.allowed("/example/page.html.bak"));  // rules are prefixes: the 18-octet allow wins
  }

  void simpleExampleBarbotAndBazbot() {
    for (const char* bot : {"barbot", "bazbot"}) {
      const auto r = RobotsRules::parse(kSimpleExample, bot);
      CPPUNIT_ASSERT_MESSAGE(bot, !r.allowed("/example/page.html"));
      CPPUNIT_ASSERT_MESSAGE(bot, r.allowed("/example/other.html"));
      CPPUNIT_ASSERT_MESSAGE(bot, r.allowed("/image.gif"));  // the "*" group's rules don't apply to them
    }
  }

  void simpleExampleQuxbotHasNoRules() {
    const auto r = RobotsRules::parse(kSimpleExample, "quxbot");
    CPPUNIT_ASSERT(r.allowed("/example/page.html"));
    CPPUNIT_ASSERT(r.allowed("/image.gif"));
    CPPUNIT_ASSERT(r.allowed("/"));
  }

  void simpleExampleOthersUseStarGroup() {
    const auto r = RobotsRules::parse(kSimpleExample, "KestrelBot");
    CPPUNIT_ASSERT(!r.allowed("/image.gif"));
    CPPUNIT_ASSERT(r.allowed("/image.gif?x=1"));  // "$" anchors the end
    CPPUNIT_ASSERT(!r.allowed("/example/"));
    CPPUNIT_ASSERT(!r.allowed("/example/page.html"));
    CPPUNIT_ASSERT(r.allowed("/publications/"));
    CPPUNIT_ASSERT(r.allowed("/publications/cover.gif"));  // allow "/publications/" (14 octets) beats "*.gif$" (6)
    CPPUNIT_ASSERT(!r.allowed("/images/cover.gif"));
  }

  // RFC 9309 §5.2.
  void longestMatch() {
    const auto r = RobotsRules::parse(
        "User-Agent: foobot\n"
        "Allow: /example/page/\n"
        "Disallow: /example/page/disallowed.gif\n",
        "foobot");
    CPPUNIT_ASSERT(r.allowed("/example/page/"));
    CPPUNIT_ASSERT(r.allowed("/example/page/other.gif"));
    CPPUNIT_ASSERT(!r.allowed("/example/page/disallowed.gif"));
    CPPUNIT_ASSERT(r.allowed("/example/"));  // no rule matches
  }

  void allowWinsATie() {
    const auto r = RobotsRules::parse("user-agent: *\ndisallow: /page\nallow: /page\n", "x");
    CPPUNIT_ASSERT(r.allowed("/page"));
    const auto r2 = RobotsRules::parse("user-agent: *\nallow: /pag*\ndisallow: /page\n", "x");
    CPPUNIT_ASSERT(r2.allowed("/page"));  // both five octets
  }

  void productTokenIsCaseInsensitiveAndPrefixOnly() {
    const char* body =
        "User-agent: ExampleBot/1.0 (+https://example.org)\n"
        "Disallow: /private\n"
        "User-agent: *\n"
        "Disallow: /\n";
    CPPUNIT_ASSERT(RobotsRules::parse(body, "examplebot").allowed("/public"));
    CPPUNIT_ASSERT(RobotsRules::parse(body, "EXAMPLEBOT/2.3").allowed("/public"));
    CPPUNIT_ASSERT(!RobotsRules::parse(body, "ExampleBot").allowed("/private/x"));
    CPPUNIT_ASSERT(!RobotsRules::parse(body, "ExampleBotNext").allowed("/public"));  // not a match: "*" group
    CPPUNIT_ASSERT(!RobotsRules::parse(body, "Example").allowed("/public"));
  }

  // RFC 9309 §2.2.1: groups for the same product token are combined.
  void groupsForTheSameAgentAreMerged() {
    const auto r = RobotsRules::parse(
        "user-agent: ExampleBot\n"
        "disallow: /foo\n"
        "disallow: /bar\n"
        "\n"
        "user-agent: OtherBot\n"
        "disallow: /other\n"
        "\n"
        "user-agent: ExampleBot\n"
        "disallow: /baz\n",
        "ExampleBot");
    CPPUNIT_ASSERT(!r.allowed("/foo"));
    CPPUNIT_ASSERT(!r.allowed("/bar"));
    CPPUNIT_ASSERT(!r.allowed("/baz"));
    CPPUNIT_ASSERT(r.allowed("/other"));
    CPPUNIT_ASSERT(r.allowed("/qux"));
  }

  void noMatchingGroupAndNoStarMeansAllowed() {
    const auto r = RobotsRules::parse("user-agent: onlybot\ndisallow: /\n", "KestrelBot");
    CPPUNIT_ASSERT(r.allowed("/"));
    CPPUNIT_ASSERT(r.allowed("/anything"));
    CPPUNIT_ASSERT(RobotsRules::parse("disallow: /\n", "KestrelBot").allowed("/x"));  // rule outside any group
    CPPUNIT_ASSERT(RobotsRules::parse("", "KestrelBot").allowed("/x"));
  }

  // RFC 9309 §2.2.3.
  void specialCharacters() {
    const auto r = RobotsRules::parse(
        "user-agent: *\n"
        "disallow: /\n"
        "allow: /this/path/exactly$ # comment in line\n"
        "allow: /this/*/exactly\n",
        "x");
    CPPUNIT_ASSERT(r.allowed("/this/path/exactly"));
    CPPUNIT_ASSERT(r.allowed("/this/other/path/exactly"));
    CPPUNIT_ASSERT(r.allowed("/this/x/exactly/and/more"));  // the "*" rule is a prefix rule
    CPPUNIT_ASSERT(r.allowed("/this/path/exactly/more"));   // not by the "$" rule, but by the "*" one
    CPPUNIT_ASSERT(!r.allowed("/this/path/exact"));
    CPPUNIT_ASSERT(!r.allowed("/this/exactly"));
  }

  // RFC 9309 §2.2.2 table: robots.txt paths and URL paths compare after percent-encoding normalization.
  void percentEncodingTable() {
    auto disallowed = [](const std::string& rule, const std::string& path) {
      return !RobotsRules::parse("user-agent: *\ndisallow: " + rule + "\n", "x").allowed(path);
    };
    CPPUNIT_ASSERT(disallowed("/foo/bar?baz=quz", "/foo/bar?baz=quz"));
    CPPUNIT_ASSERT(disallowed("/foo/bar?baz=https://foo.bar", "/foo/bar?baz=https%3A%2F%2Ffoo.bar"));
    CPPUNIT_ASSERT(disallowed("/foo/bar/\xE3\x83\x84", "/foo/bar/%E3%83%84"));
    CPPUNIT_ASSERT(disallowed("/foo/bar/%E3%83%84", "/foo/bar/%E3%83%84"));
    CPPUNIT_ASSERT(disallowed("/foo/bar/%62%61%7A", "/foo/bar/baz"));
    CPPUNIT_ASSERT(disallowed("/foo/bar/%e3%83%84", "/foo/bar/%E3%83%84"));  // hex case
    CPPUNIT_ASSERT(!disallowed("/foo/bar/%E3%83%85", "/foo/bar/%E3%83%84"));
  }

  void encodedSpecialCharactersMatchLiterally() {
    auto disallowed = [](const std::string& rule, const std::string& path) {
      return !RobotsRules::parse("user-agent: *\ndisallow: " + rule + "\n", "x").allowed(path);
    };
    CPPUNIT_ASSERT(disallowed("/path/file-with-a-%2A.html", "/path/file-with-a-*.html"));
    CPPUNIT_ASSERT(!disallowed("/path/file-with-a-%2A.html", "/path/file-with-a-b.html"));
    CPPUNIT_ASSERT(disallowed("/path/foo-%24", "/path/foo-$"));
    CPPUNIT_ASSERT(!disallowed("/path/foo-%24", "/path/foo-"));
  }

  void commentsCaseAndLineEndings() {
    const auto r = RobotsRules::parse(
        "# a comment line\r\n"
        "USER-AGENT : *   # trailing comment\r"
        "DisAllow:/private # secret\r\n"
        "unknown-key: whatever\n"
        "no colon on this line\n"
        "Allow: /private/public\n",
        "x");
    CPPUNIT_ASSERT(!r.allowed("/private/x"));
    CPPUNIT_ASSERT(r.allowed("/private/public/y"));
    CPPUNIT_ASSERT(r.allowed("/# a comment line"));
    // Paths are case-sensitive.
    CPPUNIT_ASSERT(r.allowed("/Private/x"));
  }

  void emptyDisallowAllowsEverything() {
    const auto r = RobotsRules::parse("User-agent: *\nDisallow:\n", "x");
    CPPUNIT_ASSERT(r.allowed("/"));
    CPPUNIT_ASSERT(r.allowed("/anything/at/all"));
  }

  void robotsTxtIsAlwaysAllowed() {
    const auto r = RobotsRules::parse("User-agent: *\nDisallow: /\n", "x");
    CPPUNIT_ASSERT(r.allowed("/robots.txt"));
    CPPUNIT_ASSERT(!r.allowed("/robots.txt.bak"));
  }

  void crawlDelayAndSitemaps() {
    const auto r = RobotsRules::parse(
        "Sitemap: https://example.org/sitemap.xml\n"
        "User-agent: slowbot\n"
        "Crawl-delay: 2.5\n"
        "User-agent: *\n"
        "Crawl-delay: 10\n"
        "Disallow: /tmp\n"
        "Sitemap: https://example.org/sitemap-2.xml # the second\n",
        "slowbot");
    CPPUNIT_ASSERT_EQUAL(uint32_t(2500), r.crawl_delay_ms());
    CPPUNIT_ASSERT(r.allowed("/tmp"));
    CPPUNIT_ASSERT_EQUAL(size_t(2), r.sitemaps().size());
    CPPUNIT_ASSERT_EQUAL(std::string("https://example.org/sitemap.xml"), r.sitemaps()[0]);
    CPPUNIT_ASSERT_EQUAL(std::string("https://example.org/sitemap-2.xml"), r.sitemaps()[1]);
    const auto other = RobotsRules::parse("User-agent: *\nCrawl-delay: 10\n", "x");
    CPPUNIT_ASSERT_EQUAL(uint32_t(10000), other.crawl_delay_ms());
    CPPUNIT_ASSERT_EQUAL(uint32_t(0), RobotsRules::parse("User-agent: *\nCrawl-delay: soon\n", "x").crawl_delay_ms());
    CPPUNIT_ASSERT_EQUAL(uint32_t(0), RobotsRules::parse("User-agent: *\nCrawl-delay: -1\n", "x").crawl_delay_ms());
  }

  void allowAllAndDisallowAll() {
    CPPUNIT_ASSERT(RobotsRules::allow_all().allowed("/anything"));
    CPPUNIT_ASSERT(!RobotsRules::disallow_all().allowed("/anything"));
    CPPUNIT_ASSERT(!RobotsRules::disallow_all().allowed("/"));
    CPPUNIT_ASSERT_EQUAL(uint32_t(0), RobotsRules::allow_all().crawl_delay_ms());
    CPPUNIT_ASSERT(RobotsRules::allow_all().sitemaps().empty());
  }

  void stopsAt500KiB() {
    std::string body = "User-agent: *\nDisallow: /early\n";
    body += std::string(500 * 1024, '#');
    body += "\nDisallow: /late\n";
    const auto r = RobotsRules::parse(body, "x");
    CPPUNIT_ASSERT(!r.allowed("/early"));
    CPPUNIT_ASSERT(r.allowed("/late"));
  }

  void worksWithPathAndQueryOfUrls() {
    const auto r = RobotsRules::parse("User-agent: *\nDisallow: /*?sessionid=\nDisallow: /~joe/\n", "x");
    CPPUNIT_ASSERT(!r.allowed(path_and_query("http://x.org/list?sessionid=42#top")));
    CPPUNIT_ASSERT(r.allowed(path_and_query("http://x.org/list?page=2")));
    CPPUNIT_ASSERT(!r.allowed(path_and_query(normalize_url("http://x.org/%7Ejoe/index.html").value_or(""))));
    CPPUNIT_ASSERT(!r.allowed(path_and_query("http://x.org/%7ejoe/index.html")));
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(RobotsTest);

}  // namespace kestrel::crawler
