#include "html_extract.h"

#include <libxml/HTMLparser.h>
#include <libxml/dict.h>
#include <libxml/parserInternals.h>
#include <libxml/tree.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <unordered_set>
#include <utility>

#include "charset.h"
#include "css_urls.h"
#include "url.h"

// How libxml2 2.9.14's HTML push parser is driven here, and why:
// - SAX only (startElement, endElement, cdataBlock): no xmlDoc is built.
// - The input is made well-formed UTF-8 first (Sanitizer): on a bad byte libxml2 would switch the rest of the
//   document to Latin-1, and it ends attribute values at NUL and at numeric references it cannot decode.
// - HTML_PARSE_IGNORE_ENC: the input is UTF-8 already; a <meta charset> must not make libxml2 re-decode it.
// - HTML_PARSE_RECOVER: without it "</" plus any letter ends a <script> or <style> element.
// - The input goes to libxml2 in windows cut where the input says, not where feed() was called: libxml2
//   finds the end of a tag with a quote-tracking scan that a stray quote (<p title=don't>) throws out of
//   step with its attribute parser, and then may parse a start tag before its end has arrived, cutting an
//   attribute value at the end of the push. With fixed windows the result is the same however the input
//   was split (the stray-quote case can still cut one tag at a window boundary, once per 64 KiB at most).
// - ctxt->checkIndex is reset before each push: libxml2 resumes that scan at checkIndex but forgets which
//   quote it was in, so after a push that ends inside a quoted attribute value it would never find the '>'
//   again and would buffer the whole rest of the document.
// - A '<' near the end of a window goes with the next one: libxml2 reads "</scr" + "ipt>" split across two
//   pushes as script text, and the rest of the document with it.
// - </body> and </html> are not passed on where they are end tags (libxml2 drops everything after </html>),
//   and </template> is pushed on its own to see whether libxml2 ignored it (see end_tag).
// - xmlParserInputShrink after each push: libxml2 frees consumed input only while it parses text.
// - Own limits on unparsed input, nesting depth and interned names (libxml2 has none in push mode).

namespace kestrel::crawler {

namespace {

constexpr size_t kSlice = size_t{64} << 10;  // bytes handed to libxml2 per htmlParseChunk
constexpr size_t kHoldback = 16;             // a '<' this close to the end of a window goes with the next one
constexpr size_t kEndTagBytes = 1024;        // longest "</template ...>" looked at as one
constexpr size_t kLookahead = kEndTagBytes + kHoldback;  // input needed after a window before it is taken
const char kReplacement[] = "\xEF\xBF\xBD";  // U+FFFD in UTF-8

// libxml2 must be initialized once, before any parser, for multi-threaded use.
void init_libxml2() {
  static std::once_flag once;
  std::call_once(once, [] { xmlInitParser(); });
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

bool blank(std::string_view value) {
  for (char c : value) {
    if (!std::isspace(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// A scheme other than http(s) (javascript:, data:, mailto:, tel:, ftp: ...) is skipped silently.
bool has_foreign_scheme(std::string_view ref) {
  while (!ref.empty() && static_cast<unsigned char>(ref.front()) <= 0x20) ref.remove_prefix(1);
  if (ref.empty() || !std::isalpha(static_cast<unsigned char>(ref.front()))) return false;
  for (size_t i = 1; i < ref.size(); ++i) {
    const auto c = static_cast<unsigned char>(ref[i]);
    if (c == ':') {
      const std::string_view scheme = ref.substr(0, i);
      return !iequals(scheme, "http") && !iequals(scheme, "https");
    }
    if (!std::isalnum(c) && c != '+' && c != '-' && c != '.' && c != '\t' && c != '\n' && c != '\r') return false;
  }
  return false;
}

// True when the space-separated token list `list` holds `token` (ASCII case-insensitive), as HTML's rel.
bool has_token(std::string_view list, std::string_view token) {
  size_t i = 0;
  while (i < list.size()) {
    while (i < list.size() && std::string_view(" \t\n\r\f").find(list[i]) != std::string_view::npos) ++i;
    size_t j = i;
    while (j < list.size() && std::string_view(" \t\n\r\f").find(list[j]) == std::string_view::npos) ++j;
    if (j > i && iequals(list.substr(i, j - i), token)) return true;
    i = j;
  }
  return false;
}

void append_hex(std::string& out, uint32_t v) {
  char buffer[16];
  const int n = std::snprintf(buffer, sizeof buffer, "&#x%X;", static_cast<unsigned>(v));
  out.append(buffer, static_cast<size_t>(n));
}

// The code point HTML gives a numeric character reference to `v` (HTML §13.2.5.80: zero, surrogates and
// values past U+10FFFF are U+FFFD, 0x80-0x9F are read as windows-1252), further limited to what libxml2 can
// return (XML's Char production): other controls and U+FFFE/U+FFFF become U+FFFD too.
uint32_t char_ref_value(uint32_t v) {
  static const uint16_t kWindows1252[32] = {
      0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
      0x2039, 0x0152, 0x008D, 0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
      0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178};
  if (v >= 0x80 && v <= 0x9F) return kWindows1252[v - 0x80];
  const bool xml_char = v == 0x9 || v == 0xA || v == 0xD || (v >= 0x20 && v <= 0xD7FF) ||
                        (v >= 0xE000 && v <= 0xFFFD) || (v >= 0x10000 && v <= 0x10FFFF);
  return xml_char ? v : 0xFFFD;
}

// Makes any bytes safe input for libxml2 2.9's HTML parser, as a stream (split anywhere, the same output):
// well-formed UTF-8 (each bad byte becomes U+FFFD, an incomplete sequence at the end of a piece waits for the
// next one), NUL as U+FFFD (libxml2 ends attribute values there), no leading BOM (libxml2 would read it as
// text), and numeric character references as HTML decodes them (libxml2 truncates the attribute value at
// one it cannot decode, and decodes &#128; as U+0080): those are rewritten as &#xHHHH; of HTML's code point,
// and "&#" not followed by digits as "&amp;#" (literal text, as in HTML).
class Sanitizer {
 public:
  void feed(std::string_view in, std::string& out) {
    std::string joined;
    if (!carry_.empty()) {
      joined.reserve(carry_.size() + in.size());
      joined.append(carry_).append(in);
      carry_.clear();
      in = joined;
    }
    if (at_start_ && !in.empty()) {
      const std::string_view bom = "\xEF\xBB\xBF";
      const size_t n = std::min(in.size(), bom.size());
      if (in.substr(0, n) == bom.substr(0, n)) {
        if (n < bom.size()) {  // maybe a BOM: wait for the rest
          carry_.assign(in);
          return;
        }
        in.remove_prefix(n);
      }
      at_start_ = false;
    }
    run(in, out, false);
  }

  void finish(std::string& out) {
    const std::string rest = std::move(carry_);
    carry_.clear();
    at_start_ = false;
    run(rest, out, true);
    if (ref_ != Ref::kNone) end_ref('\0', out);
  }

  size_t carried() const { return carry_.size() + ref_text_.size(); }

 private:
  enum class Ref : uint8_t { kNone, kAmp, kHash, kHashX, kDec, kHex };

  static bool is_digit(char c) { return c >= '0' && c <= '9'; }
  static bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
  static uint32_t hex_value(char c) {
    return is_digit(c) ? static_cast<uint32_t>(c - '0') : static_cast<uint32_t>((c | 0x20) - 'a' + 10);
  }

  void run(std::string_view in, std::string& out, bool at_end) {
    size_t i = 0;
    while (i < in.size()) {
      const char c = in[i];
      if (ref_ != Ref::kNone && ref_char(c, out)) {
        ++i;
        continue;
      }
      const auto u = static_cast<unsigned char>(c);
      if (c == '&') {
        ref_ = Ref::kAmp;
        ref_text_ = "&";
        ++i;
      } else if (c == '\0') {
        out += kReplacement;
        ++i;
      } else if (u < 0x80) {
        size_t j = i + 1;
        while (j < in.size() && static_cast<unsigned char>(in[j]) < 0x80 && in[j] != '&' && in[j] != '\0') ++j;
        out.append(in.data() + i, j - i);
        i = j;
      } else {
        bool partial = false;
        const size_t n = utf8_sequence(in, i, &partial);
        if (n > 0) {
          out.append(in.data() + i, n);
          i += n;
        } else if (partial && !at_end) {
          carry_.assign(in.substr(i));
          return;
        } else if (partial) {  // an incomplete sequence at the very end: one U+FFFD, as Utf8Decoder does
          out += kReplacement;
          return;
        } else {
          out += kReplacement;
          ++i;
        }
      }
    }
  }

  // Feeds `c` to the character-reference state; false when `c` is not part of the reference (the caller then
  // handles it as ordinary input; the reference has been written out).
  bool ref_char(char c, std::string& out) {
    switch (ref_) {
      case Ref::kAmp:
        if (c == '#') {
          ref_ = Ref::kHash;
          ref_text_ += c;
          return true;
        }
        break;
      case Ref::kHash:
        if (c == 'x' || c == 'X') {
          ref_ = Ref::kHashX;
          ref_text_ += c;
          return true;
        }
        if (is_digit(c)) {
          start_number(Ref::kDec, c);
          return true;
        }
        break;
      case Ref::kHashX:
        if (is_hex(c)) {
          start_number(Ref::kHex, c);
          return true;
        }
        break;
      case Ref::kDec:
      case Ref::kHex:
        if (ref_ == Ref::kDec ? is_digit(c) : is_hex(c)) {
          add_digit(c, ref_ == Ref::kDec ? 10 : 16);
          return true;
        }
        break;
      case Ref::kNone:
        return false;
    }
    return end_ref(c, out);
  }

  // The first digit of a numeric reference: "&#1" (kDec) or "&#x1" (kHex).
  void start_number(Ref kind, char c) {
    ref_ = kind;
    value_ = 0;
    long_ = false;
    add_digit(c, kind == Ref::kDec ? 10 : 16);
  }

  void add_digit(char c, uint32_t base) {
    value_ = std::min<uint32_t>(value_ * base + hex_value(c), 0x110000);  // saturates past U+10FFFF
    if (ref_text_.size() < 32) {
      ref_text_ += c;
    } else {
      long_ = true;  // too long to keep as written; it is rewritten
    }
  }

  // Writes the pending reference out, ended by `c` ('\0' at the end of the input); true when `c` is consumed
  // (the ';' of a rewritten reference).
  bool end_ref(char c, std::string& out) {
    bool consumed = false;
    switch (ref_) {
      case Ref::kAmp:
        out += '&';
        break;
      case Ref::kHash:
      case Ref::kHashX:  // "&#" or "&#x" without digits: not a reference
        out += "&amp;";
        out.append(ref_text_, 1, std::string::npos);
        break;
      case Ref::kDec:
      case Ref::kHex: {
        const uint32_t value = char_ref_value(value_);
        if (!long_ && value == value_) {
          out += ref_text_;  // libxml2 decodes it as HTML does; the ';' (or whatever follows) follows
        } else {
          append_hex(out, value);
          consumed = c == ';';
        }
        break;
      }
      case Ref::kNone:
        break;
    }
    ref_ = Ref::kNone;
    ref_text_.clear();
    return consumed;
  }

  std::string carry_;     // a partial UTF-8 sequence (or BOM) from the last piece
  bool at_start_ = true;  // nothing but a possible BOM seen yet
  Ref ref_ = Ref::kNone;  // where in a character reference the input is
  std::string ref_text_;  // the reference so far, as written (at most "&#x" and 32 digits)
  uint32_t value_ = 0;    // its value so far, saturated at 0x110000
  bool long_ = false;     // more digits than ref_text_ keeps
};

// What an element is to the extractor.
enum class Tag : uint8_t {
  kOther, kA, kArea, kImg, kSource, kMeta, kLink, kBase, kStyle, kTemplate, kPicture,
  kText,       // HTML parses its content as text (RCDATA/RAWTEXT), libxml2 as markup
  kPlaintext,  // everything after <plaintext> is text
  kVoid,       // an HTML void element libxml2 2.9 does not know (it would hold the next elements inside)
  kVoidKnown,  // a void element libxml2 knows: it reports its end right away
};

// libxml2 reports element names lower-cased.
Tag classify(const char* name) {
  static const std::pair<const char*, Tag> kTags[] = {
      {"a", Tag::kA}, {"area", Tag::kArea}, {"img", Tag::kImg}, {"source", Tag::kSource}, {"meta", Tag::kMeta},
      {"link", Tag::kLink}, {"base", Tag::kBase}, {"style", Tag::kStyle}, {"template", Tag::kTemplate},
      {"picture", Tag::kPicture}, {"title", Tag::kText}, {"textarea", Tag::kText}, {"xmp", Tag::kText},
      {"iframe", Tag::kText}, {"noembed", Tag::kText}, {"noframes", Tag::kText}, {"plaintext", Tag::kPlaintext},
      {"track", Tag::kVoid}, {"wbr", Tag::kVoid}, {"keygen", Tag::kVoid}, {"bgsound", Tag::kVoid},
      {"br", Tag::kVoidKnown}, {"hr", Tag::kVoidKnown}, {"input", Tag::kVoidKnown}, {"col", Tag::kVoidKnown},
      {"embed", Tag::kVoidKnown}, {"param", Tag::kVoidKnown}, {"frame", Tag::kVoidKnown},
      {"basefont", Tag::kVoidKnown},
  };
  for (const auto& [tag_name, tag] : kTags) {
    if (tag_name[0] == name[0] && std::strcmp(tag_name, name) == 0) return tag;
  }
  return Tag::kOther;
}

// HTML void elements (never hold content): what the extractor keeps off its element stack.
bool is_void(Tag tag) {
  return tag == Tag::kVoid || tag == Tag::kVoidKnown || tag == Tag::kImg || tag == Tag::kSource ||
         tag == Tag::kMeta || tag == Tag::kLink || tag == Tag::kBase || tag == Tag::kArea;
}

const char* attribute(const xmlChar** atts, const char* name) {
  if (atts == nullptr) return nullptr;
  for (size_t i = 0; atts[i] != nullptr; i += 2) {
    if (std::strcmp(reinterpret_cast<const char*>(atts[i]), name) == 0) {
      // <x name> (no value) is name="" in HTML; libxml2 gives NULL.
      return atts[i + 1] != nullptr ? reinterpret_cast<const char*>(atts[i + 1]) : "";
    }
  }
  return nullptr;
}

void ignore_error(void*, const char*, ...) {}
void ignore_structured_error(void*, xmlErrorPtr) {}

struct CtxtDeleter {
  void operator()(htmlParserCtxtPtr ctxt) const { htmlFreeParserCtxt(ctxt); }
};

}  // namespace

struct HtmlLinkExtractor::Impl {
  enum class List : char { kPage = 'p', kImage = 'i', kStylesheet = 's' };

  // One open element, as libxml2 reports them (void elements left out).
  struct Open {
    const xmlChar* name;
    Tag tag;
    bool inert;      // a <template> whose content is still inert (no </template> seen)
    bool collect;    // a <style> whose text is collected
  };

  Impl(const std::string& url, bool css_enabled) : document_url(url), css(css_enabled) {
    init_libxml2();
    if (!new_parser()) stop();  // out of memory: nothing will be found, but nothing breaks
  }

  // A fresh libxml2 parser in `ctxt`; false when libxml2 cannot make one.
  bool new_parser() {
    htmlSAXHandler sax;
    std::memset(&sax, 0, sizeof sax);
    sax.initialized = XML_SAX2_MAGIC;  // so that serror below is used, whatever the thread's globals say
    sax.startElement = &Impl::on_start;
    sax.endElement = &Impl::on_end;
    sax.cdataBlock = &Impl::on_cdata;  // <script> and <style> text
    sax.warning = &ignore_error;
    sax.error = &ignore_error;
    sax.fatalError = &ignore_error;
    sax.serror = &ignore_structured_error;
    ctxt.reset(htmlCreatePushParserCtxt(&sax, this, nullptr, 0, nullptr, XML_CHAR_ENCODING_UTF8));
    if (!ctxt) return false;
    htmlCtxtUseOptions(ctxt.get(), HTML_PARSE_RECOVER | HTML_PARSE_NONET | HTML_PARSE_NOERROR |
                                       HTML_PARSE_NOWARNING | HTML_PARSE_IGNORE_ENC);
    if (ctxt->dict != nullptr) xmlDictSetLimit(ctxt->dict, kMaxNameBytes);
    return true;
  }

  static Impl* self(void* user) { return static_cast<Impl*>(user); }

  // --- SAX callbacks ---

  static void on_start(void* user, const xmlChar* name, const xmlChar** atts) {
    Impl& x = *self(user);
    ++x.starts;
    const Tag tag = classify(reinterpret_cast<const char*>(name));
    // libxml2 reports a tag cut off by the end of the input when it ends the document; HTML drops it.
    const bool cut_off = x.ctxt->input != nullptr && x.ctxt->input->cur >= x.ctxt->input->end;
    const bool live = !cut_off && x.inert == 0 && x.text == 0 && !x.plaintext;
    if (live) x.element(tag, atts);
    if (is_void(tag)) return;
    Open open{name, tag, false, false};
    if (tag == Tag::kTemplate && !cut_off) {
      open.inert = true;
      ++x.inert;
    } else if (tag == Tag::kText) {
      ++x.text;
    } else if (tag == Tag::kPlaintext) {
      x.plaintext = true;
    } else if (tag == Tag::kStyle && live && x.css) {
      open.collect = true;
      x.style.clear();
      x.style_capped = false;
    }
    x.open.push_back(open);
  }

  static void on_end(void* user, const xmlChar* name) {
    Impl& x = *self(user);
    const Tag tag = classify(reinterpret_cast<const char*>(name));
    if (tag == Tag::kTemplate) ++x.template_ends;
    if (is_void(tag)) return;
    // libxml2 ends elements innermost first, so the element is on top; search anyway, to stay in step.
    size_t i = x.open.size();
    while (i > 0 && !xmlStrEqual(x.open[i - 1].name, name)) --i;
    if (i == 0) return;
    while (x.open.size() >= i) x.pop();
  }

  static void on_cdata(void* user, const xmlChar* text, int length) {
    Impl& x = *self(user);
    if (x.open.empty() || !x.open.back().collect || length <= 0) return;
    const size_t room = kMaxStyleBytes - x.style.size();
    if (static_cast<size_t>(length) > room) x.style_capped = true;
    x.style.append(reinterpret_cast<const char*>(text), std::min(room, static_cast<size_t>(length)));
  }

  void pop() {
    const Open& top = open.back();
    if (top.tag == Tag::kTemplate && top.inert) --inert;
    if (top.tag == Tag::kText) --text;
    if (top.collect) style_done();
    open.pop_back();
  }

  void style_done() {
    std::string_view css_text = style;
    if (style_capped) {
      // Cut at the last '}' so that a url( cut in half does not count.
      const size_t brace = css_text.rfind('}');
      if (brace != std::string_view::npos) css_text = css_text.substr(0, brace + 1);
      links.truncated = true;
    }
    for (const std::string& url : css_urls(css_text)) add(List::kImage, url);
    style.clear();
    style.shrink_to_fit();
    style_capped = false;
  }

  // The links of one element outside inert and text-only content.
  void element(Tag tag, const xmlChar** atts) {
    if (css) {
      if (const char* style_attr = attribute(atts, "style")) {
        for (const std::string& url : css_urls(style_attr)) add(List::kImage, url);
      }
    }
    switch (tag) {
      case Tag::kA:
      case Tag::kArea:
        if (const char* href = attribute(atts, "href")) add(List::kPage, href);
        break;
      case Tag::kImg:
        if (const char* src = attribute(atts, "src")) add(List::kImage, src);
        if (const char* srcset = attribute(atts, "srcset")) {
          for (const std::string& url : parse_srcset(srcset)) add(List::kImage, url);
        }
        break;
      case Tag::kSource:
        if (!open.empty() && open.back().tag == Tag::kPicture) {
          if (const char* srcset = attribute(atts, "srcset")) {
            for (const std::string& url : parse_srcset(srcset)) add(List::kImage, url);
          }
        }
        break;
      case Tag::kMeta: {
        const char* property = attribute(atts, "property");
        const char* content = attribute(atts, "content");
        if (property != nullptr && content != nullptr && iequals(property, "og:image")) add(List::kImage, content);
        break;
      }
      case Tag::kLink: {
        if (!css) break;
        const char* rel = attribute(atts, "rel");
        const char* href = attribute(atts, "href");
        if (rel != nullptr && href != nullptr && has_token(rel, "stylesheet")) add(List::kStylesheet, href);
        break;
      }
      case Tag::kBase:
        // HTML: the first <base> with an href sets the document's base URL, for references before it too.
        if (!base_href) {
          if (const char* href = attribute(atts, "href")) base_href = href;
        }
        break;
      default:
        break;
    }
  }

  // Keeps a raw reference for finish(): resolved there, once <base> is known. De-duplicated as written.
  void add(List list, std::string_view ref) {
    if (ref.empty() || blank(ref) || has_foreign_scheme(ref)) return;
    std::string key;
    key.reserve(ref.size() + 1);
    key += static_cast<char>(list);
    key += ref;
    auto [it, inserted] = refs.insert(std::move(key));
    if (inserted) order.push_back(&*it);
  }

  // --- input ---

  void feed(std::string_view input) {
    while (!input.empty() && !stopped) {
      const std::string_view piece = input.substr(0, kSlice);
      input.remove_prefix(piece.size());
      sanitizer.feed(piece, stage);
      pump(false);
    }
  }

  // Hands the sanitized input in `stage` to libxml2 a window of about kSlice bytes at a time. The windows
  // are cut at the same places whatever pieces feed() got (a window is taken once kLookahead bytes follow
  // it, or at the end), so the result cannot depend on those pieces: libxml2's push parser is not entirely
  // free of such effects (see the note at the top of this file).
  void pump(bool final) {
    while (!stopped) {
      size_t end = 0;
      if (stage.size() >= kSlice + kLookahead || (final && stage.size() > kSlice)) {
        end = kSlice;
        const size_t lt = stage.rfind('<', end - 1);
        if (lt != std::string::npos && end - lt < kHoldback) end = lt;  // "</scr" + "ipt>" stay together
        while ((static_cast<unsigned char>(stage[end]) & 0xC0) == 0x80) --end;  // whole characters
      } else if (final && !stage.empty()) {
        end = stage.size();
      } else {
        break;
      }
      stage.erase(0, window(end));
    }
    if (stopped) stage.clear();
  }

  // Pushes stage[0, end), with each end tag of template, body or html on its own (see end_tag); returns the
  // bytes used (an end tag begun before `end` is used whole).
  size_t window(size_t end) {
    size_t pos = 0;
    while (pos < end && !stopped) {
      const auto [tag, name] = find_end_tag(pos, end);
      if (tag == std::string::npos) break;
      push(std::string_view(stage).substr(pos, tag - pos));
      pos = tag;
      if (stopped) break;
      const size_t gt = stage.find('>', tag);
      if (gt == std::string::npos || gt - tag >= kEndTagBytes) break;  // an endless one: nothing special
      end_tag(name, std::string_view(stage).substr(tag, gt + 1 - tag));
      pos = gt + 1;
    }
    if (pos < end) push(std::string_view(stage).substr(pos, end - pos));
    return std::max(pos, end);
  }

  // The position of the next "</template", "</body" or "</html" followed by a space, '/' or '>' (ASCII
  // case-insensitive) in stage[pos, limit), and its name; npos if none.
  std::pair<size_t, Tag> find_end_tag(size_t pos, size_t limit) const {
    static const std::pair<std::string_view, Tag> kNames[] = {
        {"template", Tag::kTemplate}, {"body", Tag::kOther}, {"html", Tag::kOther}};
    while ((pos = stage.find("</", pos)) != std::string::npos && pos < limit) {
      for (const auto& [name, tag] : kNames) {
        const size_t after = pos + 2 + name.size();
        if (after >= stage.size() || std::strchr(" \t\n\r\f/>", stage[after]) == nullptr) continue;
        size_t k = 0;
        while (k < name.size() && (stage[pos + 2 + k] | 0x20) == name[k]) ++k;
        if (k == name.size()) return {pos, tag};
      }
      pos += 2;
    }
    return {std::string::npos, Tag::kOther};
  }

  // True when libxml2, given "</" now, would read an end tag: it is between tags, outside <script>/<style>
  // text, with nothing but text waiting.
  bool reading_markup() const {
    const int state = ctxt->instate;
    if (state != XML_PARSER_CONTENT && state != XML_PARSER_START && state != XML_PARSER_MISC &&
        state != XML_PARSER_PROLOG && state != XML_PARSER_EPILOG) {
      return false;
    }
    if (ctxt->name != nullptr &&
        (xmlStrEqual(ctxt->name, BAD_CAST "script") || xmlStrEqual(ctxt->name, BAD_CAST "style"))) {
      return false;
    }
    return ctxt->input->cur >= ctxt->input->end || *ctxt->input->cur != '<';
  }

  // An end tag of template, body or html, "</...>", found in the input.
  // </body> and </html>: HTML keeps parsing after them as if they were not there (even elements still
  // open stay open); libxml2 ends the document at </html> and drops all that follows. So libxml2 does not
  // get them where it would read them as end tags.
  // </template>: HTML ends a template there whatever is open inside it; libxml2 ignores that end tag when
  // a <div>, <table> or <td> (say) is still open inside. Pushed alone, the end tag shows which happened: if
  // libxml2 was reading markup and consumed it as an end tag without ending a template, the innermost
  // template's content stops being inert here, as in HTML (libxml2 keeps the element open until later).
  void end_tag(Tag name, std::string_view text) {
    if (stopped) return;
    const bool markup = reading_markup();
    if (name != Tag::kTemplate) {
      if (!markup) push(text);
      return;
    }
    const bool eligible = markup && inert > 0 && this->text == 0 && !plaintext;
    const long starts_before = starts;
    const long template_ends_before = template_ends;
    push(text);
    if (!eligible || stopped || starts != starts_before || template_ends != template_ends_before) return;
    if (ctxt->input->cur < ctxt->input->end) return;  // not consumed: it was inside something else
    for (size_t i = open.size(); i > 0; --i) {
      if (open[i - 1].tag == Tag::kTemplate && open[i - 1].inert) {
        open[i - 1].inert = false;
        --inert;
        return;
      }
    }
  }

  // Parses `data` (well-formed UTF-8) in slices of at most kSlice bytes, then enforces the limits.
  void push(std::string_view data) {
    while (!data.empty() && !stopped) {
      size_t n = std::min(data.size(), kSlice);
      while (n < data.size() && n > 0 && (static_cast<unsigned char>(data[n]) & 0xC0) == 0x80) --n;  // whole chars
      parse(data.substr(0, n), false);
      data.remove_prefix(n);
    }
  }

  void parse(std::string_view data, bool terminate) {
    std::string rest;
    size_t left = std::string::npos;  // input the last parser left unread: the next one must read some
    for (;;) {
      ctxt->checkIndex = 0;  // see the note at the top of this file
      htmlParseChunk(ctxt.get(), data.data(), static_cast<int>(data.size()), terminate ? 1 : 0);
      if (ctxt->input == nullptr || ctxt->instate != XML_PARSER_EOF || ctxt->errNo == XML_ERR_NO_MEMORY) break;
      // libxml2 ends the document at the first thing after the end of its root element (a </html> it has
      // read, see end_tag for the ones it does not get, or a stray end tag at the very start); HTML goes
      // on. A new parser takes over there; all elements were closed already.
      const auto unread = static_cast<size_t>(ctxt->input->end - ctxt->input->cur);
      if (unread == 0 || unread >= left) break;
      left = unread;
      rest.assign(reinterpret_cast<const char*>(ctxt->input->cur), unread);
      while (!open.empty()) pop();
      if (!new_parser()) break;
      data = rest;
    }
    if (terminate) return;
    if (!ctxt || ctxt->input == nullptr || ctxt->instate == XML_PARSER_EOF) {  // libxml2 gave up (out of memory)
      links.truncated = true;
      stop();
      return;
    }
    xmlParserInputShrink(ctxt->input);
    const auto pending = static_cast<size_t>(ctxt->input->end - ctxt->input->cur);
    if (pending > kMaxPendingBytes || ctxt->nameNr > kMaxDepth) {
      links.truncated = true;
      stop();
    }
  }

  // No more parsing: the parser and its buffers go now; what was found stays.
  void stop() {
    stopped = true;
    ctxt.reset();
  }

  ExtractedLinks finish() {
    if (finished) return ExtractedLinks{};
    finished = true;
    if (!stopped) {
      sanitizer.finish(stage);
      pump(true);
    }
    if (!stopped) parse({}, true);  // ends the document: libxml2 reports the end of every open element
    while (!open.empty()) pop();   // after a stop: a <style> being read still counts
    ctxt.reset();
    resolve();
    return std::move(links);
  }

  // Resolves the references, in document order, against the document's base URL.
  void resolve() {
    // HTML "document base URL": the first <base> with an href, resolved against the document's URL;
    // an unusable one (bad URL, foreign scheme) is ignored.
    const auto normalized = normalize_url(document_url);
    links.base_url = normalized.value_or(document_url);
    bool base_normalized = normalized.has_value();
    if (base_href && !has_foreign_scheme(*base_href)) {
      if (auto resolved = resolve_url(links.base_url, *base_href)) {
        links.base_url = std::move(*resolved);
        base_normalized = true;
      }
    }
    std::unordered_set<std::string> seen;
    std::string ref;
    for (const std::string* key : order) {
      const auto list = static_cast<List>((*key)[0]);
      ref.assign(*key, 1, std::string::npos);
      auto url = base_normalized ? resolve_url_memoized(links.base_url, ref) : resolve_url(links.base_url, ref);
      if (!url) {
        links.invalid.push_back(ref);
        continue;
      }
      std::vector<std::string>& out =
          list == List::kPage ? links.pages : list == List::kImage ? links.images : links.stylesheets;
      if (seen.insert(static_cast<char>(list) + *url).second) out.push_back(std::move(*url));
    }
    refs.clear();
    order.clear();
  }

  size_t buffered() const {
    size_t n = stage.size() + sanitizer.carried() + style.size();
    if (ctxt && ctxt->input != nullptr && ctxt->input->buf != nullptr && ctxt->input->buf->buffer != nullptr) {
      n += xmlBufUse(ctxt->input->buf->buffer);
    }
    return n;
  }

  const std::string document_url;
  const bool css;
  std::unique_ptr<htmlParserCtxt, CtxtDeleter> ctxt;
  Sanitizer sanitizer;
  std::string stage;                  // sanitized input not yet given to libxml2
  bool stopped = false;               // a limit was hit (or libxml2 failed): input is ignored
  bool finished = false;
  std::vector<Open> open;             // libxml2's open elements, void ones left out
  int inert = 0;                      // open templates whose content is inert
  int text = 0;                       // open text-only elements
  bool plaintext = false;             // <plaintext> seen
  std::string style;                  // text of the <style> element being read
  bool style_capped = false;          // ... longer than kMaxStyleBytes
  long starts = 0;                    // start events so far
  long template_ends = 0;             // </template> events so far
  std::optional<std::string> base_href;           // the first <base href>, raw
  std::unordered_set<std::string> refs;           // list tag + raw reference, for de-duplication
  std::vector<const std::string*> order;          // the same, in document order (nodes of `refs`)
  ExtractedLinks links;
};

HtmlLinkExtractor::HtmlLinkExtractor(const std::string& document_url, bool css)
    : impl_(std::make_unique<Impl>(document_url, css)) {}

HtmlLinkExtractor::~HtmlLinkExtractor() = default;
HtmlLinkExtractor::HtmlLinkExtractor(HtmlLinkExtractor&&) noexcept = default;  // libxml2 holds Impl*, not this
HtmlLinkExtractor& HtmlLinkExtractor::operator=(HtmlLinkExtractor&&) noexcept = default;

void HtmlLinkExtractor::feed(std::string_view utf8) {
  if (!impl_->finished) impl_->feed(utf8);
}

ExtractedLinks HtmlLinkExtractor::finish() { return impl_->finish(); }

size_t HtmlLinkExtractor::buffered_bytes() const { return impl_->buffered(); }

ExtractedLinks extract_links(std::string_view html_utf8, const std::string& document_url, bool css) {
  HtmlLinkExtractor extractor(document_url, css);
  extractor.feed(html_utf8);
  return extractor.finish();
}

}  // namespace kestrel::crawler
