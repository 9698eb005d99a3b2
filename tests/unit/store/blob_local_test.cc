// blob-local through its C blobstore table, on a real temp folder. Every test
// runs twice: BlobLocalTest with the default tmpfile: auto (unnamed
// O_TMPFILE uploads where the filesystem has them, as /tmp's ext4 or tmpfs
// do) and BlobLocalNamedTest with tmpfile: off (named temp files, the
// fallback for filesystems without O_TMPFILE).
#include <Poco/DigestEngine.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/SHA2Engine.h>
#include <cppunit/extensions/HelperMacros.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <fstream>
#include <sstream>
#include <thread>

#include "blob_local_component.h"
#include "component_harness.h"
#include "expect_error.h"
#include "file_size_limit.h"
#include "kestrel/test/temp_dir.h"

namespace kestrel {
namespace store_test {

using test::TempDir;  // tests/support
namespace {

std::string sha256_of(const std::string& bytes) {
  Poco::SHA2Engine engine(Poco::SHA2Engine::SHA_256);
  engine.update(bytes);
  return Poco::DigestEngine::digestToHex(engine.digest());
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Entry names of a folder, "." and ".." left out; empty if it does not exist.
std::vector<std::string> list(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return names;
  while (const dirent* e = ::readdir(d)) {
    const std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(n);
  }
  ::closedir(d);
  return names;
}

// Paths (relative to `dir`) of everything under it that is not a folder.
std::vector<std::string> files_under(const std::string& dir, const std::string& prefix = "") {
  std::vector<std::string> files;
  for (const std::string& name : list(dir)) {
    struct stat st;
    if (::lstat((dir + "/" + name).c_str(), &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      for (const std::string& f : files_under(dir + "/" + name, prefix + name + "/")) files.push_back(f);
    } else {
      files.push_back(prefix + name);
    }
  }
  return files;
}

// "a b c": names for an assertion message.
std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : " ") + n;
  return out;
}

// Whether this kernel and the filesystem of `dir` offer O_TMPFILE (checked
// here independently of the store's own probe).
bool tmpfile_supported(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  ::close(fd);
  return true;
}

Poco::JSON::Object::Ptr status_of(ComponentHarness& component) {
  return Poco::JSON::Parser().parse(component.status_json()).extract<Poco::JSON::Object::Ptr>();
}

// A forked child, killed with SIGKILL and reaped when this goes out of scope
// (so that a failed assertion in the parent never leaves it running).
class ChildGuard {
 public:
  explicit ChildGuard(pid_t pid) : pid_(pid) {}
  ~ChildGuard() { kill_and_reap(); }
  ChildGuard(const ChildGuard&) = delete;
  ChildGuard& operator=(const ChildGuard&) = delete;
  // Returns the wait status.
  int kill_and_reap() {
    int status = 0;
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
      pid_ = -1;
    }
    return status;
  }

 private:
  pid_t pid_;
};

// Bytes that look like the start of a PNG, distinct per seed.
std::string image_bytes(int seed, size_t size = 4096) {
  std::string bytes = "\x89PNG\r\n\x1a\n";
  for (size_t i = bytes.size(); i < size; ++i) bytes.push_back(static_cast<char>((i * 31 + seed) & 0xff));
  return bytes;
}

}  // namespace

class BlobLocalTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(BlobLocalTest);
  CPPUNIT_TEST(testUploadModeChosenAtStart);
  CPPUNIT_TEST(testContentAddressing);
  CPPUNIT_TEST(testIdenticalBytesAreStoredOnce);
  CPPUNIT_TEST(testShaMismatchRejected);
  CPPUNIT_TEST(testAbortLeavesNoTempFile);
  CPPUNIT_TEST(testBadNamesRejected);
  CPPUNIT_TEST(testPathTraversalRefused);
  CPPUNIT_TEST(testRemove);
  CPPUNIT_TEST(testStaleTempFilesCleanedAtStart);
  CPPUNIT_TEST(testCrashedUploadCleanedAtNextStart);
  CPPUNIT_TEST(testWithoutFsync);
  CPPUNIT_TEST(testFailedAppendMustBeAborted);
  CPPUNIT_TEST(testRootThatIsAFileRefused);
  CPPUNIT_TEST(testCommitLeavesNothingInTmp);
  CPPUNIT_TEST(testSigkilledUploadLeavesNoFile);
  CPPUNIT_TEST(testSameBytesFromTwoThreadsAtOnce);
  CPPUNIT_TEST(testDebrisOfAnotherSizeReplaced);
  CPPUNIT_TEST(testFolderRemovedBehindTheStoreIsRemade);
  CPPUNIT_TEST(testOpenUploadFinishesAfterStop);
  CPPUNIT_TEST(testBadTmpfileOptionRefused);
  CPPUNIT_TEST(testGroupCommitNamesFilesAtSync);
  CPPUNIT_TEST(testGroupCommitWithFsyncBarrier);
  CPPUNIT_TEST(testUnsyncedGroupCommitLeavesNothing);
  CPPUNIT_TEST(testStoreWithoutGroupCommitFallsBack);
  CPPUNIT_TEST(testGroupCommitsBesideSyncs);
  CPPUNIT_TEST_SUITE_END();

 public:
  void setUp() override {
    dir_ = std::make_unique<TempDir>();
    store_ = std::make_unique<ComponentHarness>(blob_local::component_descriptor(), options(), dir_->path());
    store_->start();
    blobs_ = BlobStoreClient(store_->interface(KESTREL_IFACE_BLOBSTORE_V1));
    root_ = dir_->file("images");
  }

  void tearDown() override {
    store_.reset();
    dir_.reset();
  }

  void testContentAddressing() {
    CPPUNIT_ASSERT_EQUAL(root_, blobs_.root());
    const std::string bytes = image_bytes(1, 1 << 20);
    const std::string sha = sha256_of(bytes);
    auto upload = blobs_.begin();
    for (size_t off = 0; off < bytes.size(); off += 7000)  // odd chunk sizes: the hash is streamed
      upload.append(bytes.data() + off, std::min<size_t>(7000, bytes.size() - off));
    const std::string path = upload.commit(sha, "png");
    // One level of fan-out: "aa/<sha256>.png", aa the hash's first byte.
    CPPUNIT_ASSERT_EQUAL(sha.substr(0, 2) + "/" + sha + ".png", path);
    CPPUNIT_ASSERT(read_file(root_ + "/" + path) == bytes);
    CPPUNIT_ASSERT_EQUAL(size_t{1}, list(root_ + "/" + sha.substr(0, 2)).size());  // the file, no sub-folder
    CPPUNIT_ASSERT(blobs_.exists(path));
    CPPUNIT_ASSERT(!blobs_.exists(sha.substr(0, 2) + "/" + sha + ".gif"));
    CPPUNIT_ASSERT(list(root_ + "/.tmp").empty());
  }

  void testIdenticalBytesAreStoredOnce() {
    const std::string bytes = image_bytes(2);
    const std::string sha = sha256_of(bytes);
    std::string first, second;
    {
      auto upload = blobs_.begin();
      upload.append(bytes.data(), bytes.size());
      first = upload.commit(sha, "png");
    }
    struct stat before;
    CPPUNIT_ASSERT_EQUAL(0, ::stat((root_ + "/" + first).c_str(), &before));
    {
      auto upload = blobs_.begin();
      upload.append(bytes.data(), bytes.size());
      second = upload.commit(sha, "png");
    }
    CPPUNIT_ASSERT_EQUAL(first, second);
    struct stat after;
    CPPUNIT_ASSERT_EQUAL(0, ::stat((root_ + "/" + second).c_str(), &after));
    CPPUNIT_ASSERT_EQUAL(before.st_ino, after.st_ino);  // the first file was kept, not replaced
    CPPUNIT_ASSERT_EQUAL(size_t{1}, list(root_ + "/" + sha.substr(0, 2)).size());
    CPPUNIT_ASSERT(list(root_ + "/.tmp").empty());
    Poco::JSON::Object::Ptr status =
        Poco::JSON::Parser().parse(store_->status_json()).extract<Poco::JSON::Object::Ptr>();
    Poco::JSON::Object::Ptr uploads = status->getObject("uploads");
    CPPUNIT_ASSERT_EQUAL(1, uploads->getValue<int>("committed"));
    CPPUNIT_ASSERT_EQUAL(1, uploads->getValue<int>("deduplicated"));
    CPPUNIT_ASSERT_EQUAL(0, uploads->getValue<int>("open"));
  }

  void testShaMismatchRejected() {
    const std::string bytes = image_bytes(3);
    const std::string wrong = sha256_of("something else");
    auto upload = blobs_.begin();
    upload.append(bytes.data(), bytes.size());
    const Error e = expect_error(KESTREL_ERR_INVALID, [&] { upload.commit(wrong, "png"); });
    assert_contains(e.what(), "content hash mismatch");
    assert_contains(e.what(), wrong);
    assert_contains(e.what(), sha256_of(bytes));
    CPPUNIT_ASSERT(list(root_ + "/.tmp").empty());
    CPPUNIT_ASSERT_EQUAL(size_t{1}, list(root_).size());  // only .tmp: nothing stored
  }

  void testAbortLeavesNoTempFile() {
    {
      auto upload = blobs_.begin();
      const std::string bytes = image_bytes(4);
      upload.append(bytes.data(), bytes.size());
      CPPUNIT_ASSERT_EQUAL(named_uploads(1), list(root_ + "/.tmp").size());  // the upload is in progress
      upload.abort();
    }
    CPPUNIT_ASSERT(list(root_ + "/.tmp").empty());
    {
      auto upload = blobs_.begin();  // dropped without commit: the client aborts it
      upload.append("x", 1);
    }
    CPPUNIT_ASSERT(list(root_ + "/.tmp").empty());
    CPPUNIT_ASSERT_EQUAL(2, status_of(*store_)->getObject("uploads")->getValue<int>("aborted"));
    CPPUNIT_ASSERT_EQUAL(0, status_of(*store_)->getObject("uploads")->getValue<int>("open"));
  }

  void testBadNamesRejected() {
    const std::string bytes = image_bytes(5);
    const std::string sha = sha256_of(bytes);
    for (const char* ext : {"PNG", "", "toolongext", "p/g", "../x"}) {
      auto upload = blobs_.begin();
      upload.append(bytes.data(), bytes.size());
      assert_contains(expect_error(KESTREL_ERR_INVALID, [&] { upload.commit(sha, ext); }).what(), "extension");
    }
    auto upload = blobs_.begin();
    upload.append(bytes.data(), bytes.size());
    std::string upper = sha;
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    assert_contains(expect_error(KESTREL_ERR_INVALID, [&] { upload.commit(upper, "png"); }).what(),
                    "64 lower-case hex digits");
    CPPUNIT_ASSERT(list(root_ + "/.tmp").empty());
  }

  void testPathTraversalRefused() {
    {
      std::ofstream outside(dir_->file("secret.txt"));
      outside << "not a blob";
    }
    for (const char* path : {"../secret.txt", "/etc/passwd", "aa/../../secret.txt", "aa//bb", "./x", ".tmp/x", ""}) {
      const Error e = expect_error(KESTREL_ERR_INVALID, [&] { blobs_.exists(path); });
      assert_contains(e.what(), "refused");
      expect_error(KESTREL_ERR_INVALID, [&] { blobs_.remove(path); });
    }
    CPPUNIT_ASSERT_EQUAL(std::string("not a blob"), read_file(dir_->file("secret.txt")));
  }

  void testRemove() {
    const std::string bytes = image_bytes(6);
    auto upload = blobs_.begin();
    upload.append(bytes.data(), bytes.size());
    const std::string path = upload.commit(sha256_of(bytes), "webp");
    CPPUNIT_ASSERT(blobs_.remove(path));
    CPPUNIT_ASSERT(!blobs_.exists(path));
    CPPUNIT_ASSERT(!blobs_.remove(path));
  }

  void testStaleTempFilesCleanedAtStart() {
    store_->stop();
    for (const char* name : {"a.part", "b.part"}) {
      std::ofstream stale(root_ + "/.tmp/" + name);
      stale << "half an image";
    }
    const std::string bytes = image_bytes(7);
    const std::string kept_sha = sha256_of(bytes);
    {
      // A stored blob must survive the cleanup.
      std::ofstream blob(root_ + "/keep.png");
      blob << bytes;
    }
    store_->start();
    CPPUNIT_ASSERT(list(root_ + "/.tmp").empty());
    CPPUNIT_ASSERT_EQUAL(bytes, read_file(root_ + "/keep.png"));
    bool logged = false;
    for (const std::string& line : store_->log_lines())
      logged = logged || line.find("removed 2 unfinished") != std::string::npos;
    CPPUNIT_ASSERT(logged);
  }

  void testCrashedUploadCleanedAtNextStart() {
    // A child process starts an upload and dies mid-way, as a crash would.
    const pid_t child = ::fork();
    CPPUNIT_ASSERT(child >= 0);
    if (child == 0) {
      int code = 1;
      try {
        ComponentHarness crashing(blob_local::component_descriptor(), options(), dir_->path());
        crashing.start();
        BlobStoreClient client(crashing.interface(KESTREL_IFACE_BLOBSTORE_V1));
        auto upload = client.begin();
        const std::string bytes = image_bytes(8);
        upload.append(bytes.data(), bytes.size());
        std::fflush(nullptr);
        ::_exit(0);  // no destructors run: the temp file stays, as after SIGKILL
      } catch (...) {
      }
      ::_exit(code);
    }
    int status = 0;
    CPPUNIT_ASSERT_EQUAL(child, ::waitpid(child, &status, 0));
    CPPUNIT_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    // A named upload stays behind; an unnamed one died with its process.
    CPPUNIT_ASSERT_EQUAL(named_uploads(1), list(root_ + "/.tmp").size());

    ComponentHarness restarted(blob_local::component_descriptor(), options(), dir_->path());
    restarted.start();
    CPPUNIT_ASSERT(list(root_ + "/.tmp").empty());
  }

  void testWithoutFsync() {
    ComponentHarness fast(blob_local::component_descriptor(), options({{"root", "fast"}, {"fsync", "false"}}),
                          dir_->path());
    fast.start();
    BlobStoreClient client(fast.interface(KESTREL_IFACE_BLOBSTORE_V1));
    const std::string bytes = image_bytes(9);
    auto upload = client.begin();
    upload.append(bytes.data(), bytes.size());
    const std::string path = upload.commit(sha256_of(bytes), "gif");
    CPPUNIT_ASSERT_EQUAL(bytes, read_file(dir_->file("fast") + "/" + path));
    CPPUNIT_ASSERT(list(dir_->file("fast") + "/.tmp").empty());
  }

  void testFailedAppendMustBeAborted() {
    auto upload = blobs_.begin();
    const std::string big = image_bytes(10, 256 * 1024);
    {
      // The OS accepts 64 KiB of the first write, then refuses: the short
      // write is retried and the refusal reported with the file's name.
      FileSizeLimit limit(64 * 1024);
      const Error e = expect_error(KESTREL_ERR_IO, [&] { upload.append(big.data(), big.size()); });
      assert_contains(e.what(), root_ + "/.tmp/");
      assert_contains(e.what(), "File too large");
    }
    assert_contains(expect_error(KESTREL_ERR_INVALID, [&] { upload.append("x", 1); }).what(), "failed append");
    assert_contains(expect_error(KESTREL_ERR_INVALID, [&] { upload.commit(sha256_of(big), "png"); }).what(),
                    "bytes are incomplete");
    CPPUNIT_ASSERT(list(root_ + "/.tmp").empty());
    CPPUNIT_ASSERT_EQUAL(size_t{1}, list(root_).size());  // only .tmp: nothing stored
  }

  void testRootThatIsAFileRefused() {
    {
      std::ofstream file(dir_->file("not-a-folder"));
      file << "x";
    }
    ComponentHarness bad(blob_local::component_descriptor(), options({{"root", "not-a-folder"}}), dir_->path());
    const Error e = expect_error(KESTREL_ERR_IO, [&] { bad.start(); });
    assert_contains(e.what(), dir_->file("not-a-folder") + " exists and is not a folder");
  }

  void testUploadModeChosenAtStart() {
    const Poco::JSON::Object::Ptr status = status_of(*store_);
    CPPUNIT_ASSERT_EQUAL(std::string(expect_tmpfile() ? "tmpfile" : "named"),
                         status->getValue<std::string>("upload_mode"));
    CPPUNIT_ASSERT_EQUAL(tmpfile_option(), status->getValue<std::string>("tmpfile"));
    // The choice is logged once, with the folder.
    int logged = 0;
    for (const std::string& line : store_->log_lines())
      if (line.find("uploads use ") != std::string::npos && line.find(root_ + "/.tmp") != std::string::npos) ++logged;
    CPPUNIT_ASSERT_EQUAL(1, logged);
    // The probe leaves nothing behind.
    CPPUNIT_ASSERT(list(root_ + "/.tmp").empty());
  }

  void testCommitLeavesNothingInTmp() {
    const std::string bytes = image_bytes(11);
    const std::string sha = sha256_of(bytes);
    for (int round = 0; round < 2; ++round) {  // a new file, then a duplicate
      auto upload = blobs_.begin();
      upload.append(bytes.data(), bytes.size());
      CPPUNIT_ASSERT_EQUAL(named_uploads(1), list(root_ + "/.tmp").size());
      upload.commit(sha, "png");
      CPPUNIT_ASSERT(list(root_ + "/.tmp").empty());
    }
    CPPUNIT_ASSERT_EQUAL(sha.substr(0, 2) + "/" + sha + ".png", joined(files_under(root_)));
  }

  void testSigkilledUploadLeavesNoFile() {
    int ready[2];
    CPPUNIT_ASSERT_EQUAL(0, ::pipe(ready));
    const pid_t pid = ::fork();
    CPPUNIT_ASSERT(pid >= 0);
    if (pid == 0) {
      // The child begins an upload, appends, says so, and waits to be killed.
      ::close(ready[0]);
      try {
        ComponentHarness child(blob_local::component_descriptor(), options(), dir_->path());
        child.start();
        BlobStoreClient client(child.interface(KESTREL_IFACE_BLOBSTORE_V1));
        auto upload = client.begin();
        const std::string bytes = image_bytes(12, 256 * 1024);
        upload.append(bytes.data(), bytes.size());
        if (::write(ready[1], "r", 1) != 1) ::_exit(2);
        for (;;) ::pause();
      } catch (...) {
      }
      ::_exit(1);
    }
    ::close(ready[1]);
    ChildGuard child(pid);
    char byte = 0;
    const ssize_t n = ::read(ready[0], &byte, 1);
    ::close(ready[0]);
    CPPUNIT_ASSERT_EQUAL_MESSAGE("the child did not get to its upload", ssize_t{1}, n);
    CPPUNIT_ASSERT_EQUAL(named_uploads(1), list(root_ + "/.tmp").size());  // in progress

    const int status = child.kill_and_reap();
    CPPUNIT_ASSERT(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    // Unnamed: the kernel freed the inode; nothing anywhere under the root.
    // Named: the temp file stays until the next start.
    CPPUNIT_ASSERT_EQUAL(named_uploads(1), files_under(root_).size());
    ComponentHarness restarted(blob_local::component_descriptor(), options(), dir_->path());
    restarted.start();
    CPPUNIT_ASSERT(files_under(root_).empty());
  }

  void testSameBytesFromTwoThreadsAtOnce() {
    constexpr int kRounds = 20;
    for (int round = 0; round < kRounds; ++round) {
      const std::string bytes = image_bytes(100 + round, 64 * 1024);
      const std::string sha = sha256_of(bytes);
      std::atomic<int> appended{0};
      std::string paths[2], errors[2];
      auto upload_once = [&](int i) {
        try {
          auto upload = blobs_.begin();
          upload.append(bytes.data(), bytes.size());
          // Both uploads are written before either commits, so the commits race.
          ++appended;
          while (appended.load() < 2) std::this_thread::yield();
          paths[i] = upload.commit(sha, "jpg");
        } catch (const std::exception& e) {
          errors[i] = e.what();
          ++appended;  // never leave the other thread waiting
        }
      };
      std::thread a(upload_once, 0), b(upload_once, 1);
      a.join();
      b.join();
      CPPUNIT_ASSERT_EQUAL(std::string(), errors[0]);
      CPPUNIT_ASSERT_EQUAL(std::string(), errors[1]);
      CPPUNIT_ASSERT_EQUAL(sha.substr(0, 2) + "/" + sha + ".jpg", paths[0]);
      CPPUNIT_ASSERT_EQUAL(paths[0], paths[1]);
      CPPUNIT_ASSERT(read_file(root_ + "/" + paths[0]) == bytes);
    }
    CPPUNIT_ASSERT_EQUAL(size_t{kRounds}, files_under(root_).size());  // one file per content, nothing in .tmp
    const Poco::JSON::Object::Ptr uploads = status_of(*store_)->getObject("uploads");
    const int committed = uploads->getValue<int>("committed");
    const int deduplicated = uploads->getValue<int>("deduplicated");
    // Unnamed uploads link exactly once per content; named ones may both
    // rename (the second replaces the first with the same bytes).
    CPPUNIT_ASSERT_EQUAL(2 * kRounds, committed + deduplicated);
    if (expect_tmpfile()) CPPUNIT_ASSERT_EQUAL(kRounds, committed);
    CPPUNIT_ASSERT_EQUAL(0, uploads->getValue<int>("open"));
    CPPUNIT_ASSERT_EQUAL(0, uploads->getValue<int>("aborted"));
  }

  void testDebrisOfAnotherSizeReplaced() {
    const std::string bytes = image_bytes(13);
    const std::string sha = sha256_of(bytes);
    const std::string relative = sha.substr(0, 2) + "/" + sha + ".png";
    dir_->make_dir("images/" + sha.substr(0, 2));
    {
      std::ofstream debris(root_ + "/" + relative, std::ios::binary);
      debris << bytes.substr(0, 100);  // e.g. a copy made by hand and cut short
    }
    auto upload = blobs_.begin();
    upload.append(bytes.data(), bytes.size());
    CPPUNIT_ASSERT_EQUAL(relative, upload.commit(sha, "png"));
    CPPUNIT_ASSERT(read_file(root_ + "/" + relative) == bytes);
    CPPUNIT_ASSERT_EQUAL(relative, joined(files_under(root_)));
    CPPUNIT_ASSERT_EQUAL(1, status_of(*store_)->getObject("uploads")->getValue<int>("committed"));
  }

  void testFolderRemovedBehindTheStoreIsRemade() {
    const std::string bytes = image_bytes(14);
    const std::string sha = sha256_of(bytes);
    const std::string folder = root_ + "/" + sha.substr(0, 2);
    for (int round = 0; round < 2; ++round) {
      auto upload = blobs_.begin();
      upload.append(bytes.data(), bytes.size());
      const std::string path = upload.commit(sha, "png");
      CPPUNIT_ASSERT(read_file(root_ + "/" + path) == bytes);
      // An operator removes the file and its folder, which the store knows exists.
      CPPUNIT_ASSERT_EQUAL(0, ::unlink((root_ + "/" + path).c_str()));
      CPPUNIT_ASSERT_EQUAL(0, ::rmdir(folder.c_str()));
    }
    CPPUNIT_ASSERT_EQUAL(2, status_of(*store_)->getObject("uploads")->getValue<int>("committed"));
  }

  void testOpenUploadFinishesAfterStop() {
    const std::string bytes = image_bytes(15);
    auto upload = blobs_.begin();
    upload.append(bytes.data(), bytes.size());
    store_->stop();
    expect_error(KESTREL_ERR_UNAVAILABLE, [&] { blobs_.begin(); });
    const std::string path = upload.commit(sha256_of(bytes), "png");
    CPPUNIT_ASSERT(read_file(root_ + "/" + path) == bytes);
    CPPUNIT_ASSERT(list(root_ + "/.tmp").empty());
  }

  // ABI 1.2: commit_deferred names nothing until sync; sync names and counts
  // every upload committed before it, duplicates included.
  void testGroupCommitNamesFilesAtSync() { group_commit_round(blobs_, *store_, root_); }

  void testGroupCommitWithFsyncBarrier() {
    ComponentHarness other(blob_local::component_descriptor(), options({{"root", "other"}, {"batch_sync", "fsync"}}),
                           dir_->path());
    other.start();
    CPPUNIT_ASSERT_EQUAL(std::string("fsync"), status_of(other)->getValue<std::string>("batch_sync"));
    group_commit_round(BlobStoreClient(other.interface(KESTREL_IFACE_BLOBSTORE_V1)), other, dir_->file("other"));
    const Error e = expect_error(KESTREL_ERR_INVALID, [&] {
      ComponentHarness bad(blob_local::component_descriptor(), options({{"batch_sync", "never"}}), dir_->path());
    });
    assert_contains(e.what(), "batch_sync");
  }

  // A store that goes away before sync (a crash, as far as the files are
  // concerned) leaves no named file: unnamed uploads vanish with their
  // descriptor, named temp files are removed by the next start.
  void testUnsyncedGroupCommitLeavesNothing() {
    {
      ComponentHarness gone(blob_local::component_descriptor(), options({{"root", "gone"}}), dir_->path());
      gone.start();
      BlobStoreClient client(gone.interface(KESTREL_IFACE_BLOBSTORE_V1));
      for (int i = 0; i < 3; ++i) {
        const std::string bytes = image_bytes(40 + i);
        auto upload = client.begin();
        upload.append(bytes.data(), bytes.size());
        upload.commit_deferred(sha256_of(bytes), "png");
      }
      CPPUNIT_ASSERT_EQUAL(named_uploads(3), list(dir_->file("gone") + "/.tmp").size());
    }
    ComponentHarness again(blob_local::component_descriptor(), options({{"root", "gone"}}), dir_->path());
    again.start();
    const std::vector<std::string> left = files_under(dir_->file("gone"));
    CPPUNIT_ASSERT_MESSAGE(joined(left), left.empty());
  }

  // Writers committing deferred uploads while another thread syncs: every
  // upload is named by some sync (the last one at the latest), none twice.
  void testGroupCommitsBesideSyncs() {
    constexpr int kWriters = 3, kEach = 20;
    std::atomic<bool> done{false};
    std::thread syncer([&] {
      while (!done.load()) blobs_.sync();
    });
    std::vector<std::thread> writers;
    std::vector<std::vector<std::string>> paths(kWriters);
    for (int w = 0; w < kWriters; ++w)
      writers.emplace_back([&, w] {
        for (int i = 0; i < kEach; ++i) {
          const std::string bytes = image_bytes(100 + w * kEach + i, 2048);
          auto upload = blobs_.begin();
          upload.append(bytes.data(), bytes.size());
          paths[w].push_back(upload.commit_deferred(sha256_of(bytes), "png"));
        }
      });
    for (auto& t : writers) t.join();
    done = true;
    syncer.join();
    blobs_.sync();
    for (int w = 0; w < kWriters; ++w)
      for (int i = 0; i < kEach; ++i)
        CPPUNIT_ASSERT_EQUAL(image_bytes(100 + w * kEach + i, 2048), read_file(root_ + "/" + paths[w][i]));
    Poco::JSON::Object::Ptr uploads = status_of(*store_)->getObject("uploads");
    CPPUNIT_ASSERT_EQUAL(kWriters * kEach, uploads->getValue<int>("committed"));
    CPPUNIT_ASSERT_EQUAL(0, uploads->getValue<int>("waiting_for_sync"));
    CPPUNIT_ASSERT_EQUAL(0, uploads->getValue<int>("aborted"));
  }

  // A caller built for ABI 1.2 against a store table of 1.1 (no
  // commit_deferred, no sync): commit_deferred commits durably, sync is a no-op.
  void testStoreWithoutGroupCommitFallsBack() {
    const kestrel_interface ref = store_->interface(KESTREL_IFACE_BLOBSTORE_V1);
    kestrel_blobstore_v1 old = *static_cast<const kestrel_blobstore_v1*>(ref.vtable);
    old.struct_size = static_cast<uint32_t>(offsetof(kestrel_blobstore_v1, commit_deferred));
    old.commit_deferred = nullptr;  // what a 1.1 table would not have
    old.sync = nullptr;
    BlobStoreClient client(kestrel_interface{sizeof(kestrel_interface), &old, ref.instance});
    const std::string bytes = image_bytes(50);
    auto upload = client.begin();
    upload.append(bytes.data(), bytes.size());
    const std::string path = upload.commit_deferred(sha256_of(bytes), "png");
    CPPUNIT_ASSERT(client.exists(path));  // at once: it was a durable commit
    client.sync();
    CPPUNIT_ASSERT_EQUAL(0, status_of(*store_)->getObject("uploads")->getValue<int>("waiting_for_sync"));
  }

  void testBadTmpfileOptionRefused() {
    const Error e = expect_error(KESTREL_ERR_INVALID, [&] {
      ComponentHarness bad(blob_local::component_descriptor(), {{"tmpfile", "always"}}, dir_->path());
    });
    assert_contains(e.what(), "tmpfile");
    assert_contains(e.what(), "auto, off");
  }

 protected:
  // The value of the tmpfile option this fixture runs with.
  virtual std::string tmpfile_option() const { return "auto"; }
  // The fixture's options plus `extra`.
  OptionText options(OptionText extra = {}) const {
    extra["tmpfile"] = tmpfile_option();
    return extra;
  }
  // Three deferred commits (two contents, one repeated) then a sync, checked
  // before and after.
  void group_commit_round(const BlobStoreClient& client, ComponentHarness& store, const std::string& root) {
    std::vector<std::string> paths;
    const std::string a = image_bytes(30), b = image_bytes(31);
    for (const std::string* bytes : {&a, &b, &a}) {
      auto upload = client.begin();
      upload.append(bytes->data(), bytes->size());
      paths.push_back(upload.commit_deferred(sha256_of(*bytes), "png"));
    }
    CPPUNIT_ASSERT_EQUAL(paths[0], paths[2]);
    CPPUNIT_ASSERT(!client.exists(paths[0]));  // no name before the sync
    CPPUNIT_ASSERT(!client.exists(paths[1]));
    Poco::JSON::Object::Ptr uploads = status_of(store)->getObject("uploads");
    CPPUNIT_ASSERT_EQUAL(3, uploads->getValue<int>("waiting_for_sync"));
    CPPUNIT_ASSERT_EQUAL(0, uploads->getValue<int>("open"));
    client.sync();
    CPPUNIT_ASSERT_EQUAL(a, read_file(root + "/" + paths[0]));
    CPPUNIT_ASSERT_EQUAL(b, read_file(root + "/" + paths[1]));
    uploads = status_of(store)->getObject("uploads");
    CPPUNIT_ASSERT_EQUAL(0, uploads->getValue<int>("waiting_for_sync"));
    CPPUNIT_ASSERT_EQUAL(2, uploads->getValue<int>("committed"));
    CPPUNIT_ASSERT_EQUAL(1, uploads->getValue<int>("deduplicated"));
    CPPUNIT_ASSERT_MESSAGE(joined(list(root + "/.tmp")), list(root + "/.tmp").empty());
    client.sync();  // nothing waiting: a no-op
    CPPUNIT_ASSERT_EQUAL(size_t{2}, files_under(root).size());
  }

  // Whether uploads should be unnamed: tmpfile: auto on a filesystem that has O_TMPFILE.
  bool expect_tmpfile() const { return tmpfile_option() == "auto" && tmpfile_supported(root_ + "/.tmp"); }
  // How many entries `n` uploads in progress show in .tmp/: none if unnamed.
  size_t named_uploads(size_t n) const { return expect_tmpfile() ? 0 : n; }

 private:
  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<ComponentHarness> store_;
  BlobStoreClient blobs_;
  std::string root_;
};

// The same tests with named temp files: the path taken where the filesystem
// has no O_TMPFILE.
class BlobLocalNamedTest : public BlobLocalTest {
  CPPUNIT_TEST_SUB_SUITE(BlobLocalNamedTest, BlobLocalTest);
  CPPUNIT_TEST_SUITE_END();

 protected:
  std::string tmpfile_option() const override { return "off"; }
};

CPPUNIT_TEST_SUITE_REGISTRATION(BlobLocalTest);
CPPUNIT_TEST_SUITE_REGISTRATION(BlobLocalNamedTest);

}  // namespace store_test
}  // namespace kestrel
