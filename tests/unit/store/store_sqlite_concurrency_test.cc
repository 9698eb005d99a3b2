// Several writer and reader threads on one store-sqlite instance at once.
#include <cppunit/extensions/HelperMacros.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "catalog_test_rows.h"
#include "component_harness.h"
#include "store_sqlite_component.h"
#include "kestrel/test/temp_dir.h"

namespace kestrel {
namespace store_test {

using test::TempDir;  // tests/support

class StoreSqliteConcurrencyTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(StoreSqliteConcurrencyTest);
  CPPUNIT_TEST(testWritersAndReaders);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testWritersAndReaders() {
    constexpr int kWriters = 4, kBatches = 20, kPerBatch = 8, kReaders = 4;
    TempDir dir;
    // Fewer reader connections than reader threads: leases must wait, not fail.
    ComponentHarness store(store_sqlite::component_descriptor(), {{"readers", "2"}, {"synchronous", "normal"}},
                           dir.path());
    store.start();
    const CatalogClient catalog(store.interface(KESTREL_IFACE_CATALOG_V1));

    std::mutex mu;
    std::vector<std::string> errors;
    std::set<uint64_t> positions;
    std::atomic<int> writers_left{kWriters};
    std::atomic<uint64_t> reads{0};
    std::atomic<bool> go{false};  // released together, so readers and writers overlap
    const auto record_error = [&](const std::string& e) {
      std::lock_guard<std::mutex> lock(mu);
      errors.push_back(e);
    };

    std::vector<std::thread> threads;
    for (int w = 0; w < kWriters; ++w) {
      threads.emplace_back([&, w] {
        while (!go) std::this_thread::yield();
        try {
          for (int b = 0; b < kBatches; ++b) {
            Batch batch;
            for (int i = 0; i < kPerBatch; ++i)
              batch.upsert({"http://127.0.0.1/w" + std::to_string(w) + "/b" + std::to_string(b) + "/" +
                            std::to_string(i) + ".png"});
            const uint64_t pos = catalog.write(0, batch.ops(), batch.size());
            std::lock_guard<std::mutex> lock(mu);
            positions.insert(pos);
          }
        } catch (const std::exception& e) {
          record_error(e.what());
        }
        --writers_left;
      });
    }
    for (int r = 0; r < kReaders; ++r) {
      threads.emplace_back([&] {
        while (!go) std::this_thread::yield();
        try {
          do {
            uint64_t streamed = 0;
            int64_t last_id = 0;
            bool ordered = true;
            catalog.read_images(0, all_images(), [&](const kestrel_image_row& row) {
              ordered = ordered && row.id > last_id;
              last_id = row.id;
              ++streamed;
              return true;
            });
            if (!ordered) record_error("rows out of id order");
            if (streamed % kPerBatch != 0) record_error("saw part of a batch: " + std::to_string(streamed) + " rows");
            catalog.count_images(0, all_images());
            ++reads;
          } while (writers_left > 0);
        } catch (const std::exception& e) {
          record_error(e.what());
        }
      });
    }
    go = true;
    for (std::thread& t : threads) t.join();

    for (const std::string& e : errors) CPPUNIT_FAIL(e);
    CPPUNIT_ASSERT(reads > 0);
    const uint64_t total = kWriters * kBatches * kPerBatch;
    CPPUNIT_ASSERT_EQUAL(total, catalog.count_images(0, all_images()));
    // Every batch got its own position: 1..N with no gap or repeat.
    CPPUNIT_ASSERT_EQUAL(size_t{kWriters * kBatches}, positions.size());
    CPPUNIT_ASSERT_EQUAL(uint64_t{1}, *positions.begin());
    CPPUNIT_ASSERT_EQUAL(uint64_t{kWriters * kBatches}, *positions.rbegin());
    std::set<std::string> urls;
    for (const Row& r : read_rows(catalog, all_images())) urls.insert(r.url);
    CPPUNIT_ASSERT_EQUAL(size_t{total}, urls.size());
    CPPUNIT_ASSERT_EQUAL(size_t{1}, urls.count("http://127.0.0.1/w3/b19/7.png"));
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(StoreSqliteConcurrencyTest);

}  // namespace store_test
}  // namespace kestrel
