// A temporary directory for one test, removed with its files at scope exit.
#ifndef KESTREL_CRAWLER_HTTP_TESTS_TEMP_DIR_H_
#define KESTREL_CRAWLER_HTTP_TESTS_TEMP_DIR_H_

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace kestrel::crawler::test {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "kestrel-crawler-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace kestrel::crawler::test

#endif  // KESTREL_CRAWLER_HTTP_TESTS_TEMP_DIR_H_
