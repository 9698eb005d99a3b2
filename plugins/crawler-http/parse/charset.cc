#include "charset.h"

#include <iconv.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "ascii.h"

namespace kestrel::crawler {

namespace {

constexpr size_t kPrescanBytes = 1024;  // WHATWG "prescan a byte stream": the first 1024 bytes
const char kReplacement[] = "\xEF\xBF\xBD";  // U+FFFD in UTF-8
const iconv_t kNoIconv = reinterpret_cast<iconv_t>(-1);

bool is_http_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_http_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_http_space(s.back())) s.remove_suffix(1);
  return s;
}

// WHATWG Encoding labels for the encodings a crawler meets, mapped to the encoding's name and to the
// glibc iconv name that decodes it as browsers do (WHATWG's "shift_jis" is really Windows-31J, its
// "euc-kr" Windows-949, its "gbk" a subset of GB18030, its "iso-8859-1" windows-1252).
struct EncodingLabel {
  const char* label;
  const char* name;
  const char* iconv_name;
};
const EncodingLabel kLabels[] = {
    {"utf-8", "utf-8", "UTF-8"}, {"utf8", "utf-8", "UTF-8"}, {"unicode-1-1-utf-8", "utf-8", "UTF-8"},
    {"unicode11utf8", "utf-8", "UTF-8"}, {"unicode20utf8", "utf-8", "UTF-8"}, {"x-unicode20utf8", "utf-8", "UTF-8"},
    {"windows-1252", "windows-1252", "CP1252"}, {"ansi_x3.4-1968", "windows-1252", "CP1252"},
    {"ascii", "windows-1252", "CP1252"}, {"cp1252", "windows-1252", "CP1252"}, {"cp819", "windows-1252", "CP1252"},
    {"csisolatin1", "windows-1252", "CP1252"}, {"ibm819", "windows-1252", "CP1252"},
    {"iso-8859-1", "windows-1252", "CP1252"}, {"iso-ir-100", "windows-1252", "CP1252"},
    {"iso8859-1", "windows-1252", "CP1252"}, {"iso88591", "windows-1252", "CP1252"},
    {"iso_8859-1", "windows-1252", "CP1252"}, {"iso_8859-1:1987", "windows-1252", "CP1252"},
    {"l1", "windows-1252", "CP1252"}, {"latin1", "windows-1252", "CP1252"}, {"us-ascii", "windows-1252", "CP1252"},
    {"x-cp1252", "windows-1252", "CP1252"}, {"latin-1", "windows-1252", "CP1252"},
    {"x-user-defined", "windows-1252", "CP1252"},  // WHATWG prescan: x-user-defined means windows-1252
    {"shift_jis", "shift_jis", "CP932"}, {"shift-jis", "shift_jis", "CP932"}, {"sjis", "shift_jis", "CP932"},
    {"csshiftjis", "shift_jis", "CP932"}, {"ms932", "shift_jis", "CP932"}, {"ms_kanji", "shift_jis", "CP932"},
    {"windows-31j", "shift_jis", "CP932"}, {"x-sjis", "shift_jis", "CP932"},
    {"euc-jp", "euc-jp", "EUC-JP"}, {"cseucpkdfmtjapanese", "euc-jp", "EUC-JP"}, {"x-euc-jp", "euc-jp", "EUC-JP"},
    {"iso-2022-jp", "iso-2022-jp", "ISO-2022-JP"}, {"csiso2022jp", "iso-2022-jp", "ISO-2022-JP"},
    {"euc-kr", "euc-kr", "CP949"}, {"cseuckr", "euc-kr", "CP949"}, {"csksc56011987", "euc-kr", "CP949"},
    {"iso-ir-149", "euc-kr", "CP949"}, {"korean", "euc-kr", "CP949"}, {"ks_c_5601-1987", "euc-kr", "CP949"},
    {"ks_c_5601-1989", "euc-kr", "CP949"}, {"ksc5601", "euc-kr", "CP949"}, {"ksc_5601", "euc-kr", "CP949"},
    {"windows-949", "euc-kr", "CP949"},
    {"gbk", "gbk", "GB18030"}, {"gb2312", "gbk", "GB18030"}, {"chinese", "gbk", "GB18030"},
    {"csgb2312", "gbk", "GB18030"}, {"x-gbk", "gbk", "GB18030"}, {"gb18030", "gb18030", "GB18030"},
    {"big5", "big5", "BIG5-HKSCS"}, {"big5-hkscs", "big5", "BIG5-HKSCS"}, {"cn-big5", "big5", "BIG5-HKSCS"},
    {"x-x-big5", "big5", "BIG5-HKSCS"},
    {"koi8-r", "koi8-r", "KOI8-R"}, {"koi8", "koi8-r", "KOI8-R"}, {"koi8-u", "koi8-u", "KOI8-U"},
    {"utf-16le", "utf-16le", "UTF-16LE"}, {"utf-16", "utf-16le", "UTF-16LE"}, {"utf-16be", "utf-16be", "UTF-16BE"},
};

// Resolves a charset label to {WHATWG-ish name, iconv name}; labels missing from the table are tried
// with iconv as given (e.g. "iso-8859-2", "windows-1251"). nullopt when nobody knows the label.
std::optional<std::pair<std::string, std::string>> resolve_label(std::string_view raw) {
  const std::string label = ascii_lower(trim(raw));
  if (label.empty()) return std::nullopt;
  for (const auto& entry : kLabels) {
    if (label == entry.label) return std::make_pair(std::string(entry.name), std::string(entry.iconv_name));
  }
  for (char c : label) {  // keep junk out of iconv_open ("//TRANSLIT" suffixes and the like)
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == ':';
    if (!ok) return std::nullopt;
  }
  iconv_t probe = iconv_open("UTF-8", label.c_str());
  if (probe == kNoIconv) return std::nullopt;
  iconv_close(probe);
  return std::make_pair(label, label);
}

// The value of parameter `name` in a ";"-separated parameter list (Content-Type), unquoted.
std::string parameter_value(std::string_view header, std::string_view name) {
  size_t pos = 0;
  while ((pos = header.find(';', pos)) != std::string_view::npos) {
    ++pos;
    std::string_view rest = header.substr(pos);
    while (!rest.empty() && is_http_space(rest.front())) rest.remove_prefix(1);
    if (rest.size() <= name.size() || ascii_lower(rest.substr(0, name.size())) != name) continue;
    rest.remove_prefix(name.size());
    while (!rest.empty() && is_http_space(rest.front())) rest.remove_prefix(1);
    if (rest.empty() || rest.front() != '=') continue;
    rest.remove_prefix(1);
    while (!rest.empty() && is_http_space(rest.front())) rest.remove_prefix(1);
    if (!rest.empty() && (rest.front() == '"' || rest.front() == '\'')) {
      const char quote = rest.front();
      rest.remove_prefix(1);
      return std::string(rest.substr(0, rest.find(quote)));
    }
    return std::string(trim(rest.substr(0, rest.find_first_of(";, \t"))));
  }
  return "";
}

// The HTML Standard's "prescan a byte stream to determine its encoding" (§13.2.3.2), over bytes that may be
// in any ASCII-compatible encoding. Running out of bytes inside a construct ends the prescan without a
// result, so a <meta> cut off by the 1024-byte limit does not count.
class Prescan {
 public:
  explicit Prescan(std::string_view bytes) : b_(bytes) {}

  // The resolved {name, iconv name} of the first <meta> that declares a known encoding, or nullopt.
  std::optional<std::pair<std::string, std::string>> run() {
    while (i_ < b_.size()) {
      if (starts_with("<!--")) {
        const size_t end = b_.find("-->", i_ + 2);  // "<!-->" ends the comment too
        if (end == std::string_view::npos) return std::nullopt;
        i_ = end + 2;
      } else if (starts_with_ci("<meta") && i_ + 5 < b_.size() && (is_space(b_[i_ + 5]) || b_[i_ + 5] == '/')) {
        i_ += 6;
        std::optional<std::optional<std::pair<std::string, std::string>>> found = meta();
        if (!found) return std::nullopt;  // ran out of bytes
        if (*found) return *found;
      } else if (i_ + 1 < b_.size() && b_[i_] == '<' &&
                 (is_alpha(b_[i_ + 1]) || (b_[i_ + 1] == '/' && i_ + 2 < b_.size() && is_alpha(b_[i_ + 2])))) {
        while (i_ < b_.size() && !is_space(b_[i_]) && b_[i_] != '>') ++i_;
        std::string name, value;
        for (;;) {
          const Attr got = attribute(name, value);
          if (got == Attr::kEnd) return std::nullopt;
          if (got == Attr::kNone) break;
        }
      } else if (starts_with("<!") || starts_with("</") || starts_with("<?")) {
        const size_t end = b_.find('>', i_ + 2);
        if (end == std::string_view::npos) return std::nullopt;
        i_ = end;
      }
      ++i_;  // "next byte"
    }
    return std::nullopt;
  }

 private:
  enum class Attr { kFound, kNone, kEnd };

  static bool is_space(char c) { return c == '\t' || c == '\n' || c == '\f' || c == '\r' || c == ' '; }
  static bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
  static char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
  bool starts_with(std::string_view s) const { return b_.substr(i_, s.size()) == s; }
  bool starts_with_ci(std::string_view s) const {
    if (b_.size() - i_ < s.size()) return false;
    for (size_t k = 0; k < s.size(); ++k)
      if (lower(b_[i_ + k]) != s[k]) return false;
    return true;
  }

  // The <meta> steps, just past "<meta" and its separator: nullopt when the bytes ran out, else the
  // encoding it declares (nullopt inside when none, or not one we know).
  std::optional<std::optional<std::pair<std::string, std::string>>> meta() {
    std::vector<std::string> seen;
    bool got_pragma = false;
    enum class NeedPragma { kNull, kTrue, kFalse } need_pragma = NeedPragma::kNull;
    std::optional<std::pair<std::string, std::string>> charset;
    std::string name, value;
    for (;;) {
      const Attr got = attribute(name, value);
      if (got == Attr::kEnd) return std::nullopt;
      if (got == Attr::kNone) break;
      if (std::find(seen.begin(), seen.end(), name) != seen.end()) continue;
      seen.push_back(name);
      if (name == "http-equiv") {
        if (value == "content-type") got_pragma = true;
      } else if (name == "content") {
        if (!charset) {
          if (auto label = charset_in_content(value)) {
            charset = resolve_label(*label);
            if (charset) need_pragma = NeedPragma::kTrue;
          }
        }
      } else if (name == "charset") {
        charset = resolve_label(value);
        need_pragma = NeedPragma::kFalse;
      }
    }
    if (need_pragma == NeedPragma::kNull || (need_pragma == NeedPragma::kTrue && !got_pragma) || !charset) {
      return std::optional<std::pair<std::string, std::string>>();
    }
    // A <meta> can't declare UTF-16: the markup it sits in was read as ASCII.
    if (charset->first.rfind("utf-16", 0) == 0) charset = std::make_pair(std::string("utf-8"), std::string("UTF-8"));
    return charset;
  }

  // "Get an attribute": name and value lower-cased as the algorithm does; kNone at '>', kEnd when the bytes
  // ran out before the attribute ended.
  Attr attribute(std::string& name, std::string& value) {
    name.clear();
    value.clear();
    while (i_ < b_.size() && (is_space(b_[i_]) || b_[i_] == '/')) ++i_;
    if (i_ >= b_.size()) return Attr::kEnd;
    if (b_[i_] == '>') return Attr::kNone;
    for (;; ++i_) {  // the name
      if (i_ >= b_.size()) return Attr::kEnd;
      const char c = b_[i_];
      if (c == '=' && !name.empty()) {
        ++i_;
        break;
      }
      if (is_space(c)) {
        while (i_ < b_.size() && is_space(b_[i_])) ++i_;
        if (i_ >= b_.size()) return Attr::kEnd;
        if (b_[i_] != '=') return Attr::kFound;
        ++i_;
        break;
      }
      if (c == '/' || c == '>') return Attr::kFound;
      name += lower(c);
    }
    while (i_ < b_.size() && is_space(b_[i_])) ++i_;  // the value
    if (i_ >= b_.size()) return Attr::kEnd;
    if (b_[i_] == '"' || b_[i_] == '\'') {
      const char quote = b_[i_];
      for (++i_; i_ < b_.size(); ++i_) {
        if (b_[i_] == quote) {
          ++i_;
          return Attr::kFound;
        }
        value += lower(b_[i_]);
      }
      return Attr::kEnd;
    }
    if (b_[i_] == '>') return Attr::kFound;
    for (; i_ < b_.size(); ++i_) {
      if (is_space(b_[i_]) || b_[i_] == '>') return Attr::kFound;
      value += lower(b_[i_]);
    }
    return Attr::kEnd;
  }

  // "Extracting a character encoding from a meta element" (§2.6.4), on an already lower-cased value.
  static std::optional<std::string> charset_in_content(std::string_view s) {
    size_t pos = 0;
    for (;;) {
      pos = s.find("charset", pos);
      if (pos == std::string_view::npos) return std::nullopt;
      pos += 7;
      while (pos < s.size() && is_space(s[pos])) ++pos;
      if (pos >= s.size() || s[pos] != '=') continue;  // look for the next "charset"
      ++pos;
      while (pos < s.size() && is_space(s[pos])) ++pos;
      if (pos >= s.size()) return std::nullopt;
      if (s[pos] == '"' || s[pos] == '\'') {
        const size_t end = s.find(s[pos], pos + 1);
        if (end == std::string_view::npos) return std::nullopt;
        return std::string(s.substr(pos + 1, end - pos - 1));
      }
      size_t end = pos;
      while (end < s.size() && !is_space(s[end]) && s[end] != ';') ++end;
      return std::string(s.substr(pos, end - pos));
    }
  }

  std::string_view b_;
  size_t i_ = 0;
};

struct Detected {
  std::string name;        // WHATWG-ish name
  std::string iconv_name;  // what iconv_open gets
};

Detected detect(std::string_view body, std::string_view content_type) {
  if (body.size() >= 3 && body.substr(0, 3) == "\xEF\xBB\xBF") return {"utf-8", "UTF-8"};
  if (body.size() >= 2 && body.substr(0, 2) == "\xFF\xFE") return {"utf-16le", "UTF-16LE"};
  if (body.size() >= 2 && body.substr(0, 2) == "\xFE\xFF") return {"utf-16be", "UTF-16BE"};
  if (auto from_header = resolve_label(charset_from_content_type(content_type))) {
    return {from_header->first, from_header->second};
  }
  if (auto from_meta = Prescan(body.substr(0, std::min(body.size(), kPrescanBytes))).run()) {
    return {from_meta->first, from_meta->second};
  }
  return {"utf-8", "UTF-8"};
}


// The length of the longest prefix of `s` made of well-formed UTF-8 sequences.
size_t well_formed_prefix(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    // ASCII runs, 8 bytes at a time: the common case for markup.
    while (i + 8 <= s.size()) {
      uint64_t word;
      std::memcpy(&word, s.data() + i, sizeof word);
      if ((word & 0x8080808080808080ull) != 0) break;
      i += 8;
    }
    if (i >= s.size()) break;
    const size_t n = utf8_sequence(s, i);
    if (n == 0) break;
    i += n;
  }
  return i;
}

// glibc's iconv passes some ill-formed UTF-8 through (e.g. 5-byte forms from
// the old ISO 10646 range); the HTML parser and the catalog must only ever see
// well-formed UTF-8, so every ill-formed byte of out[from..] becomes U+FFFD.
// iconv writes whole characters only, so `from` is a character boundary.
void repair_utf8(std::string& out, size_t from) {
  const size_t good = from + well_formed_prefix(std::string_view(out).substr(from));
  if (good == out.size()) return;  // the common case: nothing to repair
  std::string tail = out.substr(good);
  out.resize(good);
  size_t i = 0;
  while (i < tail.size()) {
    const size_t n = utf8_sequence(tail, i);
    if (n == 0) {
      out += kReplacement;
      ++i;
    } else {
      out.append(tail, i, n);
      i += n;
    }
  }
}

}  // namespace

std::string charset_from_content_type(std::string_view content_type) {
  return ascii_lower(trim(parameter_value(content_type, "charset")));
}

std::string detect_charset(std::string_view body, std::string_view content_type) {
  return detect(body, content_type).name;
}

std::string to_utf8(std::string_view body, std::string_view content_type) {
  Utf8Decoder decoder(detect(body, content_type).name);
  std::string out;
  out.reserve(body.size() + body.size() / 8 + 16);
  decoder.feed(body, out);
  decoder.finish(out);
  return out;
}

Utf8Decoder::Utf8Decoder(std::string_view charset) {
  const auto resolved = resolve_label(charset);
  const std::string iconv_name = resolved ? resolved->second : "UTF-8";
  utf8_ = iconv_name == "UTF-8";
  if (iconv_name == "UTF-8") bom_ = "\xEF\xBB\xBF";
  if (iconv_name == "UTF-16LE") bom_ = "\xFF\xFE";
  if (iconv_name == "UTF-16BE") bom_ = "\xFE\xFF";
  // UTF-8 goes through iconv too (for its ill-formed stretches), so that the U+FFFD it makes stay what they
  // always were; valid stretches are copied without it.
  iconv_t cd = iconv_open("UTF-8", iconv_name.c_str());
  if (cd == kNoIconv) {  // cannot happen for resolved labels; keep a working decoder anyway
    cd = iconv_open("UTF-8", "UTF-8");
    utf8_ = true;
  }
  cd_ = cd == kNoIconv ? nullptr : cd;
}

Utf8Decoder::~Utf8Decoder() {
  if (cd_ != nullptr) iconv_close(static_cast<iconv_t>(cd_));
}

Utf8Decoder::Utf8Decoder(Utf8Decoder&& other) noexcept
    : cd_(std::exchange(other.cd_, nullptr)),
      utf8_(other.utf8_),
      bom_(std::move(other.bom_)),
      at_start_(other.at_start_),
      carry_(std::move(other.carry_)) {}

Utf8Decoder& Utf8Decoder::operator=(Utf8Decoder&& other) noexcept {
  if (this != &other) {
    if (cd_ != nullptr) iconv_close(static_cast<iconv_t>(cd_));
    cd_ = std::exchange(other.cd_, nullptr);
    utf8_ = other.utf8_;
    bom_ = std::move(other.bom_);
    at_start_ = other.at_start_;
    carry_ = std::move(other.carry_);
  }
  return *this;
}

void Utf8Decoder::feed(std::string_view bytes, std::string& out) {
  std::string joined;
  if (!carry_.empty()) {  // a partial BOM or character from the last call: small, so join by copying
    joined.reserve(carry_.size() + bytes.size());
    joined.append(carry_).append(bytes);
    carry_.clear();
    bytes = joined;
  }
  if (at_start_ && !bom_.empty()) {
    const size_t n = std::min(bytes.size(), bom_.size());
    if (bytes.substr(0, n) == std::string_view(bom_).substr(0, n)) {
      if (n < bom_.size()) {  // maybe a BOM: wait for its last bytes
        carry_.assign(bytes);
        return;
      }
      bytes.remove_prefix(n);
      at_start_ = false;  // one BOM, at the very start: a second one (even in the next feed) is content
    }
  }
  if (!bytes.empty()) at_start_ = false;
  convert(bytes, out, false);
}

void Utf8Decoder::finish(std::string& out) {
  // What is carried is a partial character, or a stream shorter than a BOM that began like one: content.
  const std::string rest = std::move(carry_);
  carry_.clear();
  convert(rest, out, true);
  if (cd_ != nullptr) {  // flush the shift state of stateful encodings (ISO-2022-JP)
    char buffer[64];
    char* dst = buffer;
    size_t dst_left = sizeof buffer;
    iconv(static_cast<iconv_t>(cd_), nullptr, nullptr, &dst, &dst_left);
    const size_t from = out.size();
    out.append(buffer, static_cast<size_t>(dst - buffer));
    repair_utf8(out, from);
  }
  at_start_ = true;  // a later feed starts a new stream
}

// Converts `in`. UTF-8: well-formed stretches are copied as they are and each other byte becomes U+FFFD,
// which is what iconv does (it rejects the byte, or passes an ill-formed sequence that repair_utf8 then
// replaces byte by byte), except within kLongestSequence bytes of the end, where iconv decides whether the
// bytes are the start of a character (its rules are glibc's own). Other encodings: iconv, at most
// kIconvWindow bytes per call, each undecodable byte (EILSEQ) becoming U+FFFD. An incomplete sequence at
// the end (EINVAL) is carried to the next feed, or becomes one U+FFFD `at_end`.
void Utf8Decoder::convert(std::string_view in, std::string& out, bool at_end) {
  constexpr size_t kLongestSequence = 6;  // glibc's UTF-8 decoder reads the old 5- and 6-byte forms
  constexpr size_t kIconvWindow = size_t{64} << 10;
  while (!in.empty()) {
    if (utf8_) {
      const size_t good = well_formed_prefix(in);
      out.append(in.data(), good);
      in.remove_prefix(good);
      if (in.empty()) return;
      if (in.size() > kLongestSequence) {
        out += kReplacement;
        in.remove_prefix(1);
        continue;
      }
    }
    if (cd_ == nullptr) {  // no converter at all (iconv_open failed twice): replace, never lose the rest
      out += kReplacement;
      in.remove_prefix(1);
      continue;
    }
    const size_t window = std::min(in.size(), kIconvWindow);
    char* src = const_cast<char*>(in.data());  // iconv's signature is not const-correct; it does not write
    size_t src_left = window;
    const size_t from = out.size();
    char buffer[4096];
    bool rest_done = false;  // the tail of `in` was carried or replaced
    while (src_left > 0) {
      char* dst = buffer;
      size_t dst_left = sizeof buffer;
      const size_t rc = iconv(static_cast<iconv_t>(cd_), &src, &src_left, &dst, &dst_left);
      out.append(buffer, static_cast<size_t>(dst - buffer));
      if (rc != static_cast<size_t>(-1) || errno == E2BIG) continue;
      if (errno == EILSEQ) {  // skip one undecodable byte
        out += kReplacement;
        ++src;
        --src_left;
        if (utf8_) break;  // back to the fast path
        continue;
      }
      // EINVAL: an incomplete sequence at the end of the window.
      if (window < in.size()) break;  // more input follows: the next window starts with it
      if (at_end) {
        out += kReplacement;
      } else {
        carry_.assign(src, src_left);
      }
      rest_done = true;
      break;
    }
    repair_utf8(out, from);
    in.remove_prefix(rest_done ? in.size() : static_cast<size_t>(src - in.data()));
  }
}

size_t utf8_sequence(std::string_view s, size_t i, bool* partial) {
  if (partial) *partial = false;
  const auto c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) return 1;
  size_t n = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // bounds of the second byte
  if (c >= 0xC2 && c <= 0xDF) n = 2;
  else if (c == 0xE0) n = 3, lo = 0xA0;
  else if (c == 0xED) n = 3, hi = 0x9F;
  else if (c >= 0xE1 && c <= 0xEF) n = 3;
  else if (c == 0xF0) n = 4, lo = 0x90;
  else if (c == 0xF4) n = 4, hi = 0x8F;
  else if (c >= 0xF1 && c <= 0xF3) n = 4;
  else return 0;
  for (size_t k = 1; k < n; ++k) {
    if (i + k >= s.size()) {
      if (partial) *partial = true;
      return 0;
    }
    const auto b = static_cast<unsigned char>(s[i + k]);
    if (k == 1 ? (b < lo || b > hi) : (b & 0xC0) != 0x80) return 0;
  }
  return n;
}

bool is_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const size_t n = utf8_sequence(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}


}  // namespace kestrel::crawler
