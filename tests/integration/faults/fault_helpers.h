// Shared pieces of the fault-site tests: the generated images, response
// helpers for FixtureHttpServer routes, and readers for node.db's fetch
// status records and catalog.db's rows by URL.
#ifndef KESTREL_INTEGRATION_FAULTS_FAULT_HELPERS_H
#define KESTREL_INTEGRATION_FAULTS_FAULT_HELPERS_H

#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>

#include <map>
#include <string>

#include "kestrel/test/temp_dir.h"

namespace kestrel {
namespace test {

// Runs tests/fixtures/faults/make_images.py (with /usr/bin/python3 and PIL)
// into a fresh folder of `dir` and returns that folder. `many`: how many
// distinct small PNGs to write under many/. Throws std::runtime_error if the
// script fails.
std::string make_fault_images(const TempDir& dir, int many = 0);

// Sends `body` with status 200 (or `status`), the given Content-Type and a
// Content-Length. Server thread.
void send_body(Poco::Net::HTTPServerResponse& res, const std::string& body, const std::string& content_type,
               Poco::Net::HTTPResponse::HTTPStatus status = Poco::Net::HTTPResponse::HTTP_OK);

// gzip of `size` zero bytes (a "gzip bomb": about 1/1000 of its inflated size).
std::string gzip_zeros(size_t size);
// gzip of `data`.
std::string gzip(const std::string& data);

// A frontier row of node.db: the URL's status record.
struct FetchStatus {
  bool found = false;
  std::string kind, state, reason, detail, http_status, attempts, bytes, final_url;
};
// The frontier row of `url` (latest session), found false when there is none.
FetchStatus fetch_status(const std::string& node_db, const std::string& url);
// Frontier rows whose URL starts with `prefix`, in any session.
size_t count_frontier(const std::string& node_db, const std::string& prefix, const std::string& where = "1");
// Rows of catalog.db's images for `url`.
size_t catalog_rows(const std::string& catalog_db, const std::string& url);
// Human dump of a status record for assertion messages.
std::string describe(const std::string& url, const FetchStatus& s);

}  // namespace test
}  // namespace kestrel

#endif  // KESTREL_INTEGRATION_FAULTS_FAULT_HELPERS_H
