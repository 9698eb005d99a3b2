// CppUnit helper: asserts that a call throws kestrel::Error with a given code
// and returns it so the test can check the message.
#ifndef KESTREL_TESTS_UNIT_STORE_EXPECT_ERROR_H
#define KESTREL_TESTS_UNIT_STORE_EXPECT_ERROR_H

#include <cppunit/extensions/HelperMacros.h>

#include <kestrel/plugin.hpp>
#include <string>

namespace kestrel {
namespace store_test {

template <class Fn>
Error expect_error(kestrel_result code, Fn&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    CPPUNIT_ASSERT_EQUAL_MESSAGE(std::string("wrong code; message: ") + e.what(), std::string(result_name(code)),
                                 std::string(result_name(e.code())));
    return e;
  }
  CPPUNIT_FAIL(std::string("expected a kestrel::Error '") + result_name(code) + "', nothing was thrown");
  return Error(KESTREL_OK, "");
}

// Asserts that `text` contains `part`.
inline void assert_contains(const std::string& text, const std::string& part) {
  CPPUNIT_ASSERT_MESSAGE("'" + text + "' does not contain '" + part + "'", text.find(part) != std::string::npos);
}

}  // namespace store_test
}  // namespace kestrel

#endif  // KESTREL_TESTS_UNIT_STORE_EXPECT_ERROR_H
