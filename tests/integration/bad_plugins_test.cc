// DESIGN §2, "a bad plugin": the purpose-built bad plugins of tests/plugins
// (wrong ABI major, newer minor, no negotiate symbol, an unresolved symbol, a
// duplicate component type) sit on the plugin path beside the good ones. Each
// is reported once with its file and reason, and a crawl with the good ones
// still completes with every image stored.
#include <cppunit/extensions/HelperMacros.h>

#include "catalog_checks.h"
#include "crawl_summary.h"
#include "integration_helpers.h"
#include "kestrel/test/expected_catalog.h"
#include "kestrel/test/fixture_http_server.h"
#include "kestrel/test/paths.h"
#include "kestrel/test/temp_dir.h"
#include "kestreld_node.h"

using namespace kestrel::test;

namespace {

size_t count(const std::string& hay, const std::string& needle) {
  size_t n = 0;
  for (size_t p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + 1)) ++n;
  return n;
}

}  // namespace

class BadPluginsTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(BadPluginsTest);
  CPPUNIT_TEST(testBadPluginsReportedAndCrawlCompletes);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testBadPluginsReportedAndCrawlCompletes() {
    FixtureHttpServer server(FixtureHttpServer::Options{fixture_site_root(), 0, 16});
    server.start();
    TempDir scratch("bad-plugins-expected");
    ExpectedCatalog expected = expected_catalog(fixture_site_root(), server.url(), scratch.path());

    KestrelNode node(CrawlerOptions{{"max_depth", "1000"}}, {build_dir() + "/tests/plugins"});
    KestrelNode::Run run = node.run_once({server.url()});
    CPPUNIT_ASSERT_EQUAL_MESSAGE(run_output(run), 0, run.exit_code);

    const std::vector<std::pair<std::string, std::string>> bad = {
        {"kestrel-test-abi-major.so", "built for SDK ABI 2.0; this host supports 1.0"},
        {"kestrel-test-abi-minor.so", "upgrade Kestrel, or rebuild the plugin"},
        {"kestrel-test-no-negotiate.so", "does not export kestrel_plugin_negotiate"},
        {"kestrel-test-unresolved.so", "undefined symbol: kestrel_test_symbol_that_does_not_exist"},
        {"kestrel-test-zz-duplicate.so", "component type 'test-node' is already provided by kestrel-test-good.so"}};
    for (const auto& [file, reason] : bad) {
      CPPUNIT_ASSERT_EQUAL_MESSAGE(file + "\n" + run.err, size_t{1}, count(run.err, "plugin " + file + " ("));
      CPPUNIT_ASSERT_MESSAGE(file + ": " + reason + "\n" + run.err, run.err.find(reason) != std::string::npos);
    }

    CrawlSummary summary = parse_crawl_summary(run.out);
    CPPUNIT_ASSERT_MESSAGE(run_output(run), summary.found);
    CPPUNIT_ASSERT_EQUAL(std::string("finished"), summary.state);
    std::vector<CatalogRow> rows = read_image_rows(node.catalog_db());
    auto problems = compare_catalog(expected, rows, node.images_dir());
    CPPUNIT_ASSERT_MESSAGE(describe_problems(problems), problems.empty());
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(BadPluginsTest);
