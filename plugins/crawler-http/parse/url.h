// URL resolution and normalization for the crawler (RFC 3986), built on libcurl's URL API (curl_url)
// and libidn2 for internationalized host names (IDNA 2008 with UTS #46 non-transitional mapping, as browsers do).
//
// Every function here is pure: no global state besides libcurl's and libidn2's own read-only tables
// (and resolve_url_memoized's per-thread memo, which changes no answer), so any thread may call any of
// them at any time. None of them throws (allocation failure aside).
#ifndef KESTREL_CRAWLER_PARSE_URL_H_
#define KESTREL_CRAWLER_PARSE_URL_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kestrel::crawler {

// Resolves `ref` (as found in an attribute, may be relative, may have surrounding whitespace) against absolute `base`
// with libcurl's URL API (RFC 3986), then normalizes (see normalize_url). Returns nullopt and sets *error
// (if non-null) when the result is not a valid absolute http(s) URL.
std::optional<std::string> resolve_url(const std::string& base, const std::string& ref, std::string* error = nullptr);

// resolve_url with a per-thread memo, for the references of many documents in one directory: a
// reference with a path of its own (not empty, not starting with '#', '?' or whitespace) resolves the
// same against every base that shares scheme, authority and path up to the last '/' (RFC 3986 §5.2.2
// and §5.3: the merge keeps only the base's directory). A site's navigation links, repeated on every
// page, are thus resolved once per worker thread (the GIMP manual: 24,730 references, 3,295 distinct).
// `base` must be a normalized URL (normalize_url's or resolve_url's output): the memo is keyed on its
// text. Successes only are remembered, at most 4096 per thread (then the memo starts over, ~0.6 MB).
// Same result and error as resolve_url.
std::optional<std::string> resolve_url_memoized(const std::string& base, const std::string& ref,
                                                std::string* error = nullptr);

// Normalizes an absolute URL: scheme and host lower-case, IDN host to punycode (libidn2), default port dropped,
// fragment dropped, dot segments removed, empty path -> "/", percent-encoding canonical (hex upper-case,
// unreserved characters decoded, bytes that need it encoded). Only http and https are accepted.
// Userinfo ("user:pass@") is kept as given. On failure returns nullopt and sets *error (if non-null) to a
// sentence naming the problem, e.g. "unsupported scheme 'ftp'".
std::optional<std::string> normalize_url(const std::string& url, std::string* error = nullptr);

// "scheme://host[:port]" of a normalized URL (port only when not the default); "" if unparsable.
std::string origin_of(const std::string& url);

// origin_of for a URL that normalize_url or resolve_url returned, read from its text without parsing
// (scheme and host are already canonical, a default port already dropped; userinfo is left out as
// origin_of does). For the crawl thread's scope check of every extracted link. "" if `url` has no "://".
std::string normalized_origin(std::string_view url);

// Path plus "?query" of a URL ("/" at least); used for robots.txt matching. "" if unparsable.
std::string path_and_query(const std::string& url);

// Last path segment, percent-decoded when the result is UTF-8, else as it is in the URL (the catalog holds
// UTF-8 only); "" for a path ending in '/', or if unparsable.
std::string filename_of(const std::string& url);

}  // namespace kestrel::crawler

#endif  // KESTREL_CRAWLER_PARSE_URL_H_
