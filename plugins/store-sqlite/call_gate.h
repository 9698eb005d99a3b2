// CallGate lives in catalog_schema/call_gate.h, shared with store-postgres.
#ifndef KESTREL_STORE_SQLITE_CALL_GATE_H
#define KESTREL_STORE_SQLITE_CALL_GATE_H

#include <catalog_schema/call_gate.h>

namespace kestrel {
namespace store_sqlite {

using catalog_schema::CallGate;

}  // namespace store_sqlite
}  // namespace kestrel

#endif  // KESTREL_STORE_SQLITE_CALL_GATE_H
