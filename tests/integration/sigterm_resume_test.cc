// SIGTERM in the middle of a --once crawl of the GIMP manual: kestreld stops
// cleanly (documented exit 75), leaves a sound catalog and no temporary files,
// and a second --once completes the catalog.
#include <cppunit/extensions/HelperMacros.h>

#include "catalog_checks.h"
#include "integration_helpers.h"
#include "kestrel/test/expected_catalog.h"
#include "kestrel/test/files.h"
#include "kestrel/test/nginx_site.h"
#include "kestrel/test/sqlite_query.h"
#include "kestrel/test/temp_dir.h"
#include "kestreld_node.h"

using namespace kestrel::test;

namespace {

constexpr int kExitInterrupted = 75;  // host/kestreld/exit_codes.h: stopped by SIGTERM, rerun resumes
constexpr long kRowsBeforeSignal = 100;

}  // namespace

class SigtermResumeTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(SigtermResumeTest);
  CPPUNIT_TEST(testSigtermLeavesSoundStateAndRerunCompletes);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testSigtermLeavesSoundStateAndRerunCompletes() {
    NginxSite site(gimp_manual_root());
    TempDir scratch("sigterm-expected");
    ExpectedCatalog expected = expected_catalog(site.root(), site.url(), scratch.path());
    CPPUNIT_ASSERT(expected.images.size() > static_cast<size_t>(kRowsBeforeSignal) * 2);

    KestrelNode node(CrawlerOptions{{"max_depth", "1000"}});
    auto child = node.start_once({site.url()});
    // Poll the catalog (not the clock) until the crawl is well under way.
    bool under_way = poll_until(
        [&] {
          if (!child->running()) return true;
          return std::stol(sqlite_scalar(node.catalog_db(), "SELECT count(*) FROM images")) >= kRowsBeforeSignal;
        },
        std::chrono::minutes(5));
    CPPUNIT_ASSERT_MESSAGE("no catalog rows within 5 minutes; stderr: " + child->stderr_text(), under_way);
    CPPUNIT_ASSERT_MESSAGE("kestreld ended before SIGTERM was sent: " + child->stdout_text() + child->stderr_text(),
                           child->running());
    child->terminate();
    const int code = child->wait_or_kill(std::chrono::seconds(120));
    CPPUNIT_ASSERT_EQUAL_MESSAGE(child->stdout_text() + child->stderr_text(), kExitInterrupted, code);

    CPPUNIT_ASSERT_EQUAL(std::string("ok"), integrity_check(node.catalog_db()));
    CPPUNIT_ASSERT_EQUAL(std::string("ok"), integrity_check(node.node_db()));  // the crawler's frontier
    auto temps = temporary_files(node.images_dir());
    CPPUNIT_ASSERT_MESSAGE("temporary files left: " + describe_problems(temps), temps.empty());
    std::vector<CatalogRow> partial = read_image_rows(node.catalog_db());
    CPPUNIT_ASSERT(partial.size() >= static_cast<size_t>(kRowsBeforeSignal));
    CPPUNIT_ASSERT_MESSAGE("the interrupted crawl should not be complete", partial.size() < expected.images.size());
    auto problems = compare_catalog(expected, partial, node.images_dir(), /*require_all=*/false);
    CPPUNIT_ASSERT_MESSAGE(describe_problems(problems), problems.empty());

    KestrelNode::Run rerun = node.run_once({site.url()});
    CPPUNIT_ASSERT_EQUAL_MESSAGE(run_output(rerun), 0, rerun.exit_code);
    CPPUNIT_ASSERT_EQUAL(std::string("ok"), integrity_check(node.catalog_db()));
    std::vector<CatalogRow> rows = read_image_rows(node.catalog_db());
    problems = compare_catalog(expected, rows, node.images_dir());
    CPPUNIT_ASSERT_MESSAGE(describe_problems(problems), problems.empty());
    temps = temporary_files(node.images_dir());
    CPPUNIT_ASSERT_MESSAGE("temporary files left: " + describe_problems(temps), temps.empty());
    auto orphans = unreferenced_blobs(rows, node.images_dir());
    CPPUNIT_ASSERT_MESSAGE("blobs no row names: " + describe_problems(orphans), orphans.empty());
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(SigtermResumeTest);
