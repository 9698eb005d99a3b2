// TempDir: a private scratch folder removed when the test that made it ends.
#ifndef KESTREL_TEST_TEMP_DIR_H
#define KESTREL_TEST_TEMP_DIR_H

#include <string>

namespace kestrel {
namespace test {

// A new, empty folder (mode 0700) under $TMPDIR (default /tmp), named
// kestrel-test-<tag>-XXXXXX. The destructor removes it and everything inside
// (symlinks are removed, never followed), also when the scope is left by a
// failed CppUnit assertion (an exception). Set KESTREL_KEEP_TEMP=1 to keep the
// folders of a run for inspection (their paths go to stderr).
//
// Owns the folder. Movable, not copyable. Any thread may use one object at a
// time. The constructor throws std::runtime_error (naming the folder and
// errno's text) when the folder cannot be made; the destructor never throws.
class TempDir {
 public:
  explicit TempDir(const std::string& tag = "tmp");
  ~TempDir();
  TempDir(TempDir&& other) noexcept;
  TempDir& operator=(TempDir&& other) noexcept;
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  // Absolute path of the folder, without a trailing slash.
  const std::string& path() const { return path_; }

  // path() + "/" + relative. Does not create anything.
  std::string file(const std::string& relative) const { return path_ + "/" + relative; }

  // Creates path() + "/" + relative (and its parents) as a folder and returns it.
  // Throws std::runtime_error on failure.
  std::string make_dir(const std::string& relative) const;

 private:
  void remove() noexcept;
  std::string path_;
};

}  // namespace test
}  // namespace kestrel

#endif  // KESTREL_TEST_TEMP_DIR_H
