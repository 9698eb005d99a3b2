// One HTTP transfer: a libcurl easy handle (re-used from a pool), the work
// item it fetches, and the response it collects.
//
// Used by the crawl thread only. The response body goes into a Body (memory,
// spilled to a temporary file past TransferSettings::spill_at), capped at
// `max_body` decoded bytes: libcurl 7.88 does not stop a running transfer on
// CURLOPT_MAXFILESIZE (it only refuses a too-large Content-Length up front), so
// the write callback aborts the transfer when the cap would be passed.
#ifndef KESTREL_CRAWLER_HTTP_TRANSFER_H_
#define KESTREL_CRAWLER_HTTP_TRANSFER_H_

#include "body.h"
#include "scheduler.h"

#include <curl/curl.h>

#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <utility>

namespace kestrel::crawler {

// Request settings shared by every transfer of a crawl.
struct TransferSettings {
  std::string user_agent;
  int64_t connect_timeout_ms = 10000;
  int64_t timeout_ms = 60000;        // whole transfer
  uint64_t low_speed_limit = 1024;   // bytes per second
  int64_t low_speed_time_ms = 20000;
  uint32_t max_redirects = 10;
  std::string spill_dir;             // folder for bodies larger than spill_at (absolute)
  uint64_t spill_at = 1 << 20;       // bytes kept in memory before a body spills to a file; 0: never
};

// What came back. `kind` is "" on success (a 2xx response read whole), else
// the failure class used in reports: "http_404", "http_403", "http_410",
// "http_429", "http_4xx", "http_5xx", "http_3xx", "timeout", "dns", "connect",
// "tls", "redirects", "too_large", "truncated", "no_reply", "bad_encoding", "network",
// "not_modified" (a 304 answer to a conditional request: the stored copy is current).
struct TransferResult {
  std::string kind;
  std::string detail;         // human text, e.g. "HTTP 404" or libcurl's message
  long status = 0;            // HTTP status of the last response, 0 if none
  std::string content_type;   // Content-Type of the last response, "" if none
  std::string effective_url;  // URL after redirects
  std::string etag;           // ETag of the last response as received, "" if none
  std::string last_modified;  // Last-Modified of the last response as received, "" if none
  int64_t retry_after_ms = -1;  // Retry-After of the last response (RFC 9110 §10.2.3: seconds or an
                                // HTTP-date, counted from now, >= 0), -1 if none or unparsable
};

// Whether a failed request is worth repeating: connection errors, timeouts,
// bodies cut short, and HTTP 429, 502, 503, 504. Other 4xx/5xx, too-large
// bodies and redirect problems are final.
bool retryable(const TransferResult& result);

class Transfer {
 public:
  // Allocates the easy handle. Throws kestrel::Error(KESTREL_ERR_INTERNAL) if
  // libcurl cannot.
  Transfer();
  Transfer(const Transfer&) = delete;
  Transfer& operator=(const Transfer&) = delete;

  // Makes the handle ready to fetch `item` (resets every option of a previous
  // use; connections stay in the multi handle's cache). `max_body` is the body
  // cap in decoded bytes; with truncate_at_cap the transfer still stops at the
  // cap but the result is a success with the first max_body bytes (robots.txt).
  void prepare(WorkItem item, const TransferSettings& settings, uint64_t max_body, bool truncate_at_cap);

  // Makes the request conditional (RFC 9110 §13.1): If-None-Match with `etag`
  // (as received earlier) and/or If-Modified-Since with `last_modified`; an
  // empty value sends no header. After prepare(), before the handle is added.
  void set_conditional(const std::string& etag, const std::string& last_modified);

  CURL* handle() const { return easy_.get(); }
  const WorkItem& item() const { return item_; }
  const Body& body() const { return body_; }
  // Body bytes received so far (decoded), counting those of a body cut at the cap.
  uint64_t received() const { return received_; }

  // Classifies the finished transfer (`code` from CURLMSG_DONE). Throws the
  // kestrel::Error of a failed spill (a full disk on this node is not the
  // URL's fault: the crawl stops and the URL stays queued).
  TransferResult finish(CURLcode code);

  // Moves the body out (the transfer's body is left empty).
  Body take_body() { return std::move(body_); }

  // Frees the body (the handle stays for re-use).
  void release_body();

  // The Transfer* stored in a handle's CURLOPT_PRIVATE.
  static Transfer* from(CURL* easy);

 private:
  static size_t on_write(char* data, size_t size, size_t count, void* self);
  std::string header(const char* name) const;

  struct EasyCloser {
    void operator()(CURL* e) const { curl_easy_cleanup(e); }
  };
  struct ListCloser {
    void operator()(curl_slist* l) const { curl_slist_free_all(l); }
  };
  std::unique_ptr<CURL, EasyCloser> easy_;
  std::unique_ptr<curl_slist, ListCloser> headers_;  // request headers; must outlive the transfer
  bool conditional_ = false;
  WorkItem item_;
  Body body_;
  std::exception_ptr spill_error_;  // from Body::append in the write callback
  uint64_t received_ = 0;
  uint64_t max_body_ = 0;
  bool truncate_at_cap_ = false;
  bool hit_cap_ = false;
  char error_[CURL_ERROR_SIZE] = {0};
};

}  // namespace kestrel::crawler

#endif  // KESTREL_CRAWLER_HTTP_TRANSFER_H_
