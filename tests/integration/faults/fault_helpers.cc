#include "fault_helpers.h"

#include <Poco/DeflatingStream.h>

#include <sstream>
#include <stdexcept>

#include "kestrel/test/child_process.h"
#include "kestrel/test/paths.h"
#include "kestrel/test/sqlite_query.h"

namespace kestrel {
namespace test {
namespace {

std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

}  // namespace

std::string make_fault_images(const TempDir& dir, int many) {
  const std::string out = dir.make_dir("fault-images");
  ChildProcess p(python3_path(),
                 {source_dir() + "/tests/fixtures/faults/make_images.py", out, std::to_string(many)},
                 dir.file("make_images.out"), dir.file("make_images.err"));
  const int rc = p.wait_or_kill(std::chrono::seconds(120));
  if (rc != 0) throw std::runtime_error("make_images.py failed (" + std::to_string(rc) + "): " + p.stderr_text());
  return out;
}

void send_body(Poco::Net::HTTPServerResponse& res, const std::string& body, const std::string& content_type,
               Poco::Net::HTTPResponse::HTTPStatus status) {
  res.setStatus(status);
  res.setContentType(content_type);
  res.setContentLength(static_cast<std::streamsize>(body.size()));
  res.send() << body;
}

std::string gzip(const std::string& data) {
  std::ostringstream out;
  {
    Poco::DeflatingOutputStream z(out, Poco::DeflatingStreamBuf::STREAM_GZIP, 9);
    z << data;
    z.close();
  }
  return out.str();
}

std::string gzip_zeros(size_t size) {
  std::ostringstream out;
  {
    Poco::DeflatingOutputStream z(out, Poco::DeflatingStreamBuf::STREAM_GZIP, 9);
    const std::string block(1 << 20, '\0');
    for (size_t done = 0; done < size; done += block.size()) z.write(block.data(), static_cast<std::streamsize>(std::min(block.size(), size - done)));
    z.close();
  }
  return out.str();
}

FetchStatus fetch_status(const std::string& node_db, const std::string& url) {
  auto rows = sqlite_query(node_db,
                           "SELECT kind, state, reason, detail, http_status, attempts, bytes, final_url FROM frontier "
                           "WHERE url = " + quote(url) + " ORDER BY id DESC LIMIT 1");
  FetchStatus s;
  if (rows.empty()) return s;
  const auto& r = rows[0];
  s.found = true;
  s.kind = r[0];
  s.state = r[1];
  s.reason = r[2];
  s.detail = r[3];
  s.http_status = r[4];
  s.attempts = r[5];
  s.bytes = r[6];
  s.final_url = r[7];
  return s;
}

size_t count_frontier(const std::string& node_db, const std::string& prefix, const std::string& where) {
  return std::stoul(sqlite_scalar(node_db, "SELECT COUNT(*) FROM frontier WHERE substr(url, 1, " +
                                               std::to_string(prefix.size()) + ") = " + quote(prefix) + " AND (" +
                                               where + ")"));
}

size_t catalog_rows(const std::string& catalog_db, const std::string& url) {
  return std::stoul(sqlite_scalar(catalog_db, "SELECT COUNT(*) FROM images WHERE url = " + quote(url)));
}

std::string describe(const std::string& url, const FetchStatus& s) {
  if (!s.found) return url + ": no frontier row";
  return url + ": kind=" + s.kind + " state=" + s.state + " reason=" + s.reason + " detail=" + s.detail +
         " http_status=" + s.http_status + " attempts=" + s.attempts + " bytes=" + s.bytes + " final_url=" +
         s.final_url;
}

}  // namespace test
}  // namespace kestrel
