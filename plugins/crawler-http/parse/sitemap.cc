#include "sitemap.h"

#include "url.h"

#include <Poco/Exception.h>
#include <Poco/InflatingStream.h>
#include <Poco/MemoryStream.h>
#include <Poco/SAX/Attributes.h>
#include <Poco/SAX/ContentHandler.h>
#include <Poco/SAX/InputSource.h>
#include <Poco/SAX/SAXException.h>
#include <Poco/SAX/SAXParser.h>
#include <Poco/XML/XMLString.h>

#include <sstream>

namespace kestrel::crawler {
namespace {

const char* const kSitemapNs = "http://www.sitemaps.org/schemas/sitemap/0.9";

// Collects the text of <loc> inside <url> (pages) or <sitemap> (index entries).
class LocHandler : public Poco::XML::ContentHandler {
 public:
  LocHandler(SitemapLinks& out, size_t max_urls) : out_(out), max_urls_(max_urls) {}

  void setDocumentLocator(const Poco::XML::Locator*) override {}
  void startDocument() override {}
  void endDocument() override {}
  void startPrefixMapping(const Poco::XML::XMLString&, const Poco::XML::XMLString&) override {}
  void endPrefixMapping(const Poco::XML::XMLString&) override {}
  void ignorableWhitespace(const Poco::XML::XMLChar*, int, int) override {}
  void processingInstruction(const Poco::XML::XMLString&, const Poco::XML::XMLString&) override {}
  void skippedEntity(const Poco::XML::XMLString&) override {}

  void startElement(const Poco::XML::XMLString& uri, const Poco::XML::XMLString& local, const Poco::XML::XMLString&,
                    const Poco::XML::Attributes&) override {
    // Extensions (image:loc, video:loc, xhtml:link) live in other namespaces: not ours.
    path_.push_back(uri.empty() || uri == kSitemapNs ? local : std::string());
    if (local == "loc") text_.clear();
  }

  void endElement(const Poco::XML::XMLString&, const Poco::XML::XMLString&, const Poco::XML::XMLString&) override {
    if (!path_.empty() && path_.back() == "loc" && path_.size() >= 2) {
      const std::string& parent = path_[path_.size() - 2];
      if (parent == "url" || parent == "sitemap") add(parent == "url" ? out_.pages : out_.sitemaps);
    }
    if (!path_.empty()) path_.pop_back();
  }

  void characters(const Poco::XML::XMLChar ch[], int start, int length) override {
    if (!path_.empty() && path_.back() == "loc" && text_.size() < 8192) text_.append(ch + start, ch + start + length);
  }

 private:
  void add(std::vector<std::string>& list) {
    const auto b = text_.find_first_not_of(" \t\r\n");
    const auto e = text_.find_last_not_of(" \t\r\n");
    const std::string raw = b == std::string::npos ? std::string() : text_.substr(b, e - b + 1);
    if (out_.pages.size() + out_.sitemaps.size() >= max_urls_) return;
    if (auto url = normalize_url(raw)) {
      list.push_back(std::move(*url));
    } else {
      out_.invalid.push_back(raw);
    }
  }

  SitemapLinks& out_;
  size_t max_urls_;
  std::vector<std::string> path_;
  std::string text_;
};

// Reads `in` into a string, at most `max_bytes` bytes; false when there was more.
bool read_capped(std::istream& in, uint64_t max_bytes, std::string& out) {
  char buf[16384];
  while (in) {
    in.read(buf, sizeof buf);
    const auto n = static_cast<uint64_t>(in.gcount());
    if (out.size() + n > max_bytes) {
      out.append(buf, static_cast<size_t>(max_bytes - out.size()));
      return false;
    }
    out.append(buf, static_cast<size_t>(n));
  }
  return true;
}

}  // namespace

SitemapLinks parse_sitemap(std::string_view body, uint64_t max_bytes, size_t max_urls) {
  SitemapLinks out;
  std::string xml;
  const bool gzip = body.size() >= 2 && static_cast<unsigned char>(body[0]) == 0x1f &&
                    static_cast<unsigned char>(body[1]) == 0x8b;
  try {
    if (gzip) {
      Poco::MemoryInputStream raw(body.data(), body.size());
      Poco::InflatingInputStream inflate(raw, Poco::InflatingStreamBuf::STREAM_GZIP);
      if (!read_capped(inflate, max_bytes, xml)) {
        out.error = "sitemap larger than " + std::to_string(max_bytes) + " bytes after gzip decompression";
        return out;
      }
      if (xml.empty() || inflate.bad()) {
        out.error = "gzip: the body starts like gzip but does not decompress";
        return out;
      }
    } else {
      if (body.size() > max_bytes) {
        out.error = "sitemap larger than " + std::to_string(max_bytes) + " bytes";
        return out;
      }
      xml.assign(body.data(), body.size());
    }
  } catch (const Poco::Exception& e) {
    out.error = "gzip: " + e.displayText();
    return out;
  }
  LocHandler handler(out, max_urls);
  Poco::XML::SAXParser parser;
  parser.setFeature(Poco::XML::XMLReader::FEATURE_NAMESPACES, true);
  // No DTD processing beyond expat's internal subset, never external entities.
  parser.setFeature(Poco::XML::XMLReader::FEATURE_EXTERNAL_GENERAL_ENTITIES, false);
  parser.setFeature(Poco::XML::XMLReader::FEATURE_EXTERNAL_PARAMETER_ENTITIES, false);
  parser.setContentHandler(&handler);
  try {
    parser.parseMemoryNP(xml.data(), xml.size());
  } catch (const Poco::Exception& e) {
    out.error = "XML: " + e.displayText();
  }
  return out;
}

}  // namespace kestrel::crawler
