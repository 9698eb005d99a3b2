#include "kestrel/test/expected_catalog.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <chrono>
#include <stdexcept>

#include "kestrel/test/child_process.h"
#include "kestrel/test/paths.h"

namespace kestrel {
namespace test {
namespace {

std::string text(const Poco::JSON::Object::Ptr& o, const std::string& key) {
  if (!o->has(key)) throw std::runtime_error("expected_images.py output lacks \"" + key + "\"");
  return o->getValue<std::string>(key);
}

std::vector<ExpectedFailure> failures(const Poco::JSON::Object::Ptr& root, const std::string& key) {
  std::vector<ExpectedFailure> out;
  Poco::JSON::Array::Ptr list = root->getArray(key);
  if (!list) throw std::runtime_error("expected_images.py output lacks \"" + key + "\"");
  for (size_t i = 0; i < list->size(); ++i) {
    Poco::JSON::Object::Ptr o = list->getObject(static_cast<unsigned>(i));
    out.push_back({text(o, "url"), text(o, "source"), o->has("reason") ? text(o, "reason") : ""});
  }
  return out;
}

}  // namespace

ExpectedCatalog expected_catalog(const std::string& site_root, const std::string& base_url,
                                 const std::string& scratch_dir) {
  ChildProcess tool(python3_path(), {source_dir() + "/tests/tools/expected_images.py", site_root, base_url},
                    scratch_dir + "/expected.json", scratch_dir + "/expected.err");
  int code = tool.wait_or_kill(std::chrono::seconds(120));
  if (code != 0)
    throw std::runtime_error(tool.command_line() + " exited with " + std::to_string(code) + ": " + tool.stderr_text());

  Poco::JSON::Parser parser;
  Poco::JSON::Object::Ptr root = parser.parse(tool.stdout_text()).extract<Poco::JSON::Object::Ptr>();
  ExpectedCatalog c;
  c.seed = text(root, "seed");
  Poco::JSON::Array::Ptr pages = root->getArray("pages");
  if (!pages) throw std::runtime_error("expected_images.py output lacks \"pages\"");
  for (size_t i = 0; i < pages->size(); ++i)
    c.pages.push_back(pages->getElement<std::string>(static_cast<unsigned>(i)));
  Poco::JSON::Object::Ptr images = root->getObject("images");
  if (!images) throw std::runtime_error("expected_images.py output lacks \"images\"");
  for (const auto& name : images->getNames()) {
    Poco::JSON::Object::Ptr o = images->getObject(name);
    ExpectedImage img;
    img.format = text(o, "format");
    img.width = o->getValue<uint32_t>("width");
    img.height = o->getValue<uint32_t>("height");
    img.sha256 = text(o, "sha256");
    img.md5 = text(o, "md5");
    img.size = o->getValue<uint64_t>("size");
    img.filename = text(o, "filename");
    img.file = text(o, "file");
    img.source = text(o, "source");
    c.images.emplace(name, std::move(img));
  }
  c.broken = failures(root, "broken");
  c.invalid = failures(root, "invalid");
  c.broken_links = failures(root, "broken_links");
  return c;
}

}  // namespace test
}  // namespace kestrel
