#include "component_harness.h"

#include <cstdio>
#include <deque>

namespace kestrel {
namespace store_test {
namespace {

const char* level_name(kestrel_log_level level) {
  switch (level) {
    case KESTREL_LOG_TRACE:
      return "TRACE";
    case KESTREL_LOG_DEBUG:
      return "DEBUG";
    case KESTREL_LOG_INFO:
      return "INFO";
    case KESTREL_LOG_WARNING:
      return "WARNING";
    default:
      return "ERROR";
  }
}

ComponentHarness* harness_of(kestrel_host_ctx* ctx) { return reinterpret_cast<ComponentHarness*>(ctx); }

void host_log(kestrel_host_ctx* ctx, kestrel_log_level level, const char* message) {
  harness_of(ctx)->log(level, message ? message : "");
}

kestrel_result host_lookup(kestrel_host_ctx*, const char* option_name, const char*, kestrel_interface*,
                           kestrel_status* status) {
  std::string msg = std::string("no component wired to option '") + (option_name ? option_name : "") + "' in this test";
  return set_status(status, KESTREL_ERR_NOT_FOUND, false, msg.c_str());
}

}  // namespace

int64_t parse_duration_ms(const std::string& text) {
  size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    throw Error(KESTREL_ERR_INVALID, "'" + text + "' is not a duration");
  }
  const std::string unit = text.substr(used);
  double ms = 0;
  if (unit == "ms")
    ms = value;
  else if (unit == "s" || unit.empty())
    ms = value * 1000;
  else if (unit == "m")
    ms = value * 60000;
  else if (unit == "h")
    ms = value * 3600000;
  else
    throw Error(KESTREL_ERR_INVALID, "'" + text + "' has an unknown duration unit");
  return static_cast<int64_t>(ms);
}

ComponentHarness::ComponentHarness(const kestrel_component_desc& desc, const OptionText& options,
                                   const std::string& data_dir)
    : desc_(desc) {
  host_.struct_size = sizeof host_;
  host_.abi_major = KESTREL_ABI_MAJOR;
  host_.abi_minor = KESTREL_ABI_MINOR;
  host_.log = &host_log;
  host_.lookup = &host_lookup;

  for (const auto& kv : options) {
    bool known = false;
    for (size_t i = 0; i < desc.option_count; ++i) known = known || kv.first == desc.options[i].name;
    if (!known) throw Error(KESTREL_ERR_INVALID, "test passes unknown option '" + kv.first + "'");
  }

  std::deque<std::string> texts;  // stable storage for the values' strings
  std::vector<kestrel_option_value> values;
  for (size_t i = 0; i < desc.option_count; ++i) {
    const kestrel_option_desc& o = desc.options[i];
    kestrel_option_value v{};
    v.struct_size = sizeof v;
    v.name = o.name;
    v.type = o.type;
    const auto given = options.find(o.name);
    const char* text = given != options.end() ? given->second.c_str() : o.default_value;
    if (text != nullptr) {
      std::string t = text;
      if (o.type == KESTREL_OPT_PATH && !t.empty() && t.front() != '/') t = data_dir + "/" + t;
      texts.push_back(t);
      v.is_set = 1;
      v.text = texts.back().c_str();
      switch (o.type) {
        case KESTREL_OPT_INT:
          v.integer = std::stoll(t);
          break;
        case KESTREL_OPT_BOOL:
          v.integer = (t == "true") ? 1 : 0;
          break;
        case KESTREL_OPT_DURATION:
          v.integer = parse_duration_ms(t);
          break;
        case KESTREL_OPT_DOUBLE:
          v.real = std::stod(t);
          break;
        default:
          break;
      }
    }
    values.push_back(v);
  }

  kestrel_create_args args{};
  args.struct_size = sizeof args;
  args.component_id = desc.type;
  args.node_name = "test-node";
  args.data_dir = data_dir.c_str();
  args.config_dir = data_dir.c_str();
  args.options = values.data();
  args.option_count = values.size();
  args.host = &host_;
  args.host_ctx = reinterpret_cast<kestrel_host_ctx*>(this);
  kestrel_status st = make_status();
  check(desc.ops->create(&args, &instance_, &st), st, "create");
}

ComponentHarness::~ComponentHarness() {
  if (started_) {
    kestrel_status st = make_status();
    if (desc_.ops->stop(instance_, 5000, &st) != KESTREL_OK) std::fprintf(stderr, "stop failed: %s\n", st.message);
  }
  if (instance_ != nullptr) desc_.ops->destroy(instance_);
}

void ComponentHarness::start() {
  kestrel_status st = make_status();
  check(desc_.ops->start(instance_, &st), st, "start");
  started_ = true;
}

void ComponentHarness::stop() {
  if (!started_) return;
  started_ = false;
  kestrel_status st = make_status();
  check(desc_.ops->stop(instance_, 5000, &st), st, "stop");
}

void ComponentHarness::health() {
  kestrel_status st = make_status();
  check(desc_.ops->health(instance_, &st), st, "health");
}

std::string ComponentHarness::status_json() {
  std::string out;
  kestrel_status st = make_status();
  auto sink = [](void* s, const char* data, size_t length) {
    static_cast<std::string*>(s)->append(data, length);
    return 0;
  };
  check(desc_.ops->status_json(instance_, sink, &out, &st), st, "status_json");
  return out;
}

kestrel_interface ComponentHarness::interface(const char* name) const {
  kestrel_interface ref{};
  ref.struct_size = sizeof ref;
  ref.vtable = desc_.ops->get_interface(instance_, name);
  ref.instance = instance_;
  if (ref.vtable == nullptr) throw Error(KESTREL_ERR_NOT_FOUND, std::string(desc_.type) + " does not provide " + name);
  return ref;
}

std::vector<std::string> ComponentHarness::log_lines() const {
  std::lock_guard<std::mutex> lock(log_mu_);
  return log_lines_;
}

void ComponentHarness::log(kestrel_log_level level, const char* message) {
  std::fprintf(stderr, "[%s] %s %s\n", desc_.type, level_name(level), message);
  std::lock_guard<std::mutex> lock(log_mu_);
  log_lines_.push_back(std::string(level_name(level)) + " " + message);
}

}  // namespace store_test
}  // namespace kestrel
