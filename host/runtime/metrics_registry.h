// MetricsRegistry: the host's metrics (ABI 1.1 of kestrel_host_api), exposed
// in the Prometheus text format (version 0.0.4).
//
// Series live for the process lifetime (plugins keep raw kestrel_metric*
// handles), so the registry is process-wide and never frees a series.
// Registration takes a mutex; add/set/observe are lock-free atomics and may be
// called from any thread.
#ifndef KESTREL_HOST_RUNTIME_METRICS_REGISTRY_H_
#define KESTREL_HOST_RUNTIME_METRICS_REGISTRY_H_

#include <kestrel/plugin.h>

#include <atomic>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

// A series: what a plugin's kestrel_metric* points to.
struct kestrel_metric {
  kestrel_metric_type type = KESTREL_METRIC_COUNTER;
  std::string name;
  std::string help;
  std::string labels;                            // full label text without braces, component first
  std::atomic<double> value{0};                  // counter, gauge
  std::vector<double> bounds;                    // histogram upper bounds (ascending, +Inf implied)
  std::unique_ptr<std::atomic<uint64_t>[]> counts;  // histogram: one per bound, plus +Inf
  std::atomic<double> sum{0};                    // histogram
  std::atomic<uint64_t> count{0};                // histogram
};

namespace kestrel::host {

class MetricsRegistry {
 public:
  // The process-wide registry.
  static MetricsRegistry& global();

  // Registers (or finds) the series `name`{component="<component>",<labels>}.
  // Returns nullptr and sets *error for a bad name or labels, or a name
  // registered before with another type. Any thread.
  // `type` is an int as it crosses the ABI: it is range-checked before it
  // becomes a kestrel_metric_type (an out-of-range enum value is UB in C++).
  kestrel_metric* add(const std::string& component, int32_t type, const std::string& name,
                      const std::string& help, const std::string& labels, const std::vector<double>& buckets,
                      std::string* error);

  // Every series in the Prometheus text exposition format. Any thread.
  std::string render_prometheus() const;

  // Value operations (counters ignore negative adds).
  static void add_value(kestrel_metric* m, double v);
  static void set_value(kestrel_metric* m, double v);
  static void observe(kestrel_metric* m, double v);

 private:
  mutable std::mutex mu_;
  std::deque<kestrel_metric> series_;                    // stable addresses
  std::map<std::string, kestrel_metric*> by_key_;        // name{labels} -> series
  std::map<std::string, kestrel_metric_type> types_;     // name -> type
};

}  // namespace kestrel::host

#endif  // KESTREL_HOST_RUNTIME_METRICS_REGISTRY_H_
