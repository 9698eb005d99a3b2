#include "charset.h"

#include <gumbo.h>
#include <iconv.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <utility>
#include <vector>

#include "ascii.h"

namespace kestrel::crawler {

namespace {

constexpr size_t kPrescanBytes = 1024;  // WHATWG "prescan a byte stream": the first 1024 bytes
const char kReplacement[] = "\xEF\xBF\xBD";  // U+FFFD in UTF-8

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
  if (probe == reinterpret_cast<iconv_t>(-1)) return std::nullopt;
  iconv_close(probe);
  return std::make_pair(label, label);
}

// The value of parameter `name` in a ";"-separated parameter list (Content-Type or meta content), unquoted.
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

// <meta charset> in the first 1024 bytes. Uses gumbo's tokenizer and tree builder, which cope with any
// ASCII-compatible encoding here because the markup we look at is ASCII.
std::string meta_charset(std::string_view body) {
  const std::string_view head = body.substr(0, std::min(body.size(), kPrescanBytes));
  std::unique_ptr<GumboOutput, void (*)(GumboOutput*)> output(
      gumbo_parse_with_options(&kGumboDefaultOptions, head.data(), head.size()),
      [](GumboOutput* o) { gumbo_destroy_output(&kGumboDefaultOptions, o); });
  if (!output) return "";
  std::vector<const GumboNode*> stack{output->root};
  // Walk in document order: pop from the back, push children reversed.
  while (!stack.empty()) {
    const GumboNode* node = stack.back();
    stack.pop_back();
    if (node->type != GUMBO_NODE_ELEMENT) continue;
    const GumboElement& element = node->v.element;
    if (element.tag == GUMBO_TAG_META) {
      if (const GumboAttribute* cs = gumbo_get_attribute(&element.attributes, "charset")) {
        return std::string(trim(cs->value));
      }
      const GumboAttribute* equiv = gumbo_get_attribute(&element.attributes, "http-equiv");
      const GumboAttribute* content = gumbo_get_attribute(&element.attributes, "content");
      if (equiv != nullptr && content != nullptr && ascii_lower(trim(equiv->value)) == "content-type") {
        const std::string value = parameter_value(std::string(";") + content->value, "charset");
        if (!value.empty()) return value;
      }
    }
    for (unsigned i = element.children.length; i > 0; --i) {
      stack.push_back(static_cast<const GumboNode*>(element.children.data[i - 1]));
    }
  }
  return "";
}

struct IconvCloser {
  void operator()(void* cd) const { iconv_close(static_cast<iconv_t>(cd)); }
};

struct Detected {
  std::string name;        // WHATWG-ish name
  std::string iconv_name;  // what iconv_open gets
  size_t bom_length = 0;   // bytes of BOM to skip
};

Detected detect(std::string_view body, std::string_view content_type) {
  if (body.size() >= 3 && body.substr(0, 3) == "\xEF\xBB\xBF") return {"utf-8", "UTF-8", 3};
  if (body.size() >= 2 && body.substr(0, 2) == "\xFF\xFE") return {"utf-16le", "UTF-16LE", 2};
  if (body.size() >= 2 && body.substr(0, 2) == "\xFE\xFF") return {"utf-16be", "UTF-16BE", 2};
  if (auto from_header = resolve_label(charset_from_content_type(content_type))) {
    return {from_header->first, from_header->second, 0};
  }
  if (auto from_meta = resolve_label(meta_charset(body))) {
    // WHATWG: a <meta> can't declare UTF-16 (the markup it was read from was ASCII-compatible).
    if (from_meta->first.rfind("utf-16", 0) == 0) return {"utf-8", "UTF-8", 0};
    return {from_meta->first, from_meta->second, 0};
  }
  return {"utf-8", "UTF-8", 0};
}

// Converts with iconv, replacing each undecodable byte (EILSEQ) and a truncated tail (EINVAL) with U+FFFD.
std::string convert(std::string_view in, const std::string& iconv_name) {
  iconv_t raw = iconv_open("UTF-8", iconv_name.c_str());
  if (raw == reinterpret_cast<iconv_t>(-1)) raw = iconv_open("UTF-8", "UTF-8");
  std::unique_ptr<void, IconvCloser> cd(raw);
  std::string out;
  out.reserve(in.size() + in.size() / 2 + 16);
  char buffer[4096];
  char* src = const_cast<char*>(in.data());  // iconv's signature is not const-correct; it does not write
  size_t src_left = in.size();
  while (src_left > 0) {
    char* dst = buffer;
    size_t dst_left = sizeof buffer;
    const size_t rc = iconv(raw, &src, &src_left, &dst, &dst_left);
    out.append(buffer, static_cast<size_t>(dst - buffer));
    if (rc != static_cast<size_t>(-1) || errno == E2BIG) continue;
    if (errno == EILSEQ) {  // skip one undecodable byte
      out += kReplacement;
      ++src;
      --src_left;
      continue;
    }
    out += kReplacement;  // EINVAL: an incomplete sequence at the end of the input
    break;
  }
  char* dst = buffer;  // flush the shift state of stateful encodings (ISO-2022-JP)
  size_t dst_left = sizeof buffer;
  iconv(raw, nullptr, nullptr, &dst, &dst_left);
  out.append(buffer, static_cast<size_t>(dst - buffer));
  return out;
}

// Length of the well-formed UTF-8 sequence at s[i] (RFC 3629 §4: at most 4
// bytes, no overlong forms, no surrogates, nothing above U+10FFFF), or 0.
size_t utf8_sequence_length(std::string_view s, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = byte(i);
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
  if (i + n > s.size() || byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (size_t k = 2; k < n; ++k)
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
  return n;
}

// glibc's iconv passes some ill-formed UTF-8 through (e.g. 5-byte forms from
// the old ISO 10646 range); gumbo and the catalog must only ever see
// well-formed UTF-8, so every ill-formed byte becomes U+FFFD here.
std::string well_formed_utf8(std::string in) {
  size_t i = 0;
  while (i < in.size()) {
    const size_t n = utf8_sequence_length(in, i);
    if (n == 0) break;
    i += n;
  }
  if (i == in.size()) return in;  // the common case: nothing to repair
  std::string out(in, 0, i);
  while (i < in.size()) {
    const size_t n = utf8_sequence_length(in, i);
    if (n == 0) {
      out += kReplacement;
      ++i;
    } else {
      out.append(in, i, n);
      i += n;
    }
  }
  return out;
}

}  // namespace

std::string charset_from_content_type(std::string_view content_type) {
  return ascii_lower(trim(parameter_value(content_type, "charset")));
}

std::string detect_charset(std::string_view body, std::string_view content_type) {
  return detect(body, content_type).name;
}

std::string to_utf8(std::string_view body, std::string_view content_type) {
  const Detected detected = detect(body, content_type);
  return well_formed_utf8(convert(body.substr(detected.bom_length), detected.iconv_name));
}

}  // namespace kestrel::crawler
