#include "config/option_value.h"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>

namespace kestrel::host {
namespace {

std::string trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Splits "12.5MiB" into 12.5 and "mib". False if no leading number.
bool split_number_unit(const std::string& text, double* number, std::string* unit) {
  std::string t = trim(text);
  if (t.empty()) return false;
  const char* begin = t.c_str();
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(begin, &end);
  if (end == begin || errno == ERANGE || !std::isfinite(v)) return false;
  *number = v;
  *unit = lower(trim(std::string(end)));
  return true;
}

}  // namespace

const char* option_type_name(kestrel_option_type type) {
  switch (type) {
    case KESTREL_OPT_STRING: return "string";
    case KESTREL_OPT_INT: return "integer";
    case KESTREL_OPT_DOUBLE: return "number";
    case KESTREL_OPT_BOOL: return "boolean";
    case KESTREL_OPT_DURATION: return "duration";
    case KESTREL_OPT_SIZE: return "size";
    case KESTREL_OPT_STRING_LIST: return "list";
    case KESTREL_OPT_REF: return "reference";
    case KESTREL_OPT_PATH: return "path";
    case KESTREL_OPT_MAP_LIST: return "list of maps";
    case KESTREL_OPT_REF_LIST: return "list of references";
  }
  return "unknown";
}

const char* option_type_description(kestrel_option_type type) {
  switch (type) {
    case KESTREL_OPT_STRING: return "a string";
    case KESTREL_OPT_INT: return "an integer";
    case KESTREL_OPT_DOUBLE: return "a number";
    case KESTREL_OPT_BOOL: return "a boolean (true or false)";
    case KESTREL_OPT_DURATION: return "a duration (e.g. 250ms, 5s, 2m; a bare number is seconds)";
    case KESTREL_OPT_SIZE: return "a size (e.g. 512, 64KiB, 10MiB, 1GB)";
    case KESTREL_OPT_STRING_LIST: return "a list of strings";
    case KESTREL_OPT_REF: return "a component id";
    case KESTREL_OPT_PATH: return "a path";
    case KESTREL_OPT_MAP_LIST: return "a list of maps";
    case KESTREL_OPT_REF_LIST: return "a list of component ids";
  }
  return "a value";
}

bool option_type_known(uint32_t type) {
  return type >= KESTREL_OPT_STRING && type <= KESTREL_OPT_REF_LIST;
}

bool parse_int(const std::string& text, int64_t* out, std::string* error) {
  std::string t = trim(text);
  const char* b = t.c_str();
  char* e = nullptr;
  errno = 0;
  long long v = std::strtoll(b, &e, 10);
  if (t.empty() || *e != '\0') {
    *error = "'" + text + "' is not an integer";
    return false;
  }
  if (errno == ERANGE) {
    *error = "'" + text + "' is out of range";
    return false;
  }
  *out = v;
  return true;
}

bool parse_double(const std::string& text, double* out, std::string* error) {
  std::string t = trim(text);
  const char* b = t.c_str();
  char* e = nullptr;
  errno = 0;
  double v = std::strtod(b, &e);
  if (t.empty() || *e != '\0' || errno == ERANGE || !std::isfinite(v)) {
    *error = "'" + text + "' is not a number";
    return false;
  }
  *out = v;
  return true;
}

bool parse_bool(const std::string& text, bool* out, std::string* error) {
  std::string t = lower(trim(text));
  if (t == "true" || t == "yes" || t == "on") {
    *out = true;
    return true;
  }
  if (t == "false" || t == "no" || t == "off") {
    *out = false;
    return true;
  }
  *error = "'" + text + "' is not a boolean (use true or false)";
  return false;
}

bool parse_duration_ms(const std::string& text, int64_t* out_ms, std::string* error) {
  double n = 0;
  std::string unit;
  if (!split_number_unit(text, &n, &unit) || n < 0) {
    *error = "'" + text + "' is not a duration (e.g. 250ms, 5s, 2m, 1h)";
    return false;
  }
  double factor = 0;
  if (unit.empty() || unit == "s" || unit == "sec" || unit == "secs" || unit == "second" || unit == "seconds")
    factor = 1000;
  else if (unit == "ms")
    factor = 1;
  else if (unit == "m" || unit == "min" || unit == "minutes" || unit == "minute")
    factor = 60e3;
  else if (unit == "h" || unit == "hour" || unit == "hours")
    factor = 3600e3;
  else if (unit == "d" || unit == "day" || unit == "days")
    factor = 86400e3;
  else {
    *error = "'" + text + "' has an unknown duration unit '" + unit + "' (use ms, s, m, h or d)";
    return false;
  }
  double ms = n * factor;
  if (ms > static_cast<double>(std::numeric_limits<int64_t>::max() / 2)) {
    *error = "'" + text + "' is out of range";
    return false;
  }
  *out_ms = static_cast<int64_t>(std::llround(ms));
  return true;
}

bool parse_size_bytes(const std::string& text, int64_t* out_bytes, std::string* error) {
  double n = 0;
  std::string unit;
  if (!split_number_unit(text, &n, &unit) || n < 0) {
    *error = "'" + text + "' is not a size (e.g. 512, 64KiB, 10MiB, 1GB)";
    return false;
  }
  struct Unit {
    const char* name;
    double factor;
  };
  static const Unit units[] = {{"", 1},         {"b", 1},          {"kib", 1024.0},     {"mib", 1048576.0},
                               {"gib", 1073741824.0}, {"tib", 1099511627776.0}, {"k", 1024.0}, {"m", 1048576.0},
                               {"g", 1073741824.0},   {"kb", 1e3},   {"mb", 1e6},         {"gb", 1e9},
                               {"tb", 1e12}};
  for (const auto& u : units) {
    if (unit == u.name) {
      double bytes = n * u.factor;
      if (bytes > static_cast<double>(std::numeric_limits<int64_t>::max() / 2)) {
        *error = "'" + text + "' is out of range";
        return false;
      }
      *out_bytes = static_cast<int64_t>(std::llround(bytes));
      return true;
    }
  }
  *error = "'" + text + "' has an unknown size unit '" + unit + "' (use B, KiB, MiB, GiB, kB, MB or GB)";
  return false;
}

bool parse_option_text(kestrel_option_type type, const std::string& text, OptionValue* out, std::string* error) {
  out->type = type;
  out->is_set = true;
  out->text = text;
  switch (type) {
    case KESTREL_OPT_STRING:
    case KESTREL_OPT_REF:
    case KESTREL_OPT_PATH:
      return true;
    case KESTREL_OPT_INT:
      return parse_int(text, &out->integer, error);
    case KESTREL_OPT_DOUBLE:
      return parse_double(text, &out->real, error);
    case KESTREL_OPT_BOOL: {
      bool b = false;
      if (!parse_bool(text, &b, error)) return false;
      out->integer = b ? 1 : 0;
      return true;
    }
    case KESTREL_OPT_DURATION:
      return parse_duration_ms(text, &out->integer, error);
    case KESTREL_OPT_SIZE:
      return parse_size_bytes(text, &out->integer, error);
    case KESTREL_OPT_STRING_LIST:
    case KESTREL_OPT_REF_LIST: {
      out->list.clear();
      std::string item;
      for (size_t i = 0; i <= text.size(); ++i) {
        if (i == text.size() || text[i] == ',') {
          std::string t = trim(item);
          if (!t.empty()) out->list.push_back(t);
          item.clear();
        } else {
          item += text[i];
        }
      }
      return true;
    }
    case KESTREL_OPT_MAP_LIST:
      *error = "a list of maps has no one-line form: write a YAML sequence of maps";
      return false;
  }
  *error = "unknown option type";
  return false;
}

const OptionSpec* OptionSpec::field(const std::string& field_name) const {
  for (const OptionSpec& f : fields)
    if (f.name == field_name) return &f;
  return nullptr;
}

}  // namespace kestrel::host
