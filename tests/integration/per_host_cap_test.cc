// per_host_connections caps the TCP connections to one origin: a generated
// site (40 pages x 5 images) behind a FixtureHttpServer that delays every
// response by 30 ms and records its peak of simultaneous connections.
#include <cppunit/extensions/HelperMacros.h>

#include <iostream>

#include "catalog_checks.h"
#include "integration_helpers.h"
#include "kestrel/test/child_process.h"
#include "kestrel/test/expected_catalog.h"
#include "kestrel/test/fixture_http_server.h"
#include "kestrel/test/paths.h"
#include "kestrel/test/temp_dir.h"
#include "kestreld_node.h"

using namespace kestrel::test;

class PerHostCapTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(PerHostCapTest);
  CPPUNIT_TEST(testPeakConnectionsStayWithinCap);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testPeakConnectionsStayWithinCap() {
    constexpr int kCap = 3;
    TempDir gen("gen-site");
    ChildProcess make(python3_path(),
                      {source_dir() + "/tests/tools/make_site.py", gen.file("site"), "--pages", "40", "--images", "5"},
                      gen.file("make.out"), gen.file("make.err"));
    CPPUNIT_ASSERT_EQUAL_MESSAGE(make.stderr_text(), 0, make.wait_or_kill(std::chrono::seconds(120)));

    FixtureHttpServer server(FixtureHttpServer::Options{gen.file("site"), 30, 64});
    server.start();
    ExpectedCatalog expected = expected_catalog(gen.file("site"), server.url(), gen.path());
    CPPUNIT_ASSERT_EQUAL(size_t{200}, expected.images.size());

    KestrelNode node(
        CrawlerOptions{{"per_host_connections", std::to_string(kCap)}, {"concurrency", "16"}, {"max_depth", "1000"}});
    KestrelNode::Run run = node.run_once({server.url()});
    CPPUNIT_ASSERT_EQUAL_MESSAGE(run_output(run), 0, run.exit_code);

    const int peak = server.peak_connections();
    std::cerr << "\nper-host cap " << kCap << ": peak " << peak << " simultaneous connections, "
              << server.total_connections() << " connections, " << server.total_requests() << " requests\n";
    CPPUNIT_ASSERT_MESSAGE("peak " + std::to_string(peak) + " connections: the crawler never worked in parallel",
                           peak > 1);
    CPPUNIT_ASSERT_MESSAGE(
        "peak " + std::to_string(peak) + " connections exceeds per_host_connections " + std::to_string(kCap),
        peak <= kCap);

    std::vector<CatalogRow> rows = read_image_rows(node.catalog_db());
    auto problems = compare_catalog(expected, rows, node.images_dir());
    CPPUNIT_ASSERT_MESSAGE(describe_problems(problems), problems.empty());
    CPPUNIT_ASSERT_EQUAL(std::string("ok"), integrity_check(node.catalog_db()));
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(PerHostCapTest);
