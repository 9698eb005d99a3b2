// Fixture paths and file reading for crawler_parse_test.
#ifndef KESTREL_TESTS_UNIT_CRAWLER_FIXTURE_FILES_H_
#define KESTREL_TESTS_UNIT_CRAWLER_FIXTURE_FILES_H_

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace kestrel::crawler::test {

// tests/fixtures/crawler/<relative>
inline std::string fixture_path(const std::string& relative) {
  return std::string(KESTREL_CRAWLER_FIXTURES) + "/" + relative;
}

// /usr/share/gimp/2.0/help/en/<relative> (Debian package gimp-help-en)
inline std::string manual_path(const std::string& relative) {
  return std::string(KESTREL_GIMP_HELP_DIR) + "/" + relative;
}

// The whole file as bytes; throws std::runtime_error naming the file when it can't be read, so a
// missing fixture fails the test that needs it rather than passing vacuously.
inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read fixture " + path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace kestrel::crawler::test

#endif  // KESTREL_TESTS_UNIT_CRAWLER_FIXTURE_FILES_H_
