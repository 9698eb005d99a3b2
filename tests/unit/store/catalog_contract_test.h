// The catalog contract (plugin.h, kestrel.catalog.v1) as one abstract CppUnit
// fixture; each backend's test file derives from it with
// CPPUNIT_TEST_SUB_SUITE and says which CatalogBackend to use, so that both
// stores pass exactly the same tests.
#ifndef KESTREL_TESTS_UNIT_STORE_CATALOG_CONTRACT_TEST_H
#define KESTREL_TESTS_UNIT_STORE_CATALOG_CONTRACT_TEST_H

#include <cppunit/extensions/HelperMacros.h>

#include <kestrel/plugin.hpp>
#include <memory>

#include "catalog_backend.h"
#include "component_harness.h"

namespace kestrel {
namespace store_test {

class CatalogContractTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(CatalogContractTest);
  CPPUNIT_TEST(testUpsertIsIdempotent);
  CPPUNIT_TEST(testUpdateKeepsCreatedAtAndFirstSource);
  CPPUNIT_TEST(testOlderReplayChangesNothing);
  CPPUNIT_TEST(testDuplicateUrlInOneBatch);
  CPPUNIT_TEST(testBadRecordCommitsNothing);
  CPPUNIT_TEST(testConstraintFailureRollsBackBatch);
  CPPUNIT_TEST(testFencing);
  CPPUNIT_TEST(testFiltersAndPaging);
  CPPUNIT_TEST(testCallbackStopsEarly);
  CPPUNIT_TEST(testDelete);
  CPPUNIT_TEST(testWriteFromReadCallback);
  CPPUNIT_TEST(testSessions);
  CPPUNIT_TEST(testStatusAndHealth);
  CPPUNIT_TEST(testMigrationsAreIdempotent);
  CPPUNIT_TEST(testCallsAfterStopAreUnavailable);
  CPPUNIT_TEST(testFailoverHistoryRoundTrip);
  CPPUNIT_TEST(testFailoverUpsertByEventKey);
  CPPUNIT_TEST(testInvalidFailoverRollsBackBatch);
  CPPUNIT_TEST(testFailoverOpWithoutFailoverField);
  CPPUNIT_TEST(testClusterState);
  CPPUNIT_TEST(testMigrationFromVersion1);
  CPPUNIT_TEST_SUITE_END_ABSTRACT();

 public:
  void setUp() override;
  void tearDown() override;

  void testUpsertIsIdempotent();
  void testUpdateKeepsCreatedAtAndFirstSource();
  void testOlderReplayChangesNothing();
  void testDuplicateUrlInOneBatch();
  void testBadRecordCommitsNothing();
  void testConstraintFailureRollsBackBatch();
  void testFencing();
  void testFiltersAndPaging();
  void testCallbackStopsEarly();
  void testDelete();
  void testWriteFromReadCallback();
  void testSessions();
  void testStatusAndHealth();
  void testMigrationsAreIdempotent();
  void testCallsAfterStopAreUnavailable();
  // failover_events (ABI 1.3, migration 2) and cluster_state.
  void testFailoverHistoryRoundTrip();
  void testFailoverUpsertByEventKey();
  void testInvalidFailoverRollsBackBatch();
  void testFailoverOpWithoutFailoverField();
  void testClusterState();
  void testMigrationFromVersion1();

 protected:
  // The backend each test runs on: a new, empty catalog per call.
  virtual std::unique_ptr<CatalogBackend> make_backend() = 0;
  // Asserts that `position` follows `previous` (by one when the backend counts batches).
  void expect_next_position(uint64_t previous, uint64_t position) const;

  std::unique_ptr<CatalogBackend> backend_;
  std::unique_ptr<ComponentHarness> store_;
  CatalogClient catalog_;
};

}  // namespace store_test
}  // namespace kestrel

#endif  // KESTREL_TESTS_UNIT_STORE_CATALOG_CONTRACT_TEST_H
