// kestrel-bench-failover: the failover benchmark's client (bench/failover).
//
// Runs the components of a configuration (config/ha-demo.yaml: three
// PostgreSQL stores, replicator-pg and the built-in ha-catalog) in this
// process, the way kestreld does, with one writer thread writing one image
// row per catalog write through the ha-catalog, as the crawler does. Then,
// N times each: SIGKILL of the primary's postmaster (read from
// DIR/<node>/postmaster.pid) and a planned switchover. Per run it prints:
//   fault_to_first_write_ms  from the fault to the first write acknowledged by the new primary
//   client_pause_ms          the longest gap between two acknowledged writes around the fault
//   lost                     acknowledged writes missing on the new primary (counted by URL)
//   failover_ms / write_pause_ms  the HA catalog's own record of the event
// Between runs it waits until every node streams again (the old primary is
// rejoined). Output: one line per run, then the medians and the worst.
#include <kestrel/plugin.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <Poco/AutoPtr.h>
#include <Poco/ConsoleChannel.h>
#include <Poco/Logger.h>

#include "config/component_graph.h"
#include "config/config_document.h"
#include "ha/builtin_plugins.h"
#include "ha/ha_catalog.h"
#include "ha/ha_control.h"
#include "loader/plugin_registry.h"
#include "runtime/component_runtime.h"

namespace {

using Clock = std::chrono::steady_clock;
using kestrel::host::ha::ClusterView;
using kestrel::host::ha::HaControl;

double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

// Writes one image row per call through the catalog; keeps each
// acknowledged URL with its time.
class Writer {
 public:
  explicit Writer(kestrel::CatalogClient catalog) : catalog_(catalog), thread_([this] { run(); }) {}
  ~Writer() {
    stop_ = true;
    thread_.join();
  }
  struct Ack {
    Clock::time_point at;
    std::string url;
    uint64_t epoch;  // the ha-catalog's epoch right after the write returned
  };
  std::vector<Ack> acks() {
    std::lock_guard<std::mutex> lock(mu_);
    return acks_;
  }
  size_t errors() const { return errors_; }

 private:
  void run() {
    for (long i = 0; !stop_; ++i) {
      const std::string url = "http://bench.invalid/failover/" + std::to_string(run_id_) + "/" + std::to_string(i);
      kestrel_image_record r{};
      r.struct_size = sizeof r;
      r.url = url.c_str();
      r.file_size = 1000;
      r.width = 10;
      r.height = 10;
      r.format = "png";
      kestrel_catalog_op op{};
      op.struct_size = sizeof op;
      op.kind = KESTREL_OP_UPSERT_IMAGE;
      op.image = &r;
      try {
        catalog_.write(0, &op, 1);
        const auto at = Clock::now();
        uint64_t epoch = 0;
        std::string primary;
        catalog_.cluster_state(&epoch, &primary);
        std::lock_guard<std::mutex> lock(mu_);
        acks_.push_back({at, url, epoch});
      } catch (const kestrel::Error&) {
        ++errors_;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  kestrel::CatalogClient catalog_;
  const long run_id_ = static_cast<long>(std::chrono::system_clock::now().time_since_epoch().count() % 1000000000);
  std::atomic<bool> stop_{false};
  std::atomic<size_t> errors_{0};
  std::mutex mu_;
  std::vector<Ack> acks_;
  std::thread thread_;
};

bool all_streaming(HaControl& ha) {
  const ClusterView c = ha.status();
  if (c.primary.empty() || c.failover_in_progress) return false;
  for (const auto& n : c.nodes)
    if (!n.healthy || (n.name != c.primary && (n.role != "standby" || n.lag_bytes < 0 || n.sync_state.empty())))
      return false;
  return true;
}

bool wait_for(const std::function<bool()>& fn, int seconds) {
  const auto deadline = Clock::now() + std::chrono::seconds(seconds);
  while (Clock::now() < deadline) {
    if (fn()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

struct Result {
  double fault_to_first_write_ms = -1, client_pause_ms = -1;
  long lost = -1;
  int64_t recorded_ms = -1, write_pause_ms = -1;
};

// Acknowledged URLs missing on the node's store.
long lost_on(const kestrel::CatalogClient& store, const std::vector<Writer::Ack>& acks) {
  std::set<std::string> have;
  kestrel_image_query q{};
  q.struct_size = sizeof q;
  store.read_images(0, q, [&](const kestrel_image_row& row) {
    if (row.record && row.record->url) have.insert(row.record->url);
    return true;
  });
  long lost = 0;
  for (const auto& a : acks) lost += have.count(a.url) ? 0 : 1;
  return lost;
}

// fault_to_first_write: from `fault` to the first write acknowledged in an
// epoch above `old_epoch` (a backend of a SIGKILLed postmaster may still
// commit for a moment: those acknowledgements are the old primary's).
// client_pause: the longest gap between two consecutive acknowledged writes
// that overlaps [fault, the first new-epoch write].
Result measure(const std::vector<Writer::Ack>& acks, Clock::time_point fault, uint64_t old_epoch) {
  Result r;
  Clock::time_point after = fault;
  for (const auto& a : acks)
    if (a.at >= fault && a.epoch > old_epoch) {
      after = a.at;
      r.fault_to_first_write_ms = ms_between(fault, a.at);
      break;
    }
  for (size_t k = 1; k < acks.size(); ++k)
    if (acks[k].at >= fault && acks[k - 1].at <= after)
      r.client_pause_ms = std::max(r.client_pause_ms, ms_between(acks[k - 1].at, acks[k].at));
  return r;
}

void print(const char* kind, int i, const Result& r) {
  std::printf("%-10s run %d: fault_to_first_write_ms %.0f  client_pause_ms %.0f  lost %ld  recorded_ms %lld  "
              "write_pause_ms %lld\n",
              kind, i, r.fault_to_first_write_ms, r.client_pause_ms, r.lost, static_cast<long long>(r.recorded_ms),
              static_cast<long long>(r.write_pause_ms));
  std::fflush(stdout);
}

void summary(const char* kind, std::vector<Result> rs, double patroni_s, const char* patroni_what) {
  if (rs.empty()) return;
  auto stat = [&](auto get) {
    std::vector<double> v;
    for (const auto& r : rs) v.push_back(get(r));
    std::sort(v.begin(), v.end());
    return std::make_pair(v[v.size() / 2], v.back());
  };
  const auto first = stat([](const Result& r) { return r.fault_to_first_write_ms; });
  const auto pause = stat([](const Result& r) { return r.client_pause_ms; });
  long lost = 0;
  for (const auto& r : rs) lost += r.lost;
  std::printf("%-10s median/worst over %zu: fault to first new write %.0f/%.0f ms; client write pause %.0f/%.0f ms; "
              "acknowledged writes lost %ld (Patroni, defaults, this kind of machine: %s %.2f s)\n",
              kind, rs.size(), first.first, first.second, pause.first, pause.second, lost, patroni_what, patroni_s);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace kestrel::host;
  if (argc != 5) {
    std::cerr << "usage: kestrel-bench-failover CONFIG PLUGIN_DIR DEMO_DIR RUNS\n";
    return 64;
  }
  const std::string config = argv[1], plugins = argv[2], demo = argv[3];
  const int runs = std::atoi(argv[4]);
  // The components' log (failover steps, rejoins) to stderr: bench/failover keeps it in driver.log.
  Poco::Logger::root().setChannel(Poco::AutoPtr<Poco::Channel>(new Poco::ConsoleChannel(std::cerr)));
  Poco::Logger::root().setLevel(Poco::Message::PRIO_INFORMATION);
  ConfigErrors errors;
  auto doc = ConfigDocument::load_file(config, &errors);
  PluginRegistry registry(ComponentRuntime::host_api(), "bench");
  ha::load_builtin_plugins(registry);
  if (doc) registry.load_directory(plugins);
  ComponentGraph graph;
  if (doc && errors.empty()) graph = build_component_graph(*doc, registry, doc->node().data_dir, &errors);
  if (!doc || !errors.empty()) {
    for (const auto& e : errors) std::cerr << e.to_string() << "\n";
    return 78;
  }
  ComponentRuntime runtime(graph, doc->node(), doc->config_dir());
  std::vector<std::string> create_errors;
  std::string start_error;
  if (!runtime.create_all(&create_errors)) {
    for (const auto& e : create_errors) std::cerr << e << "\n";
    return 78;
  }
  if (!runtime.start_all(&start_error)) {
    std::cerr << start_error << "\n";
    return 1;
  }
  int code = 0;
  try {
    const kestrel_interface hi = runtime.interface_of("catalog", ha::kHaControlInterface);
    HaControl& ha = *static_cast<HaControl*>(const_cast<void*>(hi.vtable));
    const kestrel::CatalogClient catalog(runtime.interface_of("catalog", KESTREL_IFACE_CATALOG_V1));
    std::vector<Result> crashes, switchovers;
    for (int i = 1; i <= runs; ++i) {
      if (!wait_for([&] { return all_streaming(ha); }, 180)) throw std::runtime_error("the cluster did not settle");
      // Crash: SIGKILL of the primary's postmaster.
      {
        const std::string old = ha.status().primary;
        const uint64_t epoch = ha.status().epoch;
        Writer w(catalog);
        std::this_thread::sleep_for(std::chrono::seconds(2));
        std::ifstream pid_file(demo + "/" + old + "/postmaster.pid");
        long pid = 0;
        pid_file >> pid;
        if (pid <= 0) throw std::runtime_error("no postmaster.pid for " + old);
        const auto fault = Clock::now();
        ::kill(static_cast<pid_t>(pid), SIGKILL);
        if (!wait_for([&] { return ha.status().epoch > epoch && !ha.status().failover_in_progress; }, 60))
          throw std::runtime_error("no failover within 60 s");
        std::this_thread::sleep_for(std::chrono::seconds(2));
        const auto acks = w.acks();
        Result r = measure(acks, fault, epoch);
        const ClusterView c = ha.status();
        const auto h = ha.history(1);
        if (!h.empty()) {
          r.recorded_ms = h[0].duration_ms;
          r.write_pause_ms = h[0].write_pause_ms;
        }
        r.lost = lost_on(kestrel::CatalogClient(runtime.interface_of(c.primary, KESTREL_IFACE_CATALOG_V1)), acks);
        print("crash", i, r);
        crashes.push_back(r);
      }
      if (!wait_for([&] { return all_streaming(ha); }, 180)) throw std::runtime_error("the cluster did not settle");
      // Planned switchover to the failover candidate.
      {
        const std::string target = ha.status().failover_candidate;
        const uint64_t epoch = ha.status().epoch;
        if (target.empty()) throw std::runtime_error("no switchover target: " + ha.status().no_candidate_reason);
        Writer w(catalog);
        std::this_thread::sleep_for(std::chrono::seconds(2));
        const auto fault = Clock::now();
        const auto ev = ha.switchover(target);
        std::this_thread::sleep_for(std::chrono::seconds(2));
        const auto acks = w.acks();
        Result r = measure(acks, fault, epoch);
        r.recorded_ms = ev.duration_ms;
        r.write_pause_ms = ev.write_pause_ms;
        r.lost = lost_on(kestrel::CatalogClient(runtime.interface_of(target, KESTREL_IFACE_CATALOG_V1)), acks);
        print("switchover", i, r);
        switchovers.push_back(r);
      }
    }
    summary("crash", crashes, 10.2, "PostgreSQL crash to first new write");
    summary("switchover", switchovers, 1.57, "switchover write pause");
  } catch (const std::exception& e) {
    std::cerr << "kestrel-bench-failover: " << e.what() << "\n";
    code = 1;
  }
  runtime.stop_all(30000);
  runtime.destroy_all();
  return code;
}
