#include "url.h"

#include <curl/curl.h>
#include <idn2.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <memory>
#include <unordered_map>

#include "ascii.h"
#include "charset.h"
#include "percent_encoding.h"

namespace kestrel::crawler {

namespace {

struct CurlUrlDeleter {
  void operator()(CURLU* u) const { curl_url_cleanup(u); }
};
using CurlUrl = std::unique_ptr<CURLU, CurlUrlDeleter>;

struct CurlFree {
  void operator()(char* p) const { curl_free(p); }
};

// One part of a parsed URL; nullopt when the part is absent (or on error).
std::optional<std::string> get_part(CURLU* u, CURLUPart part, unsigned flags = 0) {
  char* raw = nullptr;
  if (curl_url_get(u, part, &raw, flags) != CURLUE_OK || raw == nullptr) return std::nullopt;
  std::unique_ptr<char, CurlFree> owned(raw);
  return std::string(raw);
}

void set_error(std::string* error, std::string message) {
  if (error != nullptr) *error = std::move(message);
}

bool is_c0_or_space(unsigned char c) { return c <= 0x20; }

// WHATWG URL parsing: strip leading/trailing C0 controls and spaces, remove tabs and newlines anywhere;
// other controls are percent-encoded because libcurl rejects them ("Bad path").
std::string clean_reference(const std::string& ref) {
  size_t begin = 0;
  size_t end = ref.size();
  while (begin < end && is_c0_or_space(static_cast<unsigned char>(ref[begin]))) ++begin;
  while (end > begin && is_c0_or_space(static_cast<unsigned char>(ref[end - 1]))) --end;
  std::string out;
  out.reserve(end - begin);
  for (size_t i = begin; i < end; ++i) {
    const auto c = static_cast<unsigned char>(ref[i]);
    if (c == '\t' || c == '\n' || c == '\r') continue;
    if (c < 0x20 || c == 0x7F) {
      static const char kHex[] = "0123456789ABCDEF";
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

// The scheme of `ref` (RFC 3986 §3.1: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":"), lower-cased; "" if
// `ref` is relative.
std::string scheme_of(const std::string& ref) {
  if (ref.empty() || !std::isalpha(static_cast<unsigned char>(ref[0]))) return "";
  for (size_t i = 1; i < ref.size(); ++i) {
    const auto c = static_cast<unsigned char>(ref[i]);
    if (c == ':') {
      std::string s = ref.substr(0, i);
      for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      return s;
    }
    if (!std::isalnum(c) && c != '+' && c != '-' && c != '.') return "";
  }
  return "";
}

// Lower-case ASCII host, or its IDNA 2008 A-label form (UTS #46 non-transitional, like browsers) when it
// holds non-ASCII characters.
std::optional<std::string> canonical_host(const std::string& raw_host, std::string* error) {
  // WHATWG URL host parsing: percent-decode first, then refuse forbidden host
  // code points. Without this "%4E" would survive until a later pass decodes
  // it into an upper-case "N" and normalization stops being idempotent (found
  // by tests/fuzz/url_fuzz.cc).
  if (!raw_host.empty() && raw_host[0] == '[') return ascii_lower(raw_host);  // IPv6 literal, checked by libcurl
  const std::string host = percent_decode(raw_host);
  for (unsigned char c : host) {
    if (c <= 0x20 || c == 0x7F || std::strchr("#%/:<>?@[\\]^|", c) != nullptr) {
      set_error(error, "invalid host name '" + raw_host + "'");
      return std::nullopt;
    }
  }
  bool ascii = true;
  for (char c : host) ascii = ascii && static_cast<unsigned char>(c) < 0x80;
  if (ascii) return ascii_lower(host);
  char* out = nullptr;
  const int rc = idn2_to_ascii_8z(host.c_str(), &out, IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT);
  if (rc != IDN2_OK || out == nullptr) {
    set_error(error, "invalid internationalized host name '" + host + "': " + idn2_strerror(rc));
    return std::nullopt;
  }
  std::string ace(out);
  idn2_free(out);
  // UTS #46 maps some code points to nothing (U+00AD SOFT HYPHEN, U+200B...):
  // a host of only those is no host (found by fuzz_url).
  if (ace.empty() || ace.find_first_not_of('.') == std::string::npos) {
    set_error(error, "internationalized host name '" + host + "' maps to an empty name");
    return std::nullopt;
  }
  return ascii_lower(ace);
}

// Parses an absolute http(s) URL into `u`; sets *error on failure.
bool parse_absolute(CURLU* u, const std::string& url, std::string* error) {
  const std::string scheme = scheme_of(url);
  if (scheme.empty()) {
    set_error(error, "not an absolute URL: '" + url + "'");
    return false;
  }
  if (scheme != "http" && scheme != "https") {
    set_error(error, "unsupported scheme '" + scheme + "' in '" + url + "' (only http and https)");
    return false;
  }
  const CURLUcode rc = curl_url_set(u, CURLUPART_URL, url.c_str(), CURLU_ALLOW_SPACE);
  if (rc != CURLUE_OK) {
    set_error(error, "invalid URL '" + url + "': " + curl_url_strerror(rc));
    return false;
  }
  return true;
}

// Builds the canonical form of the URL held in `u` (see normalize_url).
std::optional<std::string> canonicalize(CURLU* u, const std::string& original, std::string* error) {
  const auto scheme = get_part(u, CURLUPART_SCHEME);
  const auto raw_host = get_part(u, CURLUPART_HOST);
  if (!scheme || !raw_host || raw_host->empty()) {
    set_error(error, "URL has no host: '" + original + "'");
    return std::nullopt;
  }
  const auto host = canonical_host(*raw_host, error);
  if (!host) return std::nullopt;

  std::string out = ascii_lower(*scheme) + "://";
  if (const auto user = get_part(u, CURLUPART_USER)) {
    out += canonicalize_percent_encoding(*user, UrlComponent::Userinfo);
    if (const auto password = get_part(u, CURLUPART_PASSWORD)) {
      out += ":" + canonicalize_percent_encoding(*password, UrlComponent::Userinfo);
    }
    out += "@";
  }
  out += *host;
  if (const auto port = get_part(u, CURLUPART_PORT, CURLU_NO_DEFAULT_PORT)) out += ":" + *port;
  const auto path = get_part(u, CURLUPART_PATH);
  out += (path && !path->empty()) ? canonicalize_percent_encoding(*path, UrlComponent::Path) : "/";
  if (const auto query = get_part(u, CURLUPART_QUERY)) {
    out += "?" + canonicalize_percent_encoding(*query, UrlComponent::Query);
  }

  // Second pass through libcurl: decoding "%2E" above can create dot segments, which it removes
  // (RFC 3986 §5.2.4); it also re-validates the whole string.
  CurlUrl again(curl_url());
  if (!again) {
    set_error(error, "out of memory");
    return std::nullopt;
  }
  const CURLUcode rc = curl_url_set(again.get(), CURLUPART_URL, out.c_str(), 0);
  if (rc != CURLUE_OK) {
    set_error(error, "invalid URL '" + original + "': " + curl_url_strerror(rc));
    return std::nullopt;
  }
  auto result = get_part(again.get(), CURLUPART_URL, CURLU_NO_DEFAULT_PORT);
  if (!result) set_error(error, "invalid URL '" + original + "'");
  return result;
}

}  // namespace

std::optional<std::string> normalize_url(const std::string& url, std::string* error) {
  const std::string cleaned = clean_reference(url);
  CurlUrl u(curl_url());
  if (!u) {
    set_error(error, "out of memory");
    return std::nullopt;
  }
  if (!parse_absolute(u.get(), cleaned, error)) return std::nullopt;
  return canonicalize(u.get(), cleaned, error);
}

std::optional<std::string> resolve_url(const std::string& base, const std::string& ref, std::string* error) {
  const std::string cleaned = clean_reference(ref);
  CurlUrl u(curl_url());
  if (!u) {
    set_error(error, "out of memory");
    return std::nullopt;
  }
  std::string base_error;
  if (!parse_absolute(u.get(), clean_reference(base), &base_error)) {
    set_error(error, "bad base URL: " + base_error);
    return std::nullopt;
  }
  // libcurl 7.88 resolves "" and "#frag" to the base's directory; RFC 3986 §5.2.2 says the base itself.
  if (!cleaned.empty() && cleaned[0] != '#') {
    const std::string scheme = scheme_of(cleaned);
    if (!scheme.empty()) return normalize_url(cleaned, error);
    const CURLUcode rc = curl_url_set(u.get(), CURLUPART_URL, cleaned.c_str(), CURLU_ALLOW_SPACE);
    if (rc != CURLUE_OK) {
      set_error(error, "cannot resolve '" + cleaned + "': " + curl_url_strerror(rc));
      return std::nullopt;
    }
  }
  return canonicalize(u.get(), cleaned, error);
}

namespace {

// The part of a normalized base that a reference with a path of its own resolves against: up to and
// including the last '/' of the path ("http://h/a/b.html?q" -> "http://h/a/"). Empty when there is no
// path after the authority, or when the base carries a fragment (not a normalized URL).
std::string_view base_directory(std::string_view base) {
  const size_t scheme_end = base.find("://");
  if (scheme_end == std::string_view::npos || base.find('#') != std::string_view::npos) return {};
  const size_t path = base.find('/', scheme_end + 3);
  if (path == std::string_view::npos) return {};
  const size_t query = base.find('?', path);
  const size_t slash = base.rfind('/', query == std::string_view::npos ? base.size() : query);
  return base.substr(0, slash + 1);
}

bool has_own_path(const std::string& ref) {
  if (ref.empty()) return false;
  const auto c = static_cast<unsigned char>(ref[0]);
  return c != '#' && c != '?' && !is_c0_or_space(c);
}

}  // namespace

std::optional<std::string> resolve_url_memoized(const std::string& base, const std::string& ref, std::string* error) {
  constexpr size_t kMaxEntries = 4096;
  const std::string_view directory = base_directory(base);
  if (directory.empty() || !has_own_path(ref)) return resolve_url(base, ref, error);
  thread_local std::unordered_map<std::string, std::string> memo;
  std::string key;
  key.reserve(directory.size() + 1 + ref.size());
  key.append(directory).push_back('\0');
  key.append(ref);
  if (const auto hit = memo.find(key); hit != memo.end()) return hit->second;
  auto url = resolve_url(base, ref, error);
  if (url) {
    if (memo.size() >= kMaxEntries) memo.clear();
    memo.emplace(std::move(key), *url);
  }
  return url;
}

std::string origin_of(const std::string& url) {
  CurlUrl u(curl_url());
  if (!u || !parse_absolute(u.get(), clean_reference(url), nullptr)) return "";
  const auto scheme = get_part(u.get(), CURLUPART_SCHEME);
  const auto raw_host = get_part(u.get(), CURLUPART_HOST);
  if (!scheme || !raw_host || raw_host->empty()) return "";
  const auto host = canonical_host(*raw_host, nullptr);
  if (!host) return "";
  std::string out = ascii_lower(*scheme) + "://" + *host;
  if (const auto port = get_part(u.get(), CURLUPART_PORT, CURLU_NO_DEFAULT_PORT)) out += ":" + *port;
  return out;
}

std::string normalized_origin(std::string_view url) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return "";
  const size_t authority = scheme_end + 3;
  const size_t authority_end = std::min(url.find_first_of("/?#", authority), url.size());
  std::string_view host_port = url.substr(authority, authority_end - authority);
  if (const size_t at = host_port.rfind('@'); at != std::string_view::npos) host_port.remove_prefix(at + 1);
  std::string out(url.substr(0, authority));
  out.append(host_port);
  return out;
}

std::string path_and_query(const std::string& url) {
  CurlUrl u(curl_url());
  if (!u || !parse_absolute(u.get(), clean_reference(url), nullptr)) return "";
  const auto path = get_part(u.get(), CURLUPART_PATH);
  std::string out = (path && !path->empty()) ? *path : "/";
  if (const auto query = get_part(u.get(), CURLUPART_QUERY)) out += "?" + *query;
  return out;
}

std::string filename_of(const std::string& url) {
  CurlUrl u(curl_url());
  if (!u || !parse_absolute(u.get(), clean_reference(url), nullptr)) return "";
  const auto path = get_part(u.get(), CURLUPART_PATH);
  if (!path) return "";
  const size_t slash = path->rfind('/');
  const std::string segment = slash == std::string::npos ? *path : path->substr(slash + 1);
  // The catalog holds UTF-8 only: a segment whose decoded bytes are not
  // (%E9 from a Latin-1 server) keeps its percent-encoding, which loses nothing.
  std::string decoded = percent_decode(segment);
  return is_utf8(decoded) ? decoded : segment;
}

}  // namespace kestrel::crawler
