// PostgreSQL tools through the host's process service (see pg_tools.h).
#include "pg_tools.h"

#include <kestrel/plugin.hpp>

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

namespace kestrel {
namespace replicator_pg {
namespace {

constexpr size_t kMaxOutput = 16 * 1024;


}  // namespace

std::string command_line(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) out += (out.empty() ? "" : " ") + a;
  return out;
}

std::string owner_for(const std::string& path) {
  if (::geteuid() != 0) return std::string();
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    const std::string parent = path.substr(0, path.find_last_of('/'));
    if (parent.empty() || ::stat(parent.c_str(), &st) != 0)
      throw Error(KESTREL_ERR_IO, "neither " + path + " nor its parent folder exists");
  }
  if (st.st_uid == 0) return std::string();
  struct passwd pw;
  struct passwd* found = nullptr;
  char buf[4096];
  if (::getpwuid_r(st.st_uid, &pw, buf, sizeof buf, &found) != 0 || found == nullptr)
    throw Error(KESTREL_ERR_IO, path + " belongs to uid " + std::to_string(st.st_uid) + ", which has no user name");
  return pw.pw_name;
}

ProcessResult ToolRunner::run(const std::vector<std::string>& argv, const std::string& run_as, int64_t timeout_ms,
                              const std::vector<std::string>& extra_env) const {
  if (!api_ || !KESTREL_HAS(api_, kestrel_host_api, process_run) || !api_->process_run)
    throw Error(KESTREL_ERR_UNSUPPORTED, "this host has no process service (needs ABI 1.3): cannot run " +
                                             (argv.empty() ? std::string("a command") : argv[0]));
  std::vector<const char*> args, env;
  for (const auto& a : argv) args.push_back(a.c_str());
  for (const auto& e : extra_env) env.push_back(e.c_str());
  kestrel_process_request req;
  std::memset(&req, 0, sizeof req);
  req.struct_size = sizeof req;
  req.argv = args.data();
  req.argc = args.size();
  req.env = env.empty() ? nullptr : env.data();
  req.env_count = env.size();
  req.run_as = run_as.c_str();
  req.timeout_ms = static_cast<uint32_t>(timeout_ms > 0 && timeout_ms < UINT32_MAX ? timeout_ms : UINT32_MAX - 1);
  req.output_limit = 4u << 20;  // generous: the tail is what we keep
  kestrel_process_result res;
  std::memset(&res, 0, sizeof res);
  res.struct_size = sizeof res;
  ProcessResult out;
  auto tail = [](void* sink, const char* data, size_t n) {
    auto* o = static_cast<std::string*>(sink);
    o->append(data, n);
    if (o->size() > 2 * kMaxOutput) o->erase(0, o->size() - kMaxOutput);
    return 0;
  };
  kestrel_status st = make_status();
  check(api_->process_run(ctx_, &req, tail, &out.output, &res, &st), st, command_line(argv).c_str());
  if (out.output.size() > kMaxOutput) out.output.erase(0, out.output.size() - kMaxOutput);
  out.exit_code = res.exit_code;
  out.timed_out = res.timed_out != 0 || res.cancelled != 0;
  return out;
}

}  // namespace replicator_pg
}  // namespace kestrel
