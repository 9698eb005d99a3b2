// The postmaster watch on real processes: a copy of sleep(1) named
// "postgres" plays the postmaster, its PID written to postmaster.pid as
// PostgreSQL writes it. An exit is reported once, at once (the rescan interval
// is a minute, so only the pidfd can report it in time), also while the dead
// process is an unreaped zombie; a restarted one is watched again; stale or
// foreign PIDs are not trusted.
#include <cppunit/extensions/HelperMacros.h>

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "ha/postmaster_watch.h"
#include "kestrel/test/child_process.h"
#include "kestrel/test/temp_dir.h"

using namespace kestrel::host::ha;
using kestrel::test::ChildProcess;
using kestrel::test::TempDir;
using namespace std::chrono_literals;

namespace {

// A "postmaster": sleep(1) copied under the name postgres (its comm).
std::unique_ptr<ChildProcess> fake_postmaster(const TempDir& dir, const std::string& data_dir) {
  const std::string program = dir.file("postgres");
  if (!std::filesystem::exists(program)) std::filesystem::copy_file("/bin/sleep", program);
  auto child = std::make_unique<ChildProcess>(program, std::vector<std::string>{"600"}, dir.file("out"),
                                              dir.file("err"));
  std::ofstream(data_dir + "/postmaster.pid") << child->pid() << "\n" << data_dir << "\n1700000000\n5432\n";
  // Until it has exec'd, the child is a copy of this test (another comm).
  const auto end = std::chrono::steady_clock::now() + 10s;
  while (running_postmaster_pid(data_dir) != child->pid() && std::chrono::steady_clock::now() < end)
    std::this_thread::sleep_for(1ms);
  return child;
}

template <typename F>
bool eventually(F f, std::chrono::milliseconds deadline) {
  const auto end = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < end) {
    if (f()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return f();
}

struct Exits {
  std::mutex mu;
  std::vector<std::pair<std::string, long>> seen;
  size_t count() {
    std::lock_guard<std::mutex> lock(mu);
    return seen.size();
  }
};

}  // namespace

class PostmasterWatchTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(PostmasterWatchTest);
  CPPUNIT_TEST(pid_file_is_trusted_only_for_a_running_postgres);
  CPPUNIT_TEST(exit_is_reported_once_and_at_once);
  CPPUNIT_TEST(restarted_postmaster_is_watched_again);
  CPPUNIT_TEST_SUITE_END();

 public:
  void pid_file_is_trusted_only_for_a_running_postgres() {
    TempDir dir("pmwatch");
    const std::string data = dir.make_dir("pg");
    CPPUNIT_ASSERT_EQUAL(0L, running_postmaster_pid(data));  // no file
    std::ofstream(data + "/postmaster.pid") << "garbage\n";
    CPPUNIT_ASSERT_EQUAL(0L, running_postmaster_pid(data));
    std::ofstream(data + "/postmaster.pid") << ::getpid() << "\n";  // alive, but not named postgres
    CPPUNIT_ASSERT_EQUAL(0L, running_postmaster_pid(data));
    auto pm = fake_postmaster(dir, data);
    CPPUNIT_ASSERT_EQUAL(static_cast<long>(pm->pid()), running_postmaster_pid(data));
    pm->kill();
    pm->wait_or_kill(10s);
    CPPUNIT_ASSERT_EQUAL(0L, running_postmaster_pid(data));  // stale file, as a crash leaves it
  }

  void exit_is_reported_once_and_at_once() {
    TempDir dir("pmwatch");
    const std::string a = dir.make_dir("a"), b = dir.make_dir("b");
    auto pa = fake_postmaster(dir, a);
    auto pb = fake_postmaster(dir, b);
    Exits exits;
    PostmasterWatch watch({{"a", a}, {"b", b}}, 60000, [&](const std::string& node, long pid) {
      std::lock_guard<std::mutex> lock(exits.mu);
      exits.seen.emplace_back(node, pid);
    });
    watch.start();
    CPPUNIT_ASSERT_EQUAL(static_cast<long>(pa->pid()), watch.pid("a"));
    CPPUNIT_ASSERT_EQUAL(static_cast<long>(pb->pid()), watch.pid("b"));
    const long killed = pa->pid();
    pa->kill();  // not reaped yet: a zombie, still "alive" to kill(pid, 0)
    CPPUNIT_ASSERT_MESSAGE("exit not reported within 5 s", eventually([&] { return exits.count() >= 1; }, 5000ms));
    std::this_thread::sleep_for(300ms);  // a zombie must not be re-watched and reported again
    {
      std::lock_guard<std::mutex> lock(exits.mu);
      CPPUNIT_ASSERT_EQUAL(size_t{1}, exits.seen.size());
      CPPUNIT_ASSERT_EQUAL(std::string("a"), exits.seen[0].first);
      CPPUNIT_ASSERT_EQUAL(killed, exits.seen[0].second);
    }
    CPPUNIT_ASSERT_EQUAL(0L, watch.pid("a"));
    CPPUNIT_ASSERT_EQUAL(static_cast<long>(pb->pid()), watch.pid("b"));
    pa->wait_or_kill(10s);
    watch.stop();
    watch.stop();  // idempotent
  }

  void restarted_postmaster_is_watched_again() {
    TempDir dir("pmwatch");
    const std::string a = dir.make_dir("a");
    Exits exits;
    PostmasterWatch watch({{"a", a}}, 50, [&](const std::string& node, long pid) {
      std::lock_guard<std::mutex> lock(exits.mu);
      exits.seen.emplace_back(node, pid);
    });
    watch.start();  // nothing runs yet
    CPPUNIT_ASSERT_EQUAL(0L, watch.pid("a"));
    auto first = fake_postmaster(dir, a);
    CPPUNIT_ASSERT(eventually([&] { return watch.pid("a") == first->pid(); }, 5000ms));
    first->kill();
    first->wait_or_kill(10s);
    CPPUNIT_ASSERT(eventually([&] { return exits.count() == 1; }, 5000ms));
    auto second = fake_postmaster(dir, a);
    CPPUNIT_ASSERT(eventually([&] { return watch.pid("a") == second->pid(); }, 5000ms));
    second->kill();
    second->wait_or_kill(10s);
    CPPUNIT_ASSERT(eventually([&] { return exits.count() == 2; }, 5000ms));
    std::lock_guard<std::mutex> lock(exits.mu);
    CPPUNIT_ASSERT_EQUAL(static_cast<long>(second->pid()), exits.seen[1].second);
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(PostmasterWatchTest);
