// A standby left behind past max_slot_wal_keep_size: its slot's WAL is gone
// (pg_replication_slots.wal_status = 'lost'), node_status says so and tells
// to re-bootstrap, and bootstrap with force does recover it. Clusters: p
// (primary, max_slot_wal_keep_size = 1MB, wal_keep_size = 0) and s (standby).
#include <cppunit/extensions/HelperMacros.h>

#include "replication_env.h"

using kestrel::test::eventually;
using kestrel::test::PgCluster;
using kestrel::test::ReplicationEnv;

class ReplicationLostSlotTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(ReplicationLostSlotTest);
  CPPUNIT_TEST(lost_slot_is_reported_and_rebootstrap_recovers);
  CPPUNIT_TEST_SUITE_END();

 public:
  void lost_slot_is_reported_and_rebootstrap_recovers() {
    ReplicationEnv e;
    PgCluster& p = e.add_primary("p", {{"max_slot_wal_keep_size", "'1MB'"}, {"wal_keep_size", "0"}});
    PgCluster& s = e.add_empty("s");
    e.start_runtime("components:\n  repl:\n    type: replicator-pg\n" +
                    ReplicationEnv::replicator_nodes({e.node_item("p", 0), e.node_item("s", 1)}) +
                    "    replication_password: \"pw\"\n    wal_keep_size: 0\n    poll_interval: 1s\n"
                    "    catch_up_timeout: 30s\n    bootstrap: manual\n");
    kestrel::ReplicatorClient r = e.replicator("repl");
    r.bootstrap("s");
    s.stop("fast");
    // WAL moves on while s is away; checkpoints remove what the slot needed.
    int round = 0;
    CPPUNIT_ASSERT(eventually(
        [&] {
          ReplicationEnv::insert_images(p, "http://site/w" + std::to_string(++round) + "/", 100);
          p.query("SELECT pg_switch_wal()");
          p.query("CHECKPOINT");
          return p.query("SELECT wal_status FROM pg_replication_slots WHERE slot_name = 'kestrel_s'")[0][0] == "lost";
        },
        60000));
    s.start();
    std::string detail;
    for (const auto& st : r.node_status())
      if (st.node == "s") detail = st.detail;
    CPPUNIT_ASSERT_MESSAGE(detail, detail.find("kestrel_s") != std::string::npos &&
                                       detail.find("max_slot_wal_keep_size") != std::string::npos &&
                                       detail.find("re-bootstrap s") != std::string::npos);
    r.bootstrap("s", true);
    ReplicationEnv::wait_rows(s, ReplicationEnv::count_rows(p));
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ReplicationLostSlotTest);
