// libpq connection strings (libpq "Keyword/Value Connection Strings": values
// single-quoted with \' and \\ escapes), built and checked in one place for
// store-postgres and replicator-pg.
//
// Every function is pure (no I/O) and may be called from any thread.
#ifndef KESTREL_PG_COMMON_PG_CONNINFO_H
#define KESTREL_PG_COMMON_PG_CONNINFO_H

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace kestrel {
namespace pg {

// One keyword and its value, in the order they are written.
using Conninfo = std::vector<std::pair<std::string, std::string>>;

// 'value' with \ and ' escaped. Never fails.
std::string quote(const std::string& value);

// "k1='v1' k2='v2'"; empty values are left out.
std::string join(const Conninfo& pairs);

// Parses `text` (keyword/value form or a postgres:// URI) with libpq's own
// parser into its set keywords. Throws kestrel::Error(KESTREL_ERR_INVALID)
// with "<what>: <libpq's reason>" on a malformed string; the message never
// holds the password.
std::map<std::string, std::string> parse(const std::string& what, const std::string& text);

// `conninfo` without its password; the password goes to *password ("" if
// none). For command lines, where the password travels in PGPASSWORD instead
// of argv (visible to every local user). Throws like parse().
std::string without_password(const std::string& conninfo, std::string* password);

}  // namespace pg
}  // namespace kestrel

#endif  // KESTREL_PG_COMMON_PG_CONNINFO_H
