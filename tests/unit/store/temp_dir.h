// A fresh folder for one test, removed with everything in it on destruction.
#ifndef KESTREL_TESTS_UNIT_STORE_TEMP_DIR_H
#define KESTREL_TESTS_UNIT_STORE_TEMP_DIR_H

#include <string>

namespace kestrel {
namespace store_test {

class TempDir {
 public:
  // Creates $TMPDIR/kestrel-store-XXXXXX (/tmp when TMPDIR is unset).
  // Throws std::runtime_error if it cannot.
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  // Absolute path, no trailing slash.
  const std::string& path() const { return path_; }
  // path() + "/" + name
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace store_test
}  // namespace kestrel

#endif  // KESTREL_TESTS_UNIT_STORE_TEMP_DIR_H
