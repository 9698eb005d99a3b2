// Crawls the GIMP manual (Debian's gimp-help-en, ~690 pages, ~1960 images)
// served by a private nginx, and checks the catalog against
// tests/tools/expected_images.py; then crawls again and checks nothing is added.
#include <cppunit/extensions/HelperMacros.h>

#include <iostream>

#include "catalog_checks.h"
#include "crawl_summary.h"
#include "integration_helpers.h"
#include "kestrel/test/expected_catalog.h"
#include "kestrel/test/files.h"
#include "kestrel/test/nginx_site.h"
#include "kestrel/test/temp_dir.h"
#include "kestreld_node.h"

using namespace kestrel::test;

class GimpCrawlTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(GimpCrawlTest);
  CPPUNIT_TEST(testCrawlMatchesExpectedThenRecrawlAddsNothing);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testCrawlMatchesExpectedThenRecrawlAddsNothing() {
    NginxSite site(gimp_manual_root());
    TempDir scratch("gimp-expected");
    ExpectedCatalog expected = expected_catalog(site.root(), site.url(), scratch.path());
    CPPUNIT_ASSERT_MESSAGE("the GIMP manual should have well over 1000 images", expected.images.size() > 1000);

    KestrelNode node(CrawlerOptions{{"max_depth", "1000"}});
    KestrelNode::Run run = node.run_once({site.url()});
    CPPUNIT_ASSERT_EQUAL_MESSAGE(run_output(run), 0, run.exit_code);
    CPPUNIT_ASSERT_EQUAL(std::string("ok"), integrity_check(node.catalog_db()));

    std::vector<CatalogRow> rows = read_image_rows(node.catalog_db());
    auto problems = compare_catalog(expected, rows, node.images_dir());
    CPPUNIT_ASSERT_MESSAGE(describe_problems(problems), problems.empty());
    CPPUNIT_ASSERT_EQUAL(expected.images.size(), rows.size());
    auto temps = temporary_files(node.images_dir());
    CPPUNIT_ASSERT_MESSAGE(describe_problems(temps), temps.empty());
    auto orphans = unreferenced_blobs(rows, node.images_dir());
    CPPUNIT_ASSERT_MESSAGE("blobs no row names: " + describe_problems(orphans), orphans.empty());

    // Every broken reference (the manual has 404 links, no 404 images) is
    // counted and named in the summary.
    CrawlSummary summary = parse_crawl_summary(run.out);
    CPPUNIT_ASSERT_MESSAGE(run_output(run), summary.found);
    CPPUNIT_ASSERT_EQUAL(std::string("finished"), summary.state);
    CPPUNIT_ASSERT_EQUAL(uint64_t{expected.images.size()}, summary.images_stored + summary.images_unchanged);
    NginxSite::AccessStats http = site.access_stats();
    std::cerr << "\ngimp crawl: " << summary.pages << " pages, " << summary.images_stored << " images in "
              << summary.seconds << " s; nginx saw " << http.requests << " requests on " << http.connections
              << " connections\n";
    const size_t broken = expected.broken.size() + expected.broken_links.size() + expected.invalid.size();
    CPPUNIT_ASSERT_MESSAGE(run_output(run), summary.errors >= broken);
    for (const auto* list : {&expected.broken, &expected.broken_links, &expected.invalid})
      for (const auto& f : *list)
        CPPUNIT_ASSERT_MESSAGE(
            f.url + " (from " + f.source + ") is not in the summary's failed lines\n" + run_output(run),
            summary.failed.count(f.url) == 1);

    // Second --once on the same data dir: no new rows, no new blob files.
    std::vector<std::string> blobs_before = list_files(node.images_dir());
    KestrelNode::Run again = node.run_once({site.url()});
    CPPUNIT_ASSERT_EQUAL_MESSAGE(run_output(again), 0, again.exit_code);
    std::vector<CatalogRow> rows_after = read_image_rows(node.catalog_db());
    CPPUNIT_ASSERT_EQUAL(rows.size(), rows_after.size());
    problems = compare_catalog(expected, rows_after, node.images_dir());
    CPPUNIT_ASSERT_MESSAGE(describe_problems(problems), problems.empty());
    std::vector<std::string> blobs_after = list_files(node.images_dir());
    CPPUNIT_ASSERT_EQUAL(blobs_before.size(), blobs_after.size());
    CPPUNIT_ASSERT_MESSAGE("the blob files changed on the second run", blobs_before == blobs_after);
    CPPUNIT_ASSERT_EQUAL(std::string("ok"), integrity_check(node.catalog_db()));
    CrawlSummary second = parse_crawl_summary(again.out);
    CPPUNIT_ASSERT_EQUAL_MESSAGE(run_output(again), uint64_t{0}, second.images_stored);
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(GimpCrawlTest);
