// sqlite_query: read a SQLite file the way an operator's sqlite3 shell would.
#ifndef KESTREL_TEST_SQLITE_QUERY_H
#define KESTREL_TEST_SQLITE_QUERY_H

#include <string>
#include <vector>

namespace kestrel {
namespace test {

// One result row: every column as text (sqlite3_column_text); SQL NULL is
// the empty string. Use "coalesce(x, '<null>')" in the SQL to tell them apart.
using SqlRow = std::vector<std::string>;

// Runs one statement `sql` on the existing database file `db_file` and returns
// all its rows. Opens its own connection (read-write, never creates the file)
// with a 10 s busy timeout, so it may run while kestreld is writing the file
// (WAL readers do not block the writer). Any thread. Throws std::runtime_error
// with SQLite's message, the file and the SQL when the file is missing or the
// statement fails.
std::vector<SqlRow> sqlite_query(const std::string& db_file, const std::string& sql);

// The first column of the first row of sqlite_query(db_file, sql); throws
// std::runtime_error when the statement returns no row.
std::string sqlite_scalar(const std::string& db_file, const std::string& sql);

}  // namespace test
}  // namespace kestrel

#endif  // KESTREL_TEST_SQLITE_QUERY_H
