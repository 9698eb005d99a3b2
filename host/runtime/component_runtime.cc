#include "runtime/component_runtime.h"

#include <kestrel/plugin.hpp>

#include <Poco/Logger.h>
#include <Poco/Path.h>

#include <cstring>
#include <deque>

#include "runtime/host_context.h"

namespace kestrel::host {

struct ComponentRuntime::Instance {
  const ComponentConfig* config = nullptr;
  kestrel_host_ctx ctx;
  void* handle = nullptr;  // the plugin's instance; owned by the plugin, freed by ops.destroy
  State state = State::kNew;

  std::string describe() const {
    return "component '" + config->id + "' (type " + config->type + ", plugin " +
           Poco::Path(config->type_info->plugin_file).getFileName() + ")";
  }
};

namespace {

Poco::Logger& logger() { return Poco::Logger::get("kestrel.runtime"); }

std::string status_text(kestrel_result rc, const kestrel_status& st) {
  return st.message[0] ? std::string(st.message) : std::string(result_name(rc));
}

// kestrel_option_value views of host-owned OptionValues, for one create()
// call. The deques keep every array at its address while more are added.
class OptionViews {
 public:
  kestrel_option_value view(const OptionSpec& spec, const OptionValue& v) {
    kestrel_option_value out;
    std::memset(&out, 0, sizeof out);
    out.struct_size = sizeof out;
    out.name = spec.name.c_str();
    out.type = spec.type;
    out.is_set = v.is_set ? 1 : 0;
    out.text = v.is_set ? v.text.c_str() : nullptr;
    out.integer = v.integer;
    out.real = v.real;
    if (!v.list.empty()) {
      std::vector<const char*> items;
      for (const auto& item : v.list) items.push_back(item.c_str());
      out.list = lists_.emplace_back(std::move(items)).data();
      out.list_count = v.list.size();
    }
    if (!v.items.empty()) {
      std::vector<kestrel_option_map> maps;
      for (const OptionItem& item : v.items) {
        std::vector<kestrel_option_value> fields;
        for (size_t f = 0; f < spec.fields.size() && f < item.fields.size(); ++f)
          fields.push_back(view(spec.fields[f], item.fields[f]));
        kestrel_option_map m;
        std::memset(&m, 0, sizeof m);
        m.struct_size = sizeof m;
        m.field_count = fields.size();
        m.fields = fields_.emplace_back(std::move(fields)).data();
        m.where = item.where.c_str();
        maps.push_back(m);
      }
      out.item_count = maps.size();
      out.items = maps_.emplace_back(std::move(maps)).data();
    }
    return out;
  }

 private:
  std::deque<std::vector<const char*>> lists_;
  std::deque<std::vector<kestrel_option_value>> fields_;
  std::deque<std::vector<kestrel_option_map>> maps_;
};

}  // namespace

const kestrel_host_api* ComponentRuntime::host_api() { return host_api_table(); }

ComponentRuntime::ComponentRuntime(ComponentGraph graph, NodeSettings node, std::string config_dir)
    : graph_(std::move(graph)),
      node_(std::move(node)),
      config_dir_(std::move(config_dir)),
      services_(std::make_unique<HostServices>(node_.data_dir)) {
  for (const auto& c : graph_.components) {
    auto inst = std::make_unique<Instance>();
    inst->config = &c;
    inst->ctx.runtime = this;
    inst->ctx.config = &c;
    inst->ctx.logger = &Poco::Logger::get(c.id);
    inst->ctx.services = services_.get();
    services_->processes.set_refused(c.id, true);  // until its start()
    instances_.push_back(std::move(inst));
  }
}

ComponentRuntime::~ComponentRuntime() {
  stop_all(5000);
  destroy_all();
}

bool ComponentRuntime::create_all(std::vector<std::string>* errors) {
  bool ok = true;
  for (auto& inst : instances_) {
    if (inst->state != State::kNew) continue;
    const ComponentConfig& c = *inst->config;
    const auto& schema = c.type_info->options;

    // Borrowed views of the host-owned values, alive for the call.
    OptionViews views;
    std::vector<kestrel_option_value> values;
    for (size_t i = 0; i < schema.size(); ++i) values.push_back(views.view(schema[i], c.values[i]));
    kestrel_create_args args;
    std::memset(&args, 0, sizeof args);
    args.struct_size = sizeof args;
    args.component_id = c.id.c_str();
    args.node_name = node_.name.c_str();
    args.data_dir = node_.data_dir.c_str();
    args.config_dir = config_dir_.c_str();
    args.options = values.empty() ? nullptr : values.data();
    args.option_count = values.size();
    args.host = host_api_table();
    args.host_ctx = &inst->ctx;

    kestrel_status st = make_status();
    void* handle = nullptr;
    kestrel_result rc = c.type_info->ops.create(&args, &handle, &st);
    if (rc != KESTREL_OK || handle == nullptr) {
      inst->state = State::kFailed;
      ok = false;
      std::string msg = inst->describe() + ": " + status_text(rc == KESTREL_OK ? KESTREL_ERR_INTERNAL : rc, st);
      if (rc == KESTREL_OK) msg += " (create returned no instance)";
      errors->push_back(msg);
      continue;
    }
    inst->handle = handle;
    inst->state = State::kCreated;
  }
  return ok;
}

bool ComponentRuntime::start_all(std::string* error) {
  for (auto& inst : instances_) {
    if (inst->state != State::kCreated) continue;
    services_->processes.set_refused(inst->config->id, false);
    kestrel_status st = make_status();
    kestrel_result rc = inst->config->type_info->ops.start(inst->handle, &st);
    if (rc != KESTREL_OK) {
      end_services(*inst);
      *error = inst->describe() + " failed to start: " + status_text(rc, st);
      logger().error(*error);
      inst->state = State::kStopped;  // a failed start is not stopped again
      stop_all(5000);
      return false;
    }
    inst->state = State::kStarted;
    logger().information("started " + inst->describe());
  }
  return true;
}

void ComponentRuntime::stop_all(uint32_t deadline_ms) {
  for (auto it = instances_.rbegin(); it != instances_.rend(); ++it) {
    Instance& inst = **it;
    if (inst.state != State::kStarted) continue;
    // Commands still running would keep the component's threads (and so its
    // stop) waiting: they are killed now; stop() itself may run new ones.
    services_->processes.cancel(inst.config->id);
    kestrel_status st = make_status();
    kestrel_result rc = inst.config->type_info->ops.stop(inst.handle, deadline_ms, &st);
    end_services(inst);
    inst.state = State::kStopped;
    if (rc != KESTREL_OK)
      logger().error(inst.describe() + " did not stop cleanly: " + status_text(rc, st));
    else
      logger().information("stopped " + inst.describe());
  }
}

void ComponentRuntime::destroy_all() {
  stop_all(5000);
  for (auto it = instances_.rbegin(); it != instances_.rend(); ++it) {
    Instance& inst = **it;
    if (inst.handle) inst.config->type_info->ops.destroy(inst.handle);
    inst.handle = nullptr;
    if (inst.state != State::kFailed) inst.state = State::kNew;
  }
}

void ComponentRuntime::end_services(Instance& inst) {
  const std::string& id = inst.config->id;
  services_->processes.set_refused(id, true);
  services_->processes.cancel(id);
  if (size_t n = services_->events.unsubscribe_owner(id))
    logger().debug(inst.describe() + ": " + std::to_string(n) + " event subscription(s) ended by the host after stop");
}

kestrel_host_ctx* ComponentRuntime::context_of(const std::string& id) const {
  Instance* inst = find(id);
  return inst ? &inst->ctx : nullptr;
}

ComponentRuntime::Instance* ComponentRuntime::find(const std::string& id) const {
  for (const auto& inst : instances_)
    if (inst->config->id == id) return inst.get();
  return nullptr;
}

std::vector<std::string> ComponentRuntime::providers_of(const std::string& interface_name) const {
  std::vector<std::string> out;
  for (const auto& inst : instances_)
    if (inst->config->type_info->provides_interface(interface_name)) out.push_back(inst->config->id);
  return out;
}

kestrel_interface ComponentRuntime::interface_of(const std::string& id, const std::string& interface_name) const {
  Instance* inst = find(id);
  if (!inst) throw Error(KESTREL_ERR_NOT_FOUND, "no component '" + id + "'");
  if (inst->state != State::kStarted)
    throw Error(KESTREL_ERR_UNAVAILABLE, inst->describe() + " is not started", true);
  const void* vt = inst->config->type_info->ops.get_interface(inst->handle, interface_name.c_str());
  if (!vt) throw Error(KESTREL_ERR_INVALID, inst->describe() + " does not provide " + interface_name);
  kestrel_interface ref;
  std::memset(&ref, 0, sizeof ref);
  ref.struct_size = sizeof ref;
  ref.vtable = vt;
  ref.instance = inst->handle;
  return ref;
}

std::string ComponentRuntime::status_json(const std::string& id) const {
  Instance* inst = find(id);
  if (!inst || !inst->handle || !inst->config->type_info->ops.status_json) return "";
  std::string out;
  kestrel_status st = make_status();
  if (inst->config->type_info->ops.status_json(inst->handle, &string_sink, &out, &st) != KESTREL_OK)
    return "";
  return out;
}

}  // namespace kestrel::host
