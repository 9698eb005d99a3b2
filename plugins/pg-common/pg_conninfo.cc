#include "pg_conninfo.h"

#include <kestrel/plugin.h>
#include <libpq-fe.h>

#include <memory>
#include <stdexcept>

#include <kestrel/plugin.hpp>

namespace kestrel {
namespace pg {

std::string quote(const std::string& value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\\' || c == '\'') out += '\\';
    out += c;
  }
  return out + "'";
}

std::string join(const Conninfo& pairs) {
  std::string out;
  for (const auto& kv : pairs)
    if (!kv.second.empty()) out += (out.empty() ? "" : " ") + kv.first + "=" + quote(kv.second);
  return out;
}

std::map<std::string, std::string> parse(const std::string& what, const std::string& text) {
  char* err = nullptr;
  std::unique_ptr<PQconninfoOption, void (*)(PQconninfoOption*)> parsed(PQconninfoParse(text.c_str(), &err),
                                                                         PQconninfoFree);
  if (!parsed) {
    std::string why = err ? err : "out of memory";
    if (err) PQfreemem(err);
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    throw Error(KESTREL_ERR_INVALID, what + ": " + why);
  }
  std::map<std::string, std::string> kv;
  for (PQconninfoOption* p = parsed.get(); p->keyword != nullptr; ++p)
    if (p->val != nullptr && p->val[0] != '\0') kv[p->keyword] = p->val;
  return kv;
}

std::string without_password(const std::string& conninfo, std::string* password) {
  std::map<std::string, std::string> kv = parse("connection string", conninfo);
  auto it = kv.find("password");
  *password = it == kv.end() ? std::string() : it->second;
  if (it != kv.end()) kv.erase(it);
  return join(Conninfo(kv.begin(), kv.end()));
}

}  // namespace pg
}  // namespace kestrel
