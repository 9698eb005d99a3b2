#include "transfer.h"

#include <kestrel/plugin.hpp>

#include <ctime>
#include <utility>

#include "parse/charset.h"

namespace kestrel::crawler {
namespace {

std::string http_kind(long status) {
  if (status == 403 || status == 404 || status == 410 || status == 429) return "http_" + std::to_string(status);
  if (status >= 500) return "http_5xx";
  if (status >= 400) return "http_4xx";
  if (status >= 300) return "http_3xx";
  return "http_other";
}

std::string curl_kind(CURLcode code) {
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT: return "timeout";
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY: return "dns";
    case CURLE_COULDNT_CONNECT: return "connect";
    case CURLE_TOO_MANY_REDIRECTS:
    case CURLE_UNSUPPORTED_PROTOCOL: return "redirects";  // a redirect to a scheme we do not fetch
    case CURLE_FILESIZE_EXCEEDED: return "too_large";
    case CURLE_GOT_NOTHING:  // connection closed before any response
    case CURLE_SEND_ERROR:   // the same on a re-used connection: libcurl's "Connection died, tried 5 times"
      return "no_reply";
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_HTTP2_STREAM: return "truncated";
    case CURLE_BAD_CONTENT_ENCODING: return "bad_encoding";
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE: return "tls";
    default: return "network";
  }
}

// RFC 9110 §10.2.3: delay-seconds or an HTTP-date; -1 when neither.
int64_t parse_retry_after(const std::string& value) {
  const auto b = value.find_first_not_of(" \t");
  if (b == std::string::npos) return -1;
  const auto e = value.find_last_not_of(" \t");
  const std::string v = value.substr(b, e - b + 1);
  if (v.find_first_not_of("0123456789") == std::string::npos) {
    if (v.size() > 9) return int64_t{999999999} * 1000;  // absurdly long: the caller caps it
    return std::stoll(v) * 1000;
  }
  const time_t when = curl_getdate(v.c_str(), nullptr);
  if (when == -1) return -1;
  const time_t now = time(nullptr);
  return when <= now ? 0 : static_cast<int64_t>(when - now) * 1000;
}

}  // namespace

bool retryable(const TransferResult& r) {
  if (r.kind == "timeout" || r.kind == "connect" || r.kind == "truncated" || r.kind == "network" ||
      r.kind == "no_reply")
    return true;
  if (r.kind == "http_429") return true;
  return r.kind == "http_5xx" && (r.status == 502 || r.status == 503 || r.status == 504);
}

Transfer::Transfer() : easy_(curl_easy_init()) {
  if (!easy_) throw Error(KESTREL_ERR_INTERNAL, "curl_easy_init failed");
}

Transfer* Transfer::from(CURL* easy) {
  char* p = nullptr;
  curl_easy_getinfo(easy, CURLINFO_PRIVATE, &p);
  return reinterpret_cast<Transfer*>(p);
}

size_t Transfer::on_write(char* data, size_t size, size_t count, void* self) {
  auto* t = static_cast<Transfer*>(self);
  const size_t n = size * count;
  // No exception may cross libcurl's C frames: a failed spill is kept for finish().
  try {
    if (t->received_ + n > t->max_body_) {
      t->hit_cap_ = true;
      // Only a truncating transfer (robots.txt) uses the bytes up to the cap.
      if (t->truncate_at_cap_) t->body_.append(data, static_cast<size_t>(t->max_body_ - t->received_));
      t->received_ = t->max_body_;
      return CURL_WRITEFUNC_ERROR;  // aborts the transfer with CURLE_WRITE_ERROR
    }
    t->body_.append(data, n);
    t->received_ += n;
  } catch (...) {
    t->spill_error_ = std::current_exception();
    return CURL_WRITEFUNC_ERROR;
  }
  return n;
}

void Transfer::prepare(WorkItem item, const TransferSettings& s, uint64_t max_body, bool truncate_at_cap) {
  CURL* e = easy_.get();
  curl_easy_reset(e);
  item_ = std::move(item);
  body_ = Body(s.spill_dir, s.spill_at);
  spill_error_ = nullptr;
  received_ = 0;
  max_body_ = max_body;
  truncate_at_cap_ = truncate_at_cap;
  hit_cap_ = false;
  conditional_ = false;
  headers_.reset();
  error_[0] = '\0';
  curl_easy_setopt(e, CURLOPT_URL, item_.url.c_str());
  curl_easy_setopt(e, CURLOPT_PRIVATE, this);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &Transfer::on_write);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, this);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, error_);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(e, CURLOPT_MAXREDIRS, static_cast<long>(s.max_redirects));
  curl_easy_setopt(e, CURLOPT_USERAGENT, s.user_agent.c_str());
  curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");  // every decoder libcurl has (gzip, deflate, br, zstd)
  curl_easy_setopt(e, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(s.connect_timeout_ms));
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(s.timeout_ms));
  curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, static_cast<long>(s.low_speed_limit));
  curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, static_cast<long>((s.low_speed_time_ms + 999) / 1000));
  // Refuses a too-large Content-Length before any byte (the write callback
  // covers chunked and compressed bodies).
  if (!truncate_at_cap) curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(max_body));
  curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
}

void Transfer::set_conditional(const std::string& etag, const std::string& last_modified) {
  curl_slist* list = nullptr;
  auto append = [&list](const std::string& line) {
    curl_slist* next = curl_slist_append(list, line.c_str());
    if (!next) {
      curl_slist_free_all(list);
      throw Error(KESTREL_ERR_INTERNAL, "curl_slist_append: out of memory");
    }
    list = next;
  };
  // Values come from earlier responses (libcurl strips CR/LF from header values).
  if (!etag.empty()) append("If-None-Match: " + etag);
  if (!last_modified.empty()) append("If-Modified-Since: " + last_modified);
  if (!list) return;
  headers_.reset(list);
  conditional_ = true;
  curl_easy_setopt(easy_.get(), CURLOPT_HTTPHEADER, list);
}

std::string Transfer::header(const char* name) const {
  struct curl_header* h = nullptr;
  // request -1: the last response, after redirects.
  if (curl_easy_header(easy_.get(), name, 0, CURLH_HEADER, -1, &h) == CURLHE_OK && h && h->value) return h->value;
  return std::string();
}

TransferResult Transfer::finish(CURLcode code) {
  if (spill_error_) std::rethrow_exception(spill_error_);
  TransferResult r;
  CURL* e = easy_.get();
  curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &r.status);
  const char* ct = nullptr;
  if (curl_easy_getinfo(e, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct) r.content_type = ct;
  const char* eff = nullptr;
  if (curl_easy_getinfo(e, CURLINFO_EFFECTIVE_URL, &eff) == CURLE_OK && eff) r.effective_url = eff;
  // Validators the catalog can hold: UTF-8 only. An ETag of obs-text bytes
  // (RFC 9110 §8.8.3 allows them) is not kept: the next crawl of that URL
  // is a full GET instead of a conditional one, and nothing else changes.
  r.etag = header("ETag");
  if (!is_utf8(r.etag)) r.etag.clear();
  r.last_modified = header("Last-Modified");
  if (!is_utf8(r.last_modified)) r.last_modified.clear();
  const std::string retry_after = header("Retry-After");
  if (!retry_after.empty()) r.retry_after_ms = parse_retry_after(retry_after);
  if (code == CURLE_WRITE_ERROR && hit_cap_) {
    if (truncate_at_cap_ && r.status >= 200 && r.status < 300) return r;
    body_.clear();  // of no use cut short: free it (and its spill file) now
    r.kind = "too_large";
    r.detail = "body larger than " + std::to_string(max_body_) + " bytes";
    return r;
  }
  if (code == CURLE_FILESIZE_EXCEEDED) {
    r.kind = "too_large";
    r.detail = "Content-Length larger than " + std::to_string(max_body_) + " bytes";
    return r;
  }
  if (code != CURLE_OK) {
    r.kind = curl_kind(code);
    r.detail = error_[0] ? error_ : curl_easy_strerror(code);
    return r;
  }
  if (r.status == 304 && conditional_) {
    r.kind = "not_modified";
    r.detail = "HTTP 304: the stored copy is current";
    return r;
  }
  if (r.status < 200 || r.status >= 300) {
    r.kind = http_kind(r.status);
    r.detail = "HTTP " + std::to_string(r.status);
  }
  return r;
}

void Transfer::release_body() { body_.clear(); }

}  // namespace kestrel::crawler
