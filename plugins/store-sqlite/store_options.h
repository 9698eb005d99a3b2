// Parsed, checked options of one store-sqlite instance.
#ifndef KESTREL_STORE_SQLITE_STORE_OPTIONS_H
#define KESTREL_STORE_SQLITE_STORE_OPTIONS_H

#include <cstdint>
#include <kestrel/plugin.hpp>
#include <string>

namespace kestrel {
namespace store_sqlite {

struct StoreOptions {
  std::string path;                // absolute path of the SQLite file
  bool synchronous_full = true;    // PRAGMA synchronous=FULL (else NORMAL)
  int64_t busy_timeout_ms = 5000;  // milliseconds a lock or a free reader is waited for
  int readers = 4;                 // reader connections, 1..64
};

// Reads the options of `args` (see store_sqlite_component.cc for their
// meaning). A relative path is resolved against the node's data dir. Throws
// kestrel::Error(KESTREL_ERR_INVALID) naming the option and the reason.
// Control thread; touches no file.
StoreOptions parse_options(const CreateArgs& args);

}  // namespace store_sqlite
}  // namespace kestrel

#endif  // KESTREL_STORE_SQLITE_STORE_OPTIONS_H
