#include "kestrel/test/sqlite_query.h"

#include <sqlite3.h>

#include <memory>
#include <stdexcept>

namespace kestrel {
namespace test {
namespace {

struct CloseDb {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct FinalizeStmt {
  void operator()(sqlite3_stmt* st) const { sqlite3_finalize(st); }
};

}  // namespace

std::vector<SqlRow> sqlite_query(const std::string& db_file, const std::string& sql) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(db_file.c_str(), &raw, SQLITE_OPEN_READWRITE, nullptr);
  std::unique_ptr<sqlite3, CloseDb> db(raw);
  if (rc != SQLITE_OK)
    throw std::runtime_error("cannot open SQLite file " + db_file + ": " +
                             (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
  sqlite3_busy_timeout(db.get(), 10000);
  sqlite3_stmt* st_raw = nullptr;
  rc = sqlite3_prepare_v2(db.get(), sql.c_str(), -1, &st_raw, nullptr);
  std::unique_ptr<sqlite3_stmt, FinalizeStmt> st(st_raw);
  if (rc != SQLITE_OK)
    throw std::runtime_error(db_file + ": cannot prepare \"" + sql + "\": " + sqlite3_errmsg(db.get()));
  std::vector<SqlRow> rows;
  const int columns = sqlite3_column_count(st.get());
  while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) {
    SqlRow row;
    row.reserve(columns);
    for (int c = 0; c < columns; ++c) {
      const unsigned char* text = sqlite3_column_text(st.get(), c);
      row.emplace_back(text ? reinterpret_cast<const char*>(text) : "",
                       text ? static_cast<size_t>(sqlite3_column_bytes(st.get(), c)) : 0);
    }
    rows.push_back(std::move(row));
  }
  if (rc != SQLITE_DONE) throw std::runtime_error(db_file + ": \"" + sql + "\" failed: " + sqlite3_errmsg(db.get()));
  return rows;
}

std::string sqlite_scalar(const std::string& db_file, const std::string& sql) {
  auto rows = sqlite_query(db_file, sql);
  if (rows.empty() || rows[0].empty()) throw std::runtime_error(db_file + ": \"" + sql + "\" returned no row");
  return rows[0][0];
}

}  // namespace test
}  // namespace kestrel
