#include "html_extract.h"

#include "css_urls.h"

#include <gumbo.h>

#include <cctype>
#include <memory>
#include <unordered_set>

#include "url.h"

namespace kestrel::crawler {

namespace {

struct GumboOutputDeleter {
  void operator()(GumboOutput* o) const { gumbo_destroy_output(&kGumboDefaultOptions, o); }
};

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

const char* attribute(const GumboElement& e, const char* name) {
  const GumboAttribute* a = gumbo_get_attribute(&e.attributes, name);
  return a != nullptr ? a->value : nullptr;
}

// gumbo 0.10 predates <picture>: it reports GUMBO_TAG_UNKNOWN, so compare the tag's source text.
bool is_unknown_element(const GumboNode* node, std::string_view name) {
  if (node == nullptr || node->type != GUMBO_NODE_ELEMENT || node->v.element.tag != GUMBO_TAG_UNKNOWN) return false;
  GumboStringPiece tag = node->v.element.original_tag;
  gumbo_tag_from_original_text(&tag);
  return iequals(std::string_view(tag.data, tag.length), name);
}

bool blank(const char* value) {
  for (const char* p = value; *p != '\0'; ++p) {
    if (!std::isspace(static_cast<unsigned char>(*p))) return false;
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

// Collects resolved URLs into one list, de-duplicated, in first-seen order.
class Collector {
 public:
  Collector(const std::string& base, std::vector<std::string>* out, std::vector<std::string>* invalid)
      : base_(base), out_(out), invalid_(invalid) {}

  void add(const std::string& ref) {
    if (ref.empty() || blank(ref.c_str()) || has_foreign_scheme(ref)) return;
    auto url = resolve_url(base_, ref);
    if (!url) {
      invalid_->push_back(ref);
      return;
    }
    if (seen_.insert(*url).second) out_->push_back(std::move(*url));
  }

 private:
  const std::string& base_;
  std::vector<std::string>* out_;
  std::vector<std::string>* invalid_;
  std::unordered_set<std::string> seen_;
};

// Calls visit(node) for every element in document order, skipping <template> contents (inert).
// Iterative, so deeply nested markup cannot overflow the stack.
template <typename Visit>
void for_each_element(const GumboNode* root, Visit visit) {
  std::vector<const GumboNode*> stack{root};
  while (!stack.empty()) {
    const GumboNode* node = stack.back();
    stack.pop_back();
    if (node->type != GUMBO_NODE_ELEMENT) continue;
    if (!visit(node)) return;
    const GumboVector& children = node->v.element.children;
    for (unsigned i = children.length; i > 0; --i) stack.push_back(static_cast<const GumboNode*>(children.data[i - 1]));
  }
}

}  // namespace

ExtractedLinks extract_links(std::string_view html_utf8, const std::string& document_url, bool css) {
  ExtractedLinks links;
  GumboOptions options = kGumboDefaultOptions;
  options.max_errors = 0;  // we never read parse errors; don't keep them
  std::unique_ptr<GumboOutput, GumboOutputDeleter> output(
      gumbo_parse_with_options(&options, html_utf8.data(), html_utf8.size()));

  // HTML "document base URL": the first <base> with an href, resolved against the document's URL;
  // an unusable one (bad URL, foreign scheme) is ignored.
  links.base_url = normalize_url(document_url).value_or(document_url);
  if (!output) return links;
  for_each_element(output->root, [&](const GumboNode* node) {
    if (node->v.element.tag != GUMBO_TAG_BASE) return true;
    const char* href = attribute(node->v.element, "href");
    if (href == nullptr) return true;
    if (!has_foreign_scheme(href)) {
      if (auto resolved = resolve_url(links.base_url, href)) links.base_url = std::move(*resolved);
    }
    return false;
  });

  Collector pages(links.base_url, &links.pages, &links.invalid);
  Collector images(links.base_url, &links.images, &links.invalid);
  Collector stylesheets(links.base_url, &links.stylesheets, &links.invalid);
  for_each_element(output->root, [&](const GumboNode* node) {
    const GumboElement& e = node->v.element;
    const char* style = css ? attribute(e, "style") : nullptr;
    if (style != nullptr) {
      for (const std::string& url : css_urls(style)) images.add(url);
    }
    switch (e.tag) {
      case GUMBO_TAG_LINK: {
        if (!css) break;
        const char* rel = attribute(e, "rel");
        const char* href = attribute(e, "href");
        if (rel != nullptr && href != nullptr && has_token(rel, "stylesheet")) stylesheets.add(href);
        break;
      }
      case GUMBO_TAG_STYLE: {
        if (!css) break;
        std::string text;
        const GumboVector& children = e.children;
        for (unsigned i = 0; i < children.length; ++i) {
          const auto* child = static_cast<const GumboNode*>(children.data[i]);
          if (child->type == GUMBO_NODE_TEXT || child->type == GUMBO_NODE_WHITESPACE) text += child->v.text.text;
        }
        for (const std::string& url : css_urls(text)) images.add(url);
        break;
      }
      case GUMBO_TAG_A:
      case GUMBO_TAG_AREA:
        if (const char* href = attribute(e, "href")) pages.add(href);
        break;
      case GUMBO_TAG_IMG:
        if (const char* src = attribute(e, "src")) images.add(src);
        if (const char* srcset = attribute(e, "srcset")) {
          for (const std::string& url : parse_srcset(srcset)) images.add(url);
        }
        break;
      case GUMBO_TAG_SOURCE:
        if (is_unknown_element(node->parent, "picture")) {
          if (const char* srcset = attribute(e, "srcset")) {
            for (const std::string& url : parse_srcset(srcset)) images.add(url);
          }
        }
        break;
      case GUMBO_TAG_META: {
        const char* property = attribute(e, "property");
        const char* content = attribute(e, "content");
        if (property != nullptr && content != nullptr && iequals(property, "og:image")) images.add(content);
        break;
      }
      default:
        break;
    }
    return true;
  });
  return links;
}

}  // namespace kestrel::crawler
