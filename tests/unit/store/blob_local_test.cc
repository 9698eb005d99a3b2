// blob-local through its C blobstore table, on a real temp folder.
#include <Poco/DigestEngine.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/SHA2Engine.h>
#include <cppunit/extensions/HelperMacros.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

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

// Bytes that look like the start of a PNG, distinct per seed.
std::string image_bytes(int seed, size_t size = 4096) {
  std::string bytes = "\x89PNG\r\n\x1a\n";
  for (size_t i = bytes.size(); i < size; ++i) bytes.push_back(static_cast<char>((i * 31 + seed) & 0xff));
  return bytes;
}

}  // namespace

class BlobLocalTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(BlobLocalTest);
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
  CPPUNIT_TEST_SUITE_END();

 public:
  void setUp() override {
    dir_ = std::make_unique<TempDir>();
    store_ = std::make_unique<ComponentHarness>(blob_local::component_descriptor(), OptionText{}, dir_->path());
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
      CPPUNIT_ASSERT_EQUAL(size_t{1}, list(root_ + "/.tmp").size());  // the upload is in progress
      upload.abort();
    }
    CPPUNIT_ASSERT(list(root_ + "/.tmp").empty());
    {
      auto upload = blobs_.begin();  // dropped without commit: the client aborts it
      upload.append("x", 1);
    }
    CPPUNIT_ASSERT(list(root_ + "/.tmp").empty());
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
        ComponentHarness crashing(blob_local::component_descriptor(), OptionText{}, dir_->path());
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
    CPPUNIT_ASSERT_EQUAL(size_t{1}, list(root_ + "/.tmp").size());  // the crash left its upload behind

    ComponentHarness restarted(blob_local::component_descriptor(), OptionText{}, dir_->path());
    restarted.start();
    CPPUNIT_ASSERT(list(root_ + "/.tmp").empty());
  }

  void testWithoutFsync() {
    ComponentHarness fast(blob_local::component_descriptor(), OptionText{{"root", "fast"}, {"fsync", "false"}},
                          dir_->path());
    fast.start();
    BlobStoreClient client(fast.interface(KESTREL_IFACE_BLOBSTORE_V1));
    const std::string bytes = image_bytes(9);
    auto upload = client.begin();
    upload.append(bytes.data(), bytes.size());
    const std::string path = upload.commit(sha256_of(bytes), "gif");
    CPPUNIT_ASSERT_EQUAL(bytes, read_file(dir_->file("fast") + "/" + path));
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
    ComponentHarness bad(blob_local::component_descriptor(), OptionText{{"root", "not-a-folder"}}, dir_->path());
    const Error e = expect_error(KESTREL_ERR_IO, [&] { bad.start(); });
    assert_contains(e.what(), dir_->file("not-a-folder") + " exists and is not a folder");
  }

 private:
  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<ComponentHarness> store_;
  BlobStoreClient blobs_;
  std::string root_;
};

CPPUNIT_TEST_SUITE_REGISTRATION(BlobLocalTest);

}  // namespace store_test
}  // namespace kestrel
