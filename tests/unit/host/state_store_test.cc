// The durable key-value store (ABI 1.3) on a real SQLite file: versions that
// only grow, namespaces, prefix lists, compare-and-set races between threads
// with connections of their own, and a value that survives the SIGKILL of
// the process that wrote it.
#include <cppunit/extensions/HelperMacros.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <kestrel/plugin.hpp>

#include <thread>
#include <vector>

#include "kestrel/test/temp_dir.h"
#include "runtime/state_store.h"

using kestrel::host::StateStore;

class StateStoreTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(StateStoreTest);
  CPPUNIT_TEST(put_get_delete_and_versions);
  CPPUNIT_TEST(namespaces_and_prefix_lists);
  CPPUNIT_TEST(compare_and_set);
  CPPUNIT_TEST(compare_and_set_races_across_connections);
  CPPUNIT_TEST(survives_sigkill_of_the_writer);
  CPPUNIT_TEST(bad_input_and_unwritable_folder);
  CPPUNIT_TEST_SUITE_END();

 public:
  void put_get_delete_and_versions() {
    kestrel::test::TempDir dir("kv");
    StateStore s(dir.file("node.db"));
    CPPUNIT_ASSERT(!s.get("c", "k"));
    const uint64_t v1 = s.put("c", "k", std::string("a\0b", 3));
    const uint64_t v2 = s.put("c", "other", "x");
    CPPUNIT_ASSERT(v2 > v1);
    auto e = s.get("c", "k");
    CPPUNIT_ASSERT(e);
    CPPUNIT_ASSERT_EQUAL(std::string("a\0b", 3), e->value);
    CPPUNIT_ASSERT_EQUAL(v1, e->version);
    CPPUNIT_ASSERT(s.remove("c", "k"));
    CPPUNIT_ASSERT(!s.remove("c", "k"));
    CPPUNIT_ASSERT(!s.get("c", "k"));
    const uint64_t v3 = s.put("c", "k", "again");
    CPPUNIT_ASSERT_MESSAGE("a version is never reused after a delete", v3 > v2 + 1);
  }

  void namespaces_and_prefix_lists() {
    kestrel::test::TempDir dir("kv");
    StateStore s(dir.file("node.db"));
    s.put("a", "pos/b", "2");
    s.put("a", "pos/a", "1");
    s.put("a", "posx", "no");
    s.put("a", "pos\xff", "ff");
    s.put("b", "pos/c", "other component");
    std::vector<std::string> keys;
    s.list("a", "pos/", [&](const std::string& k, const StateStore::Entry&) {
      keys.push_back(k);
      return true;
    });
    CPPUNIT_ASSERT_EQUAL(size_t{2}, keys.size());
    CPPUNIT_ASSERT_EQUAL(std::string("pos/a"), keys[0]);
    CPPUNIT_ASSERT_EQUAL(std::string("pos/b"), keys[1]);
    keys.clear();
    s.list("a", "", [&](const std::string& k, const StateStore::Entry&) {
      keys.push_back(k);
      return true;
    });
    CPPUNIT_ASSERT_EQUAL(size_t{4}, keys.size());
    CPPUNIT_ASSERT_EQUAL(std::string("pos\xff"), keys[3]);  // bytewise order
    CPPUNIT_ASSERT(!s.get("b", "pos/a"));
    CPPUNIT_ASSERT(!s.get("a", "pos/c"));
  }

  void compare_and_set() {
    kestrel::test::TempDir dir("kv");
    StateStore s(dir.file("node.db"));
    uint64_t v = 99;
    CPPUNIT_ASSERT(s.compare_and_set("c", "lease", 0, "holder-1", &v));
    const uint64_t first = v;
    CPPUNIT_ASSERT(!s.compare_and_set("c", "lease", 0, "holder-2", &v));
    CPPUNIT_ASSERT_EQUAL(first, v);  // the current version
    CPPUNIT_ASSERT(!s.compare_and_set("c", "lease", first + 100, "holder-2", &v));
    CPPUNIT_ASSERT(s.compare_and_set("c", "lease", first, "holder-2", &v));
    CPPUNIT_ASSERT(v > first);
    CPPUNIT_ASSERT_EQUAL(std::string("holder-2"), s.get("c", "lease")->value);
    CPPUNIT_ASSERT(!s.compare_and_set("c", "absent", 5, "x", &v));
    CPPUNIT_ASSERT_EQUAL(uint64_t{0}, v);
  }

  // Each thread has its own StateStore (its own SQLite connection), so the
  // atomicity checked is the database's (BEGIN IMMEDIATE), not our mutex.
  void compare_and_set_races_across_connections() {
    kestrel::test::TempDir dir("kv");
    const std::string path = dir.file("node.db");
    StateStore(path).put("c", "counter", "0");
    constexpr int kThreads = 4, kEach = 50;
    std::vector<std::thread> threads;
    std::vector<int> conflicts(kThreads, 0);
    for (int t = 0; t < kThreads; ++t)
      threads.emplace_back([&, t] {
        StateStore s(path);
        for (int i = 0; i < kEach;) {
          auto e = s.get("c", "counter");
          uint64_t v = 0;
          if (s.compare_and_set("c", "counter", e->version, std::to_string(std::stoi(e->value) + 1), &v))
            ++i;
          else
            ++conflicts[t];
        }
      });
    for (auto& t : threads) t.join();
    CPPUNIT_ASSERT_EQUAL(std::to_string(kThreads * kEach), StateStore(path).get("c", "counter")->value);
  }

  void survives_sigkill_of_the_writer() {
    kestrel::test::TempDir dir("kv");
    const std::string path = dir.file("node.db");
    int ready[2];
    CPPUNIT_ASSERT(pipe(ready) == 0);
    const pid_t child = fork();
    if (child == 0) {
      close(ready[0]);
      StateStore s(path);
      s.put("replicator", "applied_position", "0/3000060");
      char ok = 'k';
      if (write(ready[1], &ok, 1) != 1) _exit(2);
      pause();  // killed here, with its connection open and no clean close
      _exit(0);
    }
    close(ready[1]);
    char got = 0;
    CPPUNIT_ASSERT_EQUAL(ssize_t{1}, read(ready[0], &got, 1));
    close(ready[0]);
    kill(child, SIGKILL);
    int status = 0;
    waitpid(child, &status, 0);
    CPPUNIT_ASSERT(WIFSIGNALED(status));
    auto e = StateStore(path).get("replicator", "applied_position");
    CPPUNIT_ASSERT(e);
    CPPUNIT_ASSERT_EQUAL(std::string("0/3000060"), e->value);
  }

  void bad_input_and_unwritable_folder() {
    kestrel::test::TempDir dir("kv");
    StateStore s(dir.file("node.db"));
    try {
      s.put("c", "", "x");
      CPPUNIT_FAIL("an empty key was accepted");
    } catch (const kestrel::Error& e) {
      CPPUNIT_ASSERT_EQUAL(KESTREL_ERR_INVALID, e.code());
    }
    try {
      s.put("c", std::string(StateStore::kMaxKeyBytes + 1, 'k'), "x");
      CPPUNIT_FAIL("a long key was accepted");
    } catch (const kestrel::Error& e) {
      CPPUNIT_ASSERT_EQUAL(KESTREL_ERR_INVALID, e.code());
    }
    StateStore missing(dir.file("no/such/folder/node.db"));
    try {
      missing.get("c", "k");
      CPPUNIT_FAIL("a database in a missing folder opened");
    } catch (const kestrel::Error& e) {
      CPPUNIT_ASSERT_EQUAL(KESTREL_ERR_IO, e.code());
      CPPUNIT_ASSERT_MESSAGE(e.what(), std::string(e.what()).find("no/such/folder/node.db") != std::string::npos);
    }
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(StateStoreTest);
