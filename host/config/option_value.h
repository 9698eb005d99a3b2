// Option values: parsing the text of one option for its schema type.
//
// The grammar is the operator's: durations are "250ms", "5s", "2m", "1h",
// "1d" or a bare number of seconds; sizes are "512", "64KiB", "10MiB", "1GiB"
// (binary) or "10kB", "10MB", "1GB" (decimal); booleans are true/false
// (also yes/no/on/off, case-insensitive).
#ifndef KESTREL_HOST_CONFIG_OPTION_VALUE_H_
#define KESTREL_HOST_CONFIG_OPTION_VALUE_H_

#include <kestrel/plugin.h>

#include <cstdint>
#include <string>
#include <vector>

namespace kestrel::host {

// One option as the schema declares it (a host-owned copy of kestrel_option_desc).
struct OptionSpec {
  std::string name;
  kestrel_option_type type = KESTREL_OPT_STRING;
  uint32_t flags = 0;                // KESTREL_OPTION_* bits
  bool has_default = false;
  std::string default_value;         // config syntax; lists are comma-separated
  std::string interface_name;        // KESTREL_OPT_REF and _REF_LIST only
  std::string description;
  std::vector<OptionSpec> fields;    // KESTREL_OPT_MAP_LIST only: the schema of one item

  bool required() const { return (flags & KESTREL_OPTION_REQUIRED) != 0; }
  bool secret() const { return (flags & KESTREL_OPTION_SECRET) != 0; }
  bool unique() const { return (flags & KESTREL_OPTION_UNIQUE) != 0; }
  const OptionSpec* field(const std::string& field_name) const;
};

struct OptionValue;

// One item of a MAP_LIST value: one value per field of the nested schema, in
// schema order, defaults applied.
struct OptionItem {
  std::vector<OptionValue> fields;
  std::string where;  // "file:line:column" of the item
};

// A parsed value owned by the host; see kestrel_option_value for the fields.
struct OptionValue {
  kestrel_option_type type = KESTREL_OPT_STRING;
  bool is_set = false;
  std::string text;               // STRING, REF (component id), PATH (absolute after resolution); else source text
  int64_t integer = 0;            // INT; BOOL 0/1; DURATION ms; SIZE bytes
  double real = 0;                // DOUBLE
  std::vector<std::string> list;  // STRING_LIST, REF_LIST
  std::vector<OptionItem> items;  // MAP_LIST
  std::string shared_from;        // MAP_LIST given as a component id: that component's list
};

// Human name of a type for messages: "a duration (e.g. 5s, 250ms)".
const char* option_type_description(kestrel_option_type type);
// Short name of a type: "duration".
const char* option_type_name(kestrel_option_type type);

// Each returns false and sets *error (one sentence, no location) on bad text.
bool parse_int(const std::string& text, int64_t* out, std::string* error);
bool parse_double(const std::string& text, double* out, std::string* error);
bool parse_bool(const std::string& text, bool* out, std::string* error);
bool parse_duration_ms(const std::string& text, int64_t* out_ms, std::string* error);
bool parse_size_bytes(const std::string& text, int64_t* out_bytes, std::string* error);

// Parses scalar `text` for `type` into *out (is_set = true). STRING_LIST
// takes a comma-separated list ("" is an empty list); REF and PATH keep the
// text as it is (resolution is the graph's job).
bool parse_option_text(kestrel_option_type type, const std::string& text, OptionValue* out, std::string* error);

// Whether `type` is one this host knows.
bool option_type_known(uint32_t type);

}  // namespace kestrel::host

#endif  // KESTREL_HOST_CONFIG_OPTION_VALUE_H_
