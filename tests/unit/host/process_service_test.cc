// The process service (ABI 1.3) with real commands: output and exit codes,
// environment and working folder, the output bound, a command that ignores
// SIGTERM and leaves a grandchild killed with its whole group on timeout
// (checked by PID, also as another user), cancel at stop with SIGTERM
// blocked in the calling thread (as the host's threads have it), and the
// refusals.
#include <cppunit/extensions/HelperMacros.h>
#include <signal.h>
#include <unistd.h>

#include <kestrel/plugin.hpp>

#include <chrono>
#include <fstream>
#include <future>
#include <thread>

#include "kestrel/test/temp_dir.h"
#include "runtime/process_service.h"

using kestrel::host::ProcessService;
using namespace std::chrono_literals;

namespace {

ProcessService::Result run(ProcessService& ps, ProcessService::Request r, std::string* out = nullptr) {
  std::string sink;
  auto res = ps.run("c", r, [&](const char* d, size_t n) { sink.append(d, n); });
  if (out) *out = sink;
  return res;
}

ProcessService::Request sh(const std::string& script) {
  ProcessService::Request r;
  r.argv = {"sh", "-c", script};
  return r;
}

// A process is gone when /proc has no entry or only a zombie's (PID 1 of a
// container may never reap what was reparented to it).
bool gone(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return true;
  std::string line;
  std::getline(stat, line);
  const size_t close = line.rfind(')');
  return close != std::string::npos && close + 2 < line.size() && line[close + 2] == 'Z';
}

bool gone_soon(pid_t pid) {
  for (int i = 0; i < 500 && !gone(pid); ++i) std::this_thread::sleep_for(10ms);
  return gone(pid);
}

kestrel_result code_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const kestrel::Error& e) {
    return e.code();
  }
  return KESTREL_OK;
}

}  // namespace

class ProcessServiceTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(ProcessServiceTest);
  CPPUNIT_TEST(output_and_exit_code);
  CPPUNIT_TEST(environment_and_working_folder);
  CPPUNIT_TEST(output_beyond_the_bound_is_cut_and_counted);
  CPPUNIT_TEST(timeout_kills_the_whole_group);
  CPPUNIT_TEST(timeout_kills_the_whole_group_as_another_user);
  CPPUNIT_TEST(runs_as_another_user);
  CPPUNIT_TEST(cancel_kills_with_sigterm_blocked_in_caller);
  CPPUNIT_TEST(refusals);
  CPPUNIT_TEST_SUITE_END();

 public:
  void output_and_exit_code() {
    ProcessService ps;
    std::string out;
    auto r = run(ps, sh("echo out; echo err >&2; exit 3"), &out);
    CPPUNIT_ASSERT_EQUAL(3, r.exit_code);
    CPPUNIT_ASSERT_EQUAL(std::string("out\nerr\n"), out);
    CPPUNIT_ASSERT(!r.timed_out && !r.cancelled && !r.output_truncated);
    CPPUNIT_ASSERT_EQUAL(uint64_t{8}, r.output_bytes);
    CPPUNIT_ASSERT(r.pid > 0);
    CPPUNIT_ASSERT_EQUAL(0, run(ps, sh("read x || exit 0; exit 1")).exit_code);  // stdin is /dev/null
  }

  void environment_and_working_folder() {
    kestrel::test::TempDir dir("proc");
    ProcessService ps;
    auto r = sh("echo \"$PGPASSWORD:$HOME:$(pwd)\"");
    r.env = {"PGPASSWORD=s3cret", "HOME=/nowhere"};
    r.working_dir = dir.path();
    std::string out;
    CPPUNIT_ASSERT_EQUAL(0, run(ps, r, &out).exit_code);
    CPPUNIT_ASSERT_EQUAL("s3cret:/nowhere:" + dir.path() + "\n", out);
    CPPUNIT_ASSERT_EQUAL(0, run(ps, sh("[ \"$(pwd)\" = / ]")).exit_code);
  }

  void output_beyond_the_bound_is_cut_and_counted() {
    ProcessService ps;
    auto r = sh("head -c 100000 /dev/zero");
    r.output_limit = 1000;
    std::string out;
    auto res = run(ps, r, &out);
    CPPUNIT_ASSERT_EQUAL(0, res.exit_code);
    CPPUNIT_ASSERT_EQUAL(size_t{1000}, out.size());
    CPPUNIT_ASSERT(res.output_truncated);
    CPPUNIT_ASSERT_EQUAL(uint64_t{100000}, res.output_bytes);
  }

  // The leader and its background child both ignore SIGTERM (an ignored
  // disposition survives exec): only the group's SIGKILL ends them.
  void group_killed_on_timeout(const std::string& user) {
    ProcessService ps;
    auto r = sh("trap '' TERM; sleep 300 & echo $!; wait; wait");
    r.timeout_ms = 300;
    r.run_as = user;
    std::string out;
    auto res = run(ps, r, &out);
    CPPUNIT_ASSERT(res.timed_out);
    CPPUNIT_ASSERT_EQUAL(128 + SIGKILL, res.exit_code);
    const pid_t grandchild = static_cast<pid_t>(std::stol(out));
    CPPUNIT_ASSERT(grandchild > 0);
    CPPUNIT_ASSERT_MESSAGE("the leader is left", gone(res.pid));
    CPPUNIT_ASSERT_MESSAGE("the grandchild " + std::to_string(grandchild) + " is left", gone_soon(grandchild));
  }
  void timeout_kills_the_whole_group() { group_killed_on_timeout(""); }
  void timeout_kills_the_whole_group_as_another_user() {
    CPPUNIT_ASSERT_MESSAGE("the process tests run as root (CI does)", geteuid() == 0);
    group_killed_on_timeout("nobody");
  }

  void runs_as_another_user() {
    ProcessService ps;
    auto r = sh("id -u; echo $HOME $USER");
    r.run_as = "nobody";
    std::string out;
    if (geteuid() != 0) {
      CPPUNIT_ASSERT_EQUAL(KESTREL_ERR_INVALID, code_of([&] { run(ps, r); }));
      return;
    }
    CPPUNIT_ASSERT_EQUAL(0, run(ps, r, &out).exit_code);
    CPPUNIT_ASSERT_EQUAL(std::string("65534\n/nonexistent nobody\n"), out);
  }

  void cancel_kills_with_sigterm_blocked_in_caller() {
    ProcessService ps;
    std::promise<void> started;
    std::atomic<bool> once{false};
    auto running = std::async(std::launch::async, [&] {
      sigset_t block;
      sigemptyset(&block);
      sigaddset(&block, SIGTERM);
      pthread_sigmask(SIG_BLOCK, &block, nullptr);  // the host's threads block it; the child must not
      return ps.run("c", sh("echo started; exec sleep 300"), [&](const char*, size_t) {
        if (!once.exchange(true)) started.set_value();
      });
    });
    CPPUNIT_ASSERT(started.get_future().wait_for(30s) == std::future_status::ready);
    ps.cancel("other");  // another component's cancel leaves it running
    std::this_thread::sleep_for(100ms);
    CPPUNIT_ASSERT(running.wait_for(0s) == std::future_status::timeout);
    ps.cancel("c");
    CPPUNIT_ASSERT(running.wait_for(30s) == std::future_status::ready);
    auto res = running.get();
    CPPUNIT_ASSERT(res.cancelled);
    CPPUNIT_ASSERT_EQUAL(128 + SIGTERM, res.exit_code);  // SIGTERM was enough: it was not blocked in the child
  }

  void refusals() {
    ProcessService ps;
    ProcessService::Request r;
    CPPUNIT_ASSERT_EQUAL(KESTREL_ERR_INVALID, code_of([&] { run(ps, r); }));
    r.argv = {"no-such-command-kestrel"};
    CPPUNIT_ASSERT_EQUAL(KESTREL_ERR_NOT_FOUND, code_of([&] { run(ps, r); }));
    r.argv = {"/etc/hostname"};
    CPPUNIT_ASSERT_EQUAL(KESTREL_ERR_NOT_FOUND, code_of([&] { run(ps, r); }));
    r = sh("true");
    r.run_as = "no-such-user-kestrel";
    CPPUNIT_ASSERT_EQUAL(KESTREL_ERR_INVALID, code_of([&] { run(ps, r); }));
    r = sh("true");
    r.working_dir = "/no/such/folder";
    CPPUNIT_ASSERT_EQUAL(KESTREL_ERR_NOT_FOUND, code_of([&] { run(ps, r); }));
    ps.set_refused("c", true);
    CPPUNIT_ASSERT_EQUAL(KESTREL_ERR_CANCELLED, code_of([&] { run(ps, sh("true")); }));
    ps.set_refused("c", false);
    CPPUNIT_ASSERT_EQUAL(0, run(ps, sh("true")).exit_code);
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ProcessServiceTest);
