// The host's metrics (ABI 1.1): registration rules, the Prometheus text
// format, and updates from many threads at once.
#include <cppunit/extensions/HelperMacros.h>

#include <thread>
#include <vector>

#include "runtime/metrics_registry.h"

using kestrel::host::MetricsRegistry;

class MetricsRegistryTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(MetricsRegistryTest);
  CPPUNIT_TEST(counter_gauge_histogram_exposition);
  CPPUNIT_TEST(registration_errors);
  CPPUNIT_TEST(concurrent_updates_are_not_lost);
  CPPUNIT_TEST_SUITE_END();

 public:
  void counter_gauge_histogram_exposition() {
    MetricsRegistry r;
    std::string err;
    kestrel_metric* c = r.add("crawler", KESTREL_METRIC_COUNTER, "t_pages_total", "pages fetched", "", {}, &err);
    kestrel_metric* g = r.add("repl", KESTREL_METRIC_GAUGE, "t_lag_bytes", "lag", "standby=\"b\"", {}, &err);
    kestrel_metric* h =
        r.add("crawler", KESTREL_METRIC_HISTOGRAM, "t_fetch_seconds", "fetch time", "", {0.1, 1}, &err);
    CPPUNIT_ASSERT_MESSAGE(err, c && g && h);
    // The same name and labels: the same series.
    CPPUNIT_ASSERT(c == r.add("crawler", KESTREL_METRIC_COUNTER, "t_pages_total", "pages fetched", "", {}, &err));
    MetricsRegistry::add_value(c, 2);
    MetricsRegistry::add_value(c, -5);  // counters never go down
    MetricsRegistry::set_value(g, 4096);
    MetricsRegistry::add_value(g, -96);
    MetricsRegistry::observe(h, 0.05);
    MetricsRegistry::observe(h, 0.5);
    MetricsRegistry::observe(h, 7);
    const std::string text = r.render_prometheus();
    const char* expected[] = {
        "# HELP t_fetch_seconds fetch time\n# TYPE t_fetch_seconds histogram\n",
        "t_fetch_seconds_bucket{component=\"crawler\",le=\"0.10000000000000001\"} 1\n",
        "t_fetch_seconds_bucket{component=\"crawler\",le=\"1\"} 2\n",
        "t_fetch_seconds_bucket{component=\"crawler\",le=\"+Inf\"} 3\n",
        "t_fetch_seconds_sum{component=\"crawler\"} 7.5499999999999998\n",
        "t_fetch_seconds_count{component=\"crawler\"} 3\n",
        "# TYPE t_lag_bytes gauge\nt_lag_bytes{component=\"repl\",standby=\"b\"} 4000\n",
        "# TYPE t_pages_total counter\nt_pages_total{component=\"crawler\"} 2\n"};
    for (const char* line : expected)
      CPPUNIT_ASSERT_MESSAGE(std::string("missing: ") + line + "\nin:\n" + text, text.find(line) != std::string::npos);
  }

  void registration_errors() {
    MetricsRegistry r;
    std::string err;
    CPPUNIT_ASSERT(!r.add("c", KESTREL_METRIC_COUNTER, "bad name", "", "", {}, &err));
    CPPUNIT_ASSERT(err.find("must match") != std::string::npos);
    CPPUNIT_ASSERT(!r.add("c", KESTREL_METRIC_GAUGE, "ok_name", "", "standby=b", {}, &err));
    CPPUNIT_ASSERT(err.find("name=\"value\" pairs") != std::string::npos);
    CPPUNIT_ASSERT(r.add("c", KESTREL_METRIC_GAUGE, "t_x", "", "", {}, &err));
    CPPUNIT_ASSERT(!r.add("d", KESTREL_METRIC_COUNTER, "t_x", "", "", {}, &err));
    CPPUNIT_ASSERT(err.find("already registered as a gauge") != std::string::npos);
    CPPUNIT_ASSERT(!r.add("c", KESTREL_METRIC_HISTOGRAM, "t_h", "", "", {1, 1}, &err));
    CPPUNIT_ASSERT(err.find("strictly ascending") != std::string::npos);
    CPPUNIT_ASSERT(!r.add("c", 9, "t_y", "", "", {}, &err));
    CPPUNIT_ASSERT(err.find("unknown metric type 9") != std::string::npos);
  }

  void concurrent_updates_are_not_lost() {
    MetricsRegistry r;
    std::string err;
    kestrel_metric* c = r.add("c", KESTREL_METRIC_COUNTER, "t_n_total", "", "", {}, &err);
    kestrel_metric* h = r.add("c", KESTREL_METRIC_HISTOGRAM, "t_h_seconds", "", "", {0.5}, &err);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
      threads.emplace_back([&] {
        for (int i = 0; i < 10000; ++i) {
          MetricsRegistry::add_value(c, 1);
          MetricsRegistry::observe(h, 1);
          if (i % 1000 == 0) (void)r.render_prometheus();  // readers while writers run
        }
      });
    for (auto& t : threads) t.join();
    const std::string text = r.render_prometheus();
    CPPUNIT_ASSERT_MESSAGE(text, text.find("t_n_total{component=\"c\"} 40000\n") != std::string::npos);
    CPPUNIT_ASSERT_MESSAGE(text, text.find("t_h_seconds_count{component=\"c\"} 40000\n") != std::string::npos);
    CPPUNIT_ASSERT_MESSAGE(text, text.find("t_h_seconds_sum{component=\"c\"} 40000\n") != std::string::npos);
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(MetricsRegistryTest);
