// Body: bytes in memory up to the threshold, then in an unnamed file; every
// reader (head, chunks, view, str) sees the same bytes; nothing is left on
// disk; a write error (here: RLIMIT_FSIZE) is an Error naming the folder.
#include "body.h"

#include <kestrel/plugin.hpp>
#include <kestrel/test/files.h>
#include <kestrel/test/temp_dir.h>

#include <cppunit/extensions/HelperMacros.h>

#include <csignal>
#include <sys/resource.h>

#include <string>

namespace kestrel::crawler {
namespace {

std::string pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
  return s;
}

std::string chunks_of(const Body& b) {
  std::string out;
  b.for_each_chunk([&out](const char* d, size_t n) { out.append(d, n); });
  return out;
}

}  // namespace

class BodyTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(BodyTest);
  CPPUNIT_TEST(testSmallBodyStaysInMemory);
  CPPUNIT_TEST(testLargeBodySpillsAndReadsBack);
  CPPUNIT_TEST(testMoveAndClear);
  CPPUNIT_TEST(testWriteErrorIsAnError);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testSmallBodyStaysInMemory() {
    test::TempDir dir("body");
    Body b(dir.path(), 1000);
    const std::string data = pattern(1000);
    b.append(data.data(), 600);
    b.append(data.data() + 600, 400);
    CPPUNIT_ASSERT(!b.spilled());
    CPPUNIT_ASSERT_EQUAL(uint64_t{1000}, b.size());
    CPPUNIT_ASSERT_EQUAL(data, b.str());
    CPPUNIT_ASSERT_EQUAL(data.substr(0, 10), b.head(10));
    CPPUNIT_ASSERT_EQUAL(data, chunks_of(b));
    CPPUNIT_ASSERT_EQUAL(data, std::string(b.view().bytes()));
  }

  void testLargeBodySpillsAndReadsBack() {
    test::TempDir dir("body");
    Body b(dir.path(), 1000);
    const std::string data = pattern(3 * 256 * 1024 + 17);  // more than one 256 KiB chunk
    for (size_t off = 0; off < data.size(); off += 999) b.append(data.data() + off, std::min<size_t>(999, data.size() - off));
    CPPUNIT_ASSERT(b.spilled());
    CPPUNIT_ASSERT_EQUAL(uint64_t{data.size()}, b.size());
    CPPUNIT_ASSERT(test::list_files(dir.path()).empty());  // unnamed
    CPPUNIT_ASSERT_EQUAL(data.substr(0, 2048), b.head(2048));
    CPPUNIT_ASSERT_EQUAL(data, b.head(data.size() + 100));
    CPPUNIT_ASSERT_EQUAL(data, chunks_of(b));
    {
      const Body::View v = b.view();
      CPPUNIT_ASSERT_EQUAL(data, std::string(v.bytes()));
    }
    CPPUNIT_ASSERT_EQUAL(data, b.str());
  }

  void testMoveAndClear() {
    test::TempDir dir("body");
    Body a(dir.path(), 10);
    const std::string data = pattern(100);
    a.append(data.data(), data.size());
    Body b = std::move(a);
    CPPUNIT_ASSERT(b.spilled());
    CPPUNIT_ASSERT_EQUAL(data, b.str());
    CPPUNIT_ASSERT_EQUAL(uint64_t{0}, a.size());  // NOLINT(bugprone-use-after-move): moved-from is empty
    Body::View v = b.view();
    Body::View w = std::move(v);
    CPPUNIT_ASSERT_EQUAL(data, std::string(w.bytes()));
    b.clear();
    CPPUNIT_ASSERT(!b.spilled());
    CPPUNIT_ASSERT_EQUAL(uint64_t{0}, b.size());
    CPPUNIT_ASSERT_EQUAL(std::string(), chunks_of(b));
  }

  void testWriteErrorIsAnError() {
    test::TempDir dir("body");
    // A file size limit makes write(2) fail with EFBIG (SIGXFSZ ignored), as
    // a full disk would with ENOSPC.
    struct rlimit old {};
    getrlimit(RLIMIT_FSIZE, &old);
    struct rlimit small = old;
    small.rlim_cur = 4096;
    auto* previous = std::signal(SIGXFSZ, SIG_IGN);
    setrlimit(RLIMIT_FSIZE, &small);
    Body b(dir.path(), 100);
    const std::string data = pattern(10000);
    std::string message;
    try {
      b.append(data.data(), data.size());
    } catch (const Error& e) {
      message = e.what();
    }
    setrlimit(RLIMIT_FSIZE, &old);
    std::signal(SIGXFSZ, previous);
    CPPUNIT_ASSERT_MESSAGE(message, message.find(dir.path()) != std::string::npos);
    CPPUNIT_ASSERT(test::list_files(dir.path()).empty());
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(BodyTest);

}  // namespace kestrel::crawler
