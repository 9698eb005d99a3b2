// Shared main() for every CppUnit test binary: runs the registered suites
// (or the one named by argv[1]) and prints "N passed, N failed".
#include <cppunit/BriefTestProgressListener.h>
#include <cppunit/CompilerOutputter.h>
#include <cppunit/TestResult.h>
#include <cppunit/TestResultCollector.h>
#include <cppunit/TestRunner.h>
#include <cppunit/extensions/TestFactoryRegistry.h>

#include <iostream>

int main(int argc, char** argv) {
  CppUnit::TestResult controller;
  CppUnit::TestResultCollector result;
  controller.addListener(&result);
  CppUnit::BriefTestProgressListener progress;
  controller.addListener(&progress);

  CppUnit::TestRunner runner;
  runner.addTest(CppUnit::TestFactoryRegistry::getRegistry().makeTest());
  try {
    runner.run(controller, argc > 1 ? argv[1] : "");
  } catch (const std::invalid_argument& e) {  // unknown test name
    std::cerr << "no such test: " << e.what() << "\n";
    return 2;
  }
  CppUnit::CompilerOutputter(&result, std::cerr).write();
  const int failed = result.testFailuresTotal();
  const int run = result.runTests();
  std::cout << (run - failed) << " passed, " << failed << " failed\n";
  return (failed == 0 && run > 0) ? 0 : 1;
}
