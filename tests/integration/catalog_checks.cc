#include "catalog_checks.h"

#include <map>
#include <set>

#include "kestrel/test/files.h"
#include "kestrel/test/sqlite_query.h"

namespace kestrel {
namespace test {
namespace {

std::string mime_for(const std::string& format) {
  if (format == "jpeg") return "image/jpeg";
  return "image/" + format;
}

void expect_field(std::vector<std::string>& problems, const std::string& url, const char* field,
                  const std::string& want, const std::string& got) {
  if (want != got) problems.push_back(url + ": " + field + " is '" + got + "', expected '" + want + "'");
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

std::vector<CatalogRow> read_image_rows(const std::string& db_file) {
  std::vector<CatalogRow> rows;
  for (auto& r : sqlite_query(db_file,
                              "SELECT url, source_url, filename, file_path, file_size, width, height, format, "
                              "mime_type, md5, sha256, crawl_session_id FROM images ORDER BY id")) {
    rows.push_back(CatalogRow{r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11]});
  }
  return rows;
}

std::vector<std::string> check_blobs(const std::vector<CatalogRow>& rows, const std::string& images_dir) {
  std::vector<std::string> problems;
  for (const auto& row : rows) {
    std::string path = images_dir + "/" + row.file_path;
    if (row.file_path.empty() || !path_exists(path)) {
      problems.push_back(row.url + ": blob '" + row.file_path + "' does not exist under " + images_dir);
      continue;
    }
    std::string sha = sha256_file(path);
    if (sha != row.sha256)
      problems.push_back(row.url + ": blob " + row.file_path + " has sha256 " + sha + ", row says " + row.sha256);
  }
  return problems;
}

std::vector<std::string> compare_catalog(const ExpectedCatalog& expected, const std::vector<CatalogRow>& rows,
                                         const std::string& images_dir, bool require_all) {
  std::vector<std::string> problems;
  std::map<std::string, std::vector<const CatalogRow*>> by_url;
  for (const auto& row : rows) by_url[row.url].push_back(&row);
  for (const auto& [url, want] : expected.images) {
    auto it = by_url.find(url);
    if (it == by_url.end()) {
      if (require_all) problems.push_back(url + ": no row (first referenced by " + want.source + ")");
      continue;
    }
    if (it->second.size() != 1) {
      problems.push_back(url + ": " + std::to_string(it->second.size()) + " rows");
      continue;
    }
    const CatalogRow& got = *it->second.front();
    expect_field(problems, url, "width", std::to_string(want.width), got.width);
    expect_field(problems, url, "height", std::to_string(want.height), got.height);
    expect_field(problems, url, "format", want.format, got.format);
    expect_field(problems, url, "mime_type", mime_for(want.format), got.mime_type);
    expect_field(problems, url, "sha256", want.sha256, got.sha256);
    expect_field(problems, url, "md5", want.md5, got.md5);
    expect_field(problems, url, "file_size", std::to_string(want.size), got.file_size);
    expect_field(problems, url, "filename", want.filename, got.filename);
    if (got.source_url.empty()) problems.push_back(url + ": source_url is empty");
    if (got.crawl_session_id.empty() || got.crawl_session_id == "0") problems.push_back(url + ": no crawl_session_id");
  }
  for (const auto& [url, list] : by_url)
    if (!expected.images.count(url)) problems.push_back(url + ": row for a URL outside the expected set");
  auto blob_problems = check_blobs(rows, images_dir);
  problems.insert(problems.end(), blob_problems.begin(), blob_problems.end());
  return problems;
}

std::vector<std::string> temporary_files(const std::string& images_dir) {
  std::vector<std::string> out;
  for (const auto& rel : list_files(images_dir)) {
    bool temp = rel[0] == '.' || rel.find("/.") != std::string::npos || ends_with(rel, ".tmp") ||
                ends_with(rel, ".part") || ends_with(rel, ".partial") || rel.find(".tmp.") != std::string::npos ||
                rel.find('~') != std::string::npos;
    if (temp) out.push_back(rel);
  }
  return out;
}

std::vector<std::string> unreferenced_blobs(const std::vector<CatalogRow>& rows, const std::string& images_dir) {
  std::set<std::string> referenced;
  for (const auto& row : rows) referenced.insert(row.file_path);
  std::vector<std::string> out;
  for (const auto& rel : list_files(images_dir))
    if (!referenced.count(rel)) out.push_back(rel);
  return out;
}

std::string describe_problems(const std::vector<std::string>& problems, size_t max) {
  std::string s = std::to_string(problems.size()) + " problem(s):";
  for (size_t i = 0; i < problems.size() && i < max; ++i) s += "\n  " + problems[i];
  if (problems.size() > max) s += "\n  ...";
  return s;
}

std::string integrity_check(const std::string& db_file) {
  auto rows = sqlite_query(db_file, "PRAGMA integrity_check");
  std::string s;
  for (const auto& r : rows) s += (s.empty() ? "" : "; ") + (r.empty() ? std::string() : r[0]);
  return s;
}

}  // namespace test
}  // namespace kestrel
