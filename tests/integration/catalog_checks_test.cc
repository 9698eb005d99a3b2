// The checks the integration tests rely on must catch what they claim to:
// a missing row, a duplicate, a wrong field, a row outside the expected set,
// a missing or altered blob, a temporary file. Real SQLite files and blobs.
#include "catalog_checks.h"

#include <cppunit/extensions/HelperMacros.h>
#include <sqlite3.h>

#include <cstdio>
#include <filesystem>
#include <memory>

#include "crawl_summary.h"
#include "kestrel/test/files.h"
#include "kestrel/test/temp_dir.h"

using namespace kestrel::test;

namespace {

// A catalog.db with DESIGN §6's images columns and a blob folder.
class FakeCrawl {
 public:
  FakeCrawl() : dir_("checks") {
    dir_.make_dir("images/ab");
    exec(
        "CREATE TABLE images (id INTEGER PRIMARY KEY, url TEXT NOT NULL, source_url TEXT, filename TEXT, "
        "file_path TEXT, file_size BIGINT, width INTEGER, height INTEGER, format TEXT, mime_type TEXT, md5 TEXT, "
        "sha256 TEXT, crawl_session_id BIGINT)");
  }
  std::string db() const { return dir_.file("catalog.db"); }
  std::string images() const { return dir_.file("images"); }

  // Stores `bytes` as blob `rel` and returns the ExpectedImage describing it.
  ExpectedImage blob(const std::string& rel, const std::string& bytes) {
    write_file(images() + "/" + rel, bytes);
    ExpectedImage e;
    e.format = "png";
    e.width = 3;
    e.height = 4;
    e.sha256 = sha256_file(images() + "/" + rel);
    e.md5 = md5_file(images() + "/" + rel);
    e.size = bytes.size();
    e.filename = "a.png";
    return e;
  }
  void row(const std::string& url, const ExpectedImage& e, const std::string& rel) {
    exec(
        "INSERT INTO images (url, source_url, filename, file_path, file_size, width, height, format, mime_type, "
        "md5, sha256, crawl_session_id) VALUES ('" +
        url + "', 'http://h/', '" + e.filename + "', '" + rel + "', " + std::to_string(e.size) + ", " +
        std::to_string(e.width) + ", " + std::to_string(e.height) + ", '" + e.format + "', 'image/" + e.format +
        "', '" + e.md5 + "', '" + e.sha256 + "', 1)");
  }
  void exec(const std::string& sql) {
    sqlite3* raw = nullptr;
    sqlite3_open(db().c_str(), &raw);
    std::unique_ptr<sqlite3, int (*)(sqlite3*)> conn(raw, sqlite3_close);
    char* err = nullptr;
    int rc = sqlite3_exec(conn.get(), sql.c_str(), nullptr, nullptr, &err);
    std::string msg = err ? err : "";
    sqlite3_free(err);
    CPPUNIT_ASSERT_EQUAL_MESSAGE(msg, SQLITE_OK, rc);
  }
  std::vector<std::string> problems(const ExpectedCatalog& c, bool require_all = true) {
    return compare_catalog(c, read_image_rows(db()), images(), require_all);
  }

 private:
  TempDir dir_;
};

}  // namespace

class CatalogChecksTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(CatalogChecksTest);
  CPPUNIT_TEST(testAgreeingCatalogHasNoProblems);
  CPPUNIT_TEST(testMissingDuplicateAndExtraRows);
  CPPUNIT_TEST(testWrongFieldsAndBlobs);
  CPPUNIT_TEST(testTemporaryAndUnreferencedFiles);
  CPPUNIT_TEST(testSummaryParsing);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testAgreeingCatalogHasNoProblems() {
    FakeCrawl f;
    ExpectedCatalog c;
    c.images["http://h/a.png"] = f.blob("ab/one.png", "one");
    f.row("http://h/a.png", c.images["http://h/a.png"], "ab/one.png");
    auto p = f.problems(c);
    CPPUNIT_ASSERT_MESSAGE(describe_problems(p), p.empty());
    CPPUNIT_ASSERT_EQUAL(std::string("ok"), integrity_check(f.db()));
  }

  void testMissingDuplicateAndExtraRows() {
    FakeCrawl f;
    ExpectedCatalog c;
    c.images["http://h/a.png"] = f.blob("ab/one.png", "one");
    c.images["http://h/b.png"] = f.blob("ab/two.png", "two");
    CPPUNIT_ASSERT_EQUAL(size_t{2}, f.problems(c).size());         // both rows missing
    CPPUNIT_ASSERT(f.problems(c, /*require_all=*/false).empty());  // a subset is fine when asked
    f.row("http://h/a.png", c.images["http://h/a.png"], "ab/one.png");
    f.row("http://h/a.png", c.images["http://h/a.png"], "ab/one.png");    // duplicate
    f.row("http://h/zzz.png", c.images["http://h/a.png"], "ab/one.png");  // outside the set
    auto p = f.problems(c, false);
    CPPUNIT_ASSERT_EQUAL_MESSAGE(describe_problems(p), size_t{2}, p.size());
  }

  void testWrongFieldsAndBlobs() {
    FakeCrawl f;
    ExpectedCatalog c;
    ExpectedImage good = f.blob("ab/one.png", "one");
    c.images["http://h/a.png"] = good;
    ExpectedImage wrong = good;
    wrong.width = 99;
    wrong.md5 = "0";
    f.row("http://h/a.png", wrong, "ab/one.png");
    CPPUNIT_ASSERT_EQUAL(size_t{2}, f.problems(c).size());

    FakeCrawl g;
    ExpectedCatalog d;
    d.images["http://h/a.png"] = g.blob("ab/one.png", "one");
    g.row("http://h/a.png", d.images["http://h/a.png"], "ab/one.png");
    write_file(g.images() + "/ab/one.png", "altered");
    CPPUNIT_ASSERT_EQUAL(size_t{1}, g.problems(d).size());  // blob's sha256 differs from the row
    std::remove((g.images() + "/ab/one.png").c_str());
    CPPUNIT_ASSERT_EQUAL(size_t{1}, g.problems(d).size());  // blob missing
  }

  void testTemporaryAndUnreferencedFiles() {
    FakeCrawl f;
    ExpectedImage e = f.blob("ab/one.png", "one");
    f.row("http://h/a.png", e, "ab/one.png");
    CPPUNIT_ASSERT(temporary_files(f.images()).empty());
    CPPUNIT_ASSERT(unreferenced_blobs(read_image_rows(f.db()), f.images()).empty());
    write_file(f.images() + "/ab/orphan.png", "x");
    CPPUNIT_ASSERT_EQUAL(size_t{1}, unreferenced_blobs(read_image_rows(f.db()), f.images()).size());
    std::string tmp = f.images() + "/.tmp";
    std::filesystem::create_directories(tmp);
    write_file(tmp + "/upload-1", "partial");
    write_file(f.images() + "/ab/x.part", "partial");
    CPPUNIT_ASSERT_EQUAL(size_t{2}, temporary_files(f.images()).size());
  }

  void testSummaryParsing() {
    CrawlSummary s = parse_crawl_summary(
        "crawl finished (component crawler)\n"
        "  pages: 5\n"
        "  images: 12 stored, 1 unchanged\n"
        "  errors: 4 (bad_image: 1, http_404: 2, not_an_image: 1)\n"
        "  seconds: 2.114\n"
        "  failed: http://h/missing.html (from http://h/): http_404\n"
        "  failed: http://h/x.png: bad_image\n");
    CPPUNIT_ASSERT(s.found);
    CPPUNIT_ASSERT_EQUAL(std::string("finished"), s.state);
    CPPUNIT_ASSERT_EQUAL(uint64_t{5}, s.pages);
    CPPUNIT_ASSERT_EQUAL(uint64_t{12}, s.images_stored);
    CPPUNIT_ASSERT_EQUAL(uint64_t{1}, s.images_unchanged);
    CPPUNIT_ASSERT_EQUAL(uint64_t{4}, s.errors);
    CPPUNIT_ASSERT_EQUAL(std::string("http_404"), s.failed["http://h/missing.html"]);
    CPPUNIT_ASSERT_EQUAL(std::string("bad_image"), s.failed["http://h/x.png"]);
    CPPUNIT_ASSERT(!parse_crawl_summary("nothing here\n").found);
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(CatalogChecksTest);
