#include "runtime/metrics_registry.h"

#include <cmath>
#include <cstdio>
#include <regex>
#include <sstream>

namespace kestrel::host {
namespace {

// Prometheus data model: metric names and label names.
const std::regex kMetricName("[a-zA-Z_:][a-zA-Z0-9_:]*");
// One or more name="value" pairs separated by commas; values without raw
// quotes, backslashes or newlines (escaped forms allowed).
const std::regex kLabels(R"re(([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\["\\n])*")(,[a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\["\\n])*")*)re");

void atomic_add(std::atomic<double>& a, double v) {
  double old = a.load(std::memory_order_relaxed);
  while (!a.compare_exchange_weak(old, old + v, std::memory_order_relaxed)) {
  }
}

std::string format_value(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (std::isnan(v)) return "NaN";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

const char* type_name(kestrel_metric_type t) {
  switch (t) {
    case KESTREL_METRIC_COUNTER: return "counter";
    case KESTREL_METRIC_GAUGE: return "gauge";
    case KESTREL_METRIC_HISTOGRAM: return "histogram";
  }
  return "untyped";
}

std::string escape_help(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

}  // namespace

MetricsRegistry& MetricsRegistry::global() {
  static MetricsRegistry* registry = new MetricsRegistry();  // never destroyed: plugins hold series until exit
  return *registry;
}

kestrel_metric* MetricsRegistry::add(const std::string& component, int32_t raw_type, const std::string& name,
                                     const std::string& help, const std::string& labels,
                                     const std::vector<double>& buckets, std::string* error) {
  if (raw_type < KESTREL_METRIC_COUNTER || raw_type > KESTREL_METRIC_HISTOGRAM) {
    *error = "unknown metric type " + std::to_string(raw_type);
    return nullptr;
  }
  const auto type = static_cast<kestrel_metric_type>(raw_type);
  if (!std::regex_match(name, kMetricName)) {
    *error = "metric name '" + name + "' must match [a-zA-Z_:][a-zA-Z0-9_:]*";
    return nullptr;
  }
  if (!labels.empty() && !std::regex_match(labels, kLabels)) {
    *error = "metric labels '" + labels + "' must be name=\"value\" pairs separated by commas";
    return nullptr;
  }
  std::vector<double> bounds = buckets;
  if (type == KESTREL_METRIC_HISTOGRAM) {
    if (bounds.empty()) bounds = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
    for (size_t i = 1; i < bounds.size(); ++i)
      if (!(bounds[i] > bounds[i - 1])) {
        *error = "histogram buckets of '" + name + "' must be strictly ascending";
        return nullptr;
      }
  }
  const std::string full_labels = "component=\"" + component + "\"" + (labels.empty() ? "" : "," + labels);
  const std::string key = name + "{" + full_labels + "}";

  std::lock_guard<std::mutex> lock(mu_);
  auto known = types_.find(name);
  if (known != types_.end() && known->second != type) {
    *error = "metric '" + name + "' is already registered as a " + type_name(known->second);
    return nullptr;
  }
  auto found = by_key_.find(key);
  if (found != by_key_.end()) return found->second;
  series_.emplace_back();
  kestrel_metric& m = series_.back();
  m.type = type;
  m.name = name;
  m.help = help;
  m.labels = full_labels;
  if (type == KESTREL_METRIC_HISTOGRAM) {
    m.bounds = bounds;
    m.counts.reset(new std::atomic<uint64_t>[bounds.size() + 1]);
    for (size_t i = 0; i <= bounds.size(); ++i) m.counts[i].store(0);
  }
  types_.emplace(name, type);
  by_key_.emplace(key, &m);
  return &m;
}

void MetricsRegistry::add_value(kestrel_metric* m, double v) {
  if (!m || std::isnan(v)) return;
  if (m->type == KESTREL_METRIC_COUNTER && v < 0) return;
  if (m->type == KESTREL_METRIC_HISTOGRAM) return;
  atomic_add(m->value, v);
}

void MetricsRegistry::set_value(kestrel_metric* m, double v) {
  if (m && m->type == KESTREL_METRIC_GAUGE) m->value.store(v, std::memory_order_relaxed);
}

void MetricsRegistry::observe(kestrel_metric* m, double v) {
  if (!m || m->type != KESTREL_METRIC_HISTOGRAM || std::isnan(v)) return;
  size_t i = 0;
  while (i < m->bounds.size() && v > m->bounds[i]) ++i;
  m->counts[i].fetch_add(1, std::memory_order_relaxed);
  atomic_add(m->sum, v);
  m->count.fetch_add(1, std::memory_order_relaxed);
}

std::string MetricsRegistry::render_prometheus() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::ostringstream out;
  std::string last_name;
  // by_key_ is sorted by name then labels, so each family is contiguous.
  for (const auto& [key, m] : by_key_) {
    if (m->name != last_name) {
      out << "# HELP " << m->name << " " << escape_help(m->help) << "\n";
      out << "# TYPE " << m->name << " " << type_name(m->type) << "\n";
      last_name = m->name;
    }
    if (m->type != KESTREL_METRIC_HISTOGRAM) {
      out << m->name << "{" << m->labels << "} " << format_value(m->value.load(std::memory_order_relaxed)) << "\n";
      continue;
    }
    uint64_t cumulative = 0;
    for (size_t i = 0; i <= m->bounds.size(); ++i) {
      cumulative += m->counts[i].load(std::memory_order_relaxed);
      const std::string le = i < m->bounds.size() ? format_value(m->bounds[i]) : "+Inf";
      out << m->name << "_bucket{" << m->labels << ",le=\"" << le << "\"} " << cumulative << "\n";
    }
    out << m->name << "_sum{" << m->labels << "} " << format_value(m->sum.load(std::memory_order_relaxed)) << "\n";
    out << m->name << "_count{" << m->labels << "} " << m->count.load(std::memory_order_relaxed) << "\n";
  }
  return out.str();
}

}  // namespace kestrel::host
