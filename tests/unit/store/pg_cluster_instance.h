// The PostgreSQL 15 cluster shared by every PostgreSQL store test of one
// process: started on first use, stopped and removed at exit.
#ifndef KESTREL_TESTS_UNIT_STORE_PG_CLUSTER_INSTANCE_H
#define KESTREL_TESTS_UNIT_STORE_PG_CLUSTER_INSTANCE_H

#include "kestrel/test/pg_cluster.h"

namespace kestrel {
namespace store_test {

// Any thread (initialized once). Throws std::runtime_error if it cannot start.
test::PgCluster& shared_pg_cluster();

}  // namespace store_test
}  // namespace kestrel

#endif  // KESTREL_TESTS_UNIT_STORE_PG_CLUSTER_INSTANCE_H
