// Option text parsing: durations in milliseconds, sizes in bytes, booleans,
// integers and lists, with the errors an operator sees.
#include <cppunit/extensions/HelperMacros.h>

#include "config/option_value.h"

using namespace kestrel::host;

class OptionValueTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(OptionValueTest);
  CPPUNIT_TEST(durations);
  CPPUNIT_TEST(sizes);
  CPPUNIT_TEST(booleans_and_integers);
  CPPUNIT_TEST(lists);
  CPPUNIT_TEST_SUITE_END();

 public:
  void durations() {
    int64_t ms = 0;
    std::string err;
    CPPUNIT_ASSERT(parse_duration_ms("250ms", &ms, &err));
    CPPUNIT_ASSERT_EQUAL(int64_t{250}, ms);
    CPPUNIT_ASSERT(parse_duration_ms("5s", &ms, &err));
    CPPUNIT_ASSERT_EQUAL(int64_t{5000}, ms);
    CPPUNIT_ASSERT(parse_duration_ms("5", &ms, &err));  // a bare number is seconds
    CPPUNIT_ASSERT_EQUAL(int64_t{5000}, ms);
    CPPUNIT_ASSERT(parse_duration_ms("1.5m", &ms, &err));
    CPPUNIT_ASSERT_EQUAL(int64_t{90000}, ms);
    CPPUNIT_ASSERT(parse_duration_ms(" 2h ", &ms, &err));
    CPPUNIT_ASSERT_EQUAL(int64_t{7200000}, ms);
    CPPUNIT_ASSERT(!parse_duration_ms("5 parsecs", &ms, &err));
    CPPUNIT_ASSERT(err.find("unknown duration unit 'parsecs'") != std::string::npos);
    CPPUNIT_ASSERT(!parse_duration_ms("-1s", &ms, &err));
    CPPUNIT_ASSERT(!parse_duration_ms("soon", &ms, &err));
  }

  void sizes() {
    int64_t b = 0;
    std::string err;
    CPPUNIT_ASSERT(parse_size_bytes("512", &b, &err));
    CPPUNIT_ASSERT_EQUAL(int64_t{512}, b);
    CPPUNIT_ASSERT(parse_size_bytes("64KiB", &b, &err));
    CPPUNIT_ASSERT_EQUAL(int64_t{65536}, b);
    CPPUNIT_ASSERT(parse_size_bytes("10MiB", &b, &err));
    CPPUNIT_ASSERT_EQUAL(int64_t{10485760}, b);
    CPPUNIT_ASSERT(parse_size_bytes("1GB", &b, &err));
    CPPUNIT_ASSERT_EQUAL(int64_t{1000000000}, b);
    CPPUNIT_ASSERT(parse_size_bytes("1.5 kib", &b, &err));
    CPPUNIT_ASSERT_EQUAL(int64_t{1536}, b);
    CPPUNIT_ASSERT(!parse_size_bytes("3 bananas", &b, &err));
    CPPUNIT_ASSERT(err.find("unknown size unit") != std::string::npos);
  }

  void booleans_and_integers() {
    bool v = false;
    std::string err;
    CPPUNIT_ASSERT(parse_bool("true", &v, &err) && v);
    CPPUNIT_ASSERT(parse_bool("Off", &v, &err) && !v);
    CPPUNIT_ASSERT(!parse_bool("maybe", &v, &err));
    int64_t i = 0;
    CPPUNIT_ASSERT(parse_int("-42", &i, &err));
    CPPUNIT_ASSERT_EQUAL(int64_t{-42}, i);
    CPPUNIT_ASSERT(!parse_int("4x", &i, &err));
    CPPUNIT_ASSERT(!parse_int("99999999999999999999999", &i, &err));
    CPPUNIT_ASSERT(err.find("out of range") != std::string::npos);
  }

  void lists() {
    OptionValue v;
    std::string err;
    CPPUNIT_ASSERT(parse_option_text(KESTREL_OPT_STRING_LIST, "a, b ,,c", &v, &err));
    CPPUNIT_ASSERT_EQUAL(size_t{3}, v.list.size());
    CPPUNIT_ASSERT_EQUAL(std::string("b"), v.list[1]);
    CPPUNIT_ASSERT(parse_option_text(KESTREL_OPT_STRING_LIST, "", &v, &err));
    CPPUNIT_ASSERT(v.list.empty());
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(OptionValueTest);
