// kestrel-bench-host-services: what each ABI 1.3 host service costs per call,
// through the C table a plugin calls (kestrel_host_api on a real
// ComponentRuntime), beside a peer doing the same work without Kestrel:
//   events   publish (0, 1 and 4 subscribers) and publish-to-callback latency
//            vs a std::mutex + condition_variable queue handed to one thread;
//   kv       put (durable: WAL, synchronous=FULL, one transaction), get and
//            compare-and-set vs raw SQLite statements prepared once, same
//            settings, same file system;
//   process  process_run of /bin/true vs posix_spawn + waitpid of /bin/true.
// Prints one line per measure: name, Kestrel's figure, the peer's, the ratio.
//   kestrel-bench-host-services PLUGIN_DIR SCRATCH_DIR [N]
#include <spawn.h>
#include <sqlite3.h>
#include <sys/wait.h>

#include <kestrel/plugin.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "config/component_graph.h"
#include "loader/plugin_registry.h"
#include "runtime/component_runtime.h"

extern char** environ;

using namespace kestrel::host;
using Clock = std::chrono::steady_clock;

namespace {

double us_since(Clock::time_point t) { return std::chrono::duration<double, std::micro>(Clock::now() - t).count(); }

void line(const char* name, const char* unit, double kestrel, double peer) {
  std::printf("%-34s %12.2f %12.2f %8.2f  (%s; Kestrel, peer, Kestrel/peer)\n", name, kestrel, peer,
              peer > 0 ? kestrel / peer : 0.0, unit);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}
double p99(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[std::min(v.size() - 1, v.size() * 99 / 100)];
}

// The peer of the event bus: one queue, one consumer thread.
struct PlainQueue {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::pair<std::string, Clock::time_point>> q;
  bool stop = false;
  std::vector<double> latency;
  std::atomic<int> got{0};
  std::thread t{[this] {
    std::unique_lock<std::mutex> lock(mu);
    for (;;) {
      cv.wait(lock, [this] { return stop || !q.empty(); });
      if (stop) return;
      auto e = std::move(q.front());
      q.pop_front();
      lock.unlock();
      latency.push_back(us_since(e.second));
      ++got;
      lock.lock();
    }
  }};
  void push(std::string s) {
    {
      std::lock_guard<std::mutex> lock(mu);
      q.emplace_back(std::move(s), Clock::now());
    }
    cv.notify_one();
  }
  ~PlainQueue() {
    {
      std::lock_guard<std::mutex> lock(mu);
      stop = true;
    }
    cv.notify_all();
    t.join();
  }
};

struct Latency {
  std::vector<double> us;
  std::atomic<int> got{0};
};

void bench_events(const kestrel_host_api* api, kestrel_host_ctx* pub, kestrel_host_ctx* sub_ctx, int n) {
  const char* json = "{\"from\":\"pg-a\",\"to\":\"pg-b\",\"epoch_after\":7}";
  kestrel_status st = kestrel::make_status();
  for (int subs : {0, 1, 4}) {
    std::vector<kestrel_subscription*> handles;
    auto noop = [](void*, const char*, const char*, const char*, size_t) {};
    for (int i = 0; i < subs; ++i)
      handles.push_back(api->event_subscribe(sub_ctx, "bench", static_cast<uint32_t>(n), noop, nullptr, &st));
    const auto t0 = Clock::now();
    for (int i = 0; i < n; ++i) api->event_publish(pub, "bench", json, &st);
    const double per = us_since(t0) * 1000.0 / n;
    for (auto* h : handles) api->event_unsubscribe(h);
    // The peer: as many plain queues as subscribers, each with its thread.
    std::vector<std::unique_ptr<PlainQueue>> peers;
    for (int i = 0; i < subs; ++i) peers.push_back(std::make_unique<PlainQueue>());
    const auto t1 = Clock::now();
    for (int i = 0; i < n; ++i)
      for (auto& p : peers) p->push(json);
    const double peer_per = us_since(t1) * 1000.0 / n;
    char name[64];
    std::snprintf(name, sizeof name, "event publish, %d subscriber(s)", subs);
    line(name, "ns per publish", per, subs == 0 ? 0 : peer_per);
  }
  // Latency: one event at a time, so queueing does not count.
  Latency lat;
  auto record = [](void* ctx, const char*, const char*, const char* json, size_t len) {
    auto* l = static_cast<Latency*>(ctx);
    const auto sent = std::chrono::nanoseconds(std::stoll(std::string(json + 6, len - 7)));
    l->us.push_back(std::chrono::duration<double, std::micro>(Clock::now().time_since_epoch() - sent).count());
    ++l->got;
  };
  kestrel_subscription* h = api->event_subscribe(sub_ctx, "bench.latency", 16, record, &lat, &st);
  PlainQueue peer;
  const int rounds = std::min(n, 2000);
  for (int i = 0; i < rounds; ++i) {
    const std::string j = "{\"t\":\"" + std::to_string(Clock::now().time_since_epoch().count()) + "\"}";
    api->event_publish(pub, "bench.latency", j.c_str(), &st);
    while (lat.got <= i) std::this_thread::yield();
    peer.push(j);
    while (peer.got <= i) std::this_thread::yield();
  }
  api->event_unsubscribe(h);
  line("event publish -> callback, median", "us", median(lat.us), median(peer.latency));
  line("event publish -> callback, p99", "us", p99(lat.us), p99(peer.latency));
}

struct Raw {
  sqlite3* db = nullptr;
  sqlite3_stmt* put = nullptr;
  sqlite3_stmt* get = nullptr;
  explicit Raw(const std::string& path) {
    sqlite3_open(path.c_str(), &db);
    sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                     "CREATE TABLE IF NOT EXISTS kv (key BLOB PRIMARY KEY, value BLOB, version INTEGER) WITHOUT ROWID;",
                 nullptr, nullptr, nullptr);
    sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO kv VALUES (?1, ?2, ?3)", -1, &put, nullptr);
    sqlite3_prepare_v2(db, "SELECT value, version FROM kv WHERE key = ?1", -1, &get, nullptr);
  }
  ~Raw() {
    sqlite3_finalize(put);
    sqlite3_finalize(get);
    sqlite3_close(db);
  }
};

void bench_kv(const kestrel_host_api* api, kestrel_host_ctx* ctx, const std::string& scratch, int n) {
  kestrel_status st = kestrel::make_status();
  const std::string value(64, 'v');
  uint64_t version = 0;
  auto t0 = Clock::now();
  for (int i = 0; i < n; ++i) {
    const std::string key = "cursor/" + std::to_string(i % 16);
    api->kv_put(ctx, key.c_str(), value.data(), value.size(), &version, &st);
  }
  const double put_us = us_since(t0) / n;
  auto sink = [](void*, const char*, size_t) { return 0; };
  t0 = Clock::now();
  for (int i = 0; i < n * 10; ++i) {
    const std::string key = "cursor/" + std::to_string(i % 16);
    api->kv_get(ctx, key.c_str(), sink, nullptr, &version, &st);
  }
  const double get_us = us_since(t0) / (n * 10);
  t0 = Clock::now();
  for (int i = 0; i < n; ++i) {
    uint64_t current = 0;
    api->kv_get(ctx, "lease", sink, nullptr, &current, &st);
    api->kv_compare_and_set(ctx, "lease", current, value.data(), value.size(), &version, &st);
  }
  const double cas_us = us_since(t0) / n;

  Raw raw(scratch + "/peer.db");
  t0 = Clock::now();
  for (int i = 0; i < n; ++i) {
    const std::string key = "cursor/" + std::to_string(i % 16);
    sqlite3_exec(raw.db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
    sqlite3_bind_blob(raw.put, 1, key.data(), static_cast<int>(key.size()), SQLITE_TRANSIENT);
    sqlite3_bind_blob(raw.put, 2, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
    sqlite3_bind_int64(raw.put, 3, i);
    sqlite3_step(raw.put);
    sqlite3_reset(raw.put);
    sqlite3_exec(raw.db, "COMMIT", nullptr, nullptr, nullptr);
  }
  const double raw_put_us = us_since(t0) / n;
  t0 = Clock::now();
  for (int i = 0; i < n * 10; ++i) {
    const std::string key = "cursor/" + std::to_string(i % 16);
    sqlite3_bind_blob(raw.get, 1, key.data(), static_cast<int>(key.size()), SQLITE_TRANSIENT);
    sqlite3_step(raw.get);
    sqlite3_reset(raw.get);
  }
  const double raw_get_us = us_since(t0) / (n * 10);
  line("kv_put (durable)", "us per call", put_us, raw_put_us);
  line("kv_get", "us per call", get_us, raw_get_us);
  line("kv_get + kv_compare_and_set", "us per pair", cas_us, raw_get_us + raw_put_us);
}

void bench_process(const kestrel_host_api* api, kestrel_host_ctx* ctx, int n) {
  const char* argv[] = {"/bin/true"};
  kestrel_process_request req;
  std::memset(&req, 0, sizeof req);
  req.struct_size = sizeof req;
  req.argv = argv;
  req.argc = 1;
  kestrel_process_result res;
  std::memset(&res, 0, sizeof res);
  res.struct_size = sizeof res;
  kestrel_status st = kestrel::make_status();
  auto t0 = Clock::now();
  for (int i = 0; i < n; ++i) api->process_run(ctx, &req, nullptr, nullptr, &res, &st);
  const double ours = us_since(t0) / n;
  t0 = Clock::now();
  for (int i = 0; i < n; ++i) {
    pid_t pid;
    char* const args[] = {const_cast<char*>("/bin/true"), nullptr};
    posix_spawn(&pid, "/bin/true", nullptr, nullptr, args, environ);
    int status;
    waitpid(pid, &status, 0);
  }
  line("process_run /bin/true", "us per run", ours, us_since(t0) / n);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s PLUGIN_DIR SCRATCH_DIR [N]\n", argv[0]);
    return 64;
  }
  const std::string plugin_dir = argv[1], scratch = argv[2];
  const int n = argc > 3 ? std::atoi(argv[3]) : 2000;
  PluginRegistry registry(ComponentRuntime::host_api(), "bench");
  registry.load_directory(plugin_dir);
  ConfigErrors errors;
  // Two components of a type every build has (blob-local needs no server).
  auto doc = ConfigDocument::load_text("components:\n  a:\n    type: blob-local\n    root: a\n"
                                       "  b:\n    type: blob-local\n    root: b\n",
                                       "bench.yaml", scratch, &errors);
  ComponentGraph graph = build_component_graph(*doc, registry, scratch, &errors);
  if (!errors.empty()) {
    for (const auto& e : errors) std::fprintf(stderr, "%s\n", e.message.c_str());
    return 1;
  }
  ComponentRuntime rt(std::move(graph), NodeSettings{"bench", scratch}, scratch);
  std::vector<std::string> errs;
  std::string err;
  if (!rt.create_all(&errs) || !rt.start_all(&err)) {
    std::fprintf(stderr, "cannot start: %s\n", err.c_str());
    return 1;
  }
  const kestrel_host_api* api = ComponentRuntime::host_api();
  std::printf("%-34s %12s %12s %8s   N=%d\n", "measure", "Kestrel", "peer", "ratio", n);
  bench_events(api, rt.context_of("a"), rt.context_of("b"), n * 10);
  bench_kv(api, rt.context_of("a"), scratch, n);
  bench_process(api, rt.context_of("a"), std::min(n, 500));
  rt.stop_all(1000);
  return 0;
}
