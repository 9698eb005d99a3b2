// kestrelctl: Kestrel's command-line client over the App API and the HA API
// (DESIGN §8).
//
//   kestrelctl [--api URL] [--admin URL] [--token T] COMMAND ...
//
// Options may come before or after the command. --api defaults to
// $KESTREL_API, else http://127.0.0.1:8000; --admin to $KESTREL_ADMIN, else
// http://127.0.0.1:8001; --token to $KESTREL_TOKEN.
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "kestrelctl/api_client.h"
#include "kestrelctl/commands.h"
#include "kestrelctl/ha_commands.h"

#ifndef KESTREL_VERSION
#define KESTREL_VERSION "0.0.0"
#endif

namespace {

using namespace kestrel::ctl;

const char kHelp[] =
    "usage: kestrelctl [--api URL] [--admin URL] [--token TOKEN] [--json] COMMAND [ARGS]\n"
    "\n"
    "Controls a running kestreld through its App API (crawls, images) and its HA API (the catalog's\n"
    "nodes, failover, replication).\n"
    "\n"
    "HA commands (HA API):\n"
    "  status                          the primary, epoch and mode; per node: role, priority, health,\n"
    "                                  response time, lag, sync state; the failover candidate or why none\n"
    "  test                            connect to every node and report (exit 1 if one is unhealthy)\n"
    "  failover NODE [--reason R] [--force]\n"
    "                                  promote standby NODE now; --force when it is not eligible (the\n"
    "                                  refusal says how much may be lost)\n"
    "  switchover NODE                 planned: hold writes, let NODE catch up, promote it, resume\n"
    "  history [--limit N]             failovers and switchovers, newest first\n"
    "  replication-status              the mode, and each standby's sync state and lag\n"
    "  consistency-check NODE          compare standby NODE with the primary (a JSON report)\n"
    "  force-sync NODE                 repair standby NODE from the primary (the change log: only the id\n"
    "                                  ranges that differ; PostgreSQL: a fresh copy)\n"
    "  conflicts [--limit N]           changes a former primary held that the primary never had (kept\n"
    "                                  when it rejoined; the primary's rows won), newest first\n"
    "  sync enable [--mode sync|semi-sync] | sync disable\n"
    "                                  commits wait for the standbys (sync: all, semi-sync: one) or not\n"
    "                                  (async: the standbys keep streaming)\n"
    "  enable-auto-failover | disable-auto-failover\n"
    "\n"
    "App commands (App API):\n"
    "  health                          health of the daemon and of each component\n"
    "  crawl start URL... [--scope site|host|domain] [--max-pages N] [--max-depth N]\n"
    "              [--max-bytes N] [--max-seconds N] [--robots on|off] [--wait]\n"
    "                                  start a crawl of the seed URLs; --wait follows it to its end\n"
    "                                  (a progress bar on a terminal, plain lines otherwise)\n"
    "  crawl status                    live counters of the current or last crawl\n"
    "  crawl stop [--wait]             ask the running crawl to stop (it resumes on the next start\n"
    "                                  of the same seeds); --wait until it has\n"
    "  images [--limit N] [--offset N] [--format png|jpeg|gif|webp] [--min-width N] [--session ID]\n"
    "                                  list catalogued images: id, format, WxH, bytes, URL\n"
    "\n"
    "Options:\n"
    "  --api URL      the App API (default: $KESTREL_API, else http://127.0.0.1:8000)\n"
    "  --admin URL    the HA API (default: $KESTREL_ADMIN, else http://127.0.0.1:8001)\n"
    "  --token TOKEN  bearer token for what changes anything (default: $KESTREL_TOKEN): the daemon's\n"
    "                 api.token (App API) or admin.token (HA API)\n"
    "  --json         HA commands: print the API's JSON as it came\n"
    "  -h, --help     this help;  -V, --version  the version\n"
    "\n"
    "Exit codes: 0 success (crawl start --wait: the crawl finished); 1 the server answered with an error\n"
    "or refused (a failover that is not possible, the crawl waited for failed or was stopped, `test` found\n"
    "an unhealthy node); 2 bad command line; 3 cannot connect to the API.\n";

// argv split into positional words and --options (with their values).
struct CommandLine {
  std::vector<std::string> words;
  std::map<std::string, std::string> values;  // options with a value
  std::set<std::string> flags;                // options without one
};

const std::set<std::string> kValueOptions = {"api",       "admin",       "token",  "scope",  "max-pages",
                                             "max-depth", "max-bytes",   "max-seconds", "robots", "limit",
                                             "offset",    "format",      "min-width", "session", "reason", "mode"};
const std::set<std::string> kFlagOptions = {"wait", "help", "version", "json", "force"};

bool parse_command_line(int argc, char** argv, CommandLine* cl, std::string* error) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-h") a = "--help";
    if (a == "-V") a = "--version";
    if (a.size() < 3 || a.compare(0, 2, "--") != 0) {
      cl->words.push_back(a);
      continue;
    }
    std::string name = a.substr(2), value;
    const size_t eq = name.find('=');
    const bool inline_value = eq != std::string::npos;
    if (inline_value) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    if (kFlagOptions.count(name)) {
      if (inline_value) {
        *error = "option --" + name + " takes no value";
        return false;
      }
      cl->flags.insert(name);
    } else if (kValueOptions.count(name)) {
      if (!inline_value) {
        if (i + 1 >= argc) {
          *error = "option --" + name + " needs a value";
          return false;
        }
        value = argv[++i];
      }
      cl->values[name] = value;
    } else {
      *error = "unknown option --" + name;
      return false;
    }
  }
  return true;
}

// A non-negative integer option; false with *error when malformed.
bool number_option(const CommandLine& cl, const std::string& name, uint64_t* out, std::string* error) {
  auto it = cl.values.find(name);
  if (it == cl.values.end()) return true;
  const std::string& v = it->second;
  if (v.empty() || v.size() > 19 || v.find_first_not_of("0123456789") != std::string::npos) {
    *error = "--" + name + " must be a non-negative integer, not '" + v + "'";
    return false;
  }
  *out = std::stoull(v);
  return true;
}

// Options that only some commands take: refuse the others.
bool only_options(const CommandLine& cl, const std::set<std::string>& allowed, const std::string& command,
                  std::string* error) {
  for (const auto& [name, value] : cl.values)
    if (name != "api" && name != "admin" && name != "token" && !allowed.count(name)) {
      *error = "'" + command + "' takes no option --" + name;
      return false;
    }
  for (const auto& name : cl.flags)
    if (!allowed.count(name)) {
      *error = "'" + command + "' takes no option --" + name;
      return false;
    }
  return true;
}

int usage(const std::string& message) {
  std::cerr << "kestrelctl: " << message << " (see kestrelctl --help)\n";
  return kExitUsage;
}

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

}  // namespace

int main(int argc, char** argv) {
  CommandLine cl;
  std::string error;
  if (!parse_command_line(argc, argv, &cl, &error)) return usage(error);
  if (cl.flags.count("help")) {
    std::cout << kHelp;
    return kExitOk;
  }
  if (cl.flags.count("version")) {
    std::cout << "kestrelctl " << KESTREL_VERSION << "\n";
    return kExitOk;
  }
  if (cl.words.empty()) return usage("no command given");

  const std::string base = cl.values.count("api") ? cl.values["api"] : env_or("KESTREL_API", "http://127.0.0.1:8000");
  const std::string admin_base =
      cl.values.count("admin") ? cl.values["admin"] : env_or("KESTREL_ADMIN", "http://127.0.0.1:8001");
  const std::string token = cl.values.count("token") ? cl.values["token"] : env_or("KESTREL_TOKEN", "");
  WaitStyle style;
  style.terminal = isatty(STDOUT_FILENO) == 1;

  try {
    const ApiClient api(base, token);
    const ApiClient admin(admin_base, token);
    const std::vector<std::string>& w = cl.words;
    const bool json = cl.flags.count("json") != 0;
    // HA commands: a command word, its argument count, its options.
    auto ha_args = [&](size_t words, const std::set<std::string>& options, const std::string& form) {
      if (w.size() != words) {
        error = "usage: kestrelctl " + form;
        return false;
      }
      std::set<std::string> allowed = options;
      allowed.insert("json");
      return only_options(cl, allowed, w[0], &error);
    };
    if (w[0] == "status") {
      if (!ha_args(1, {}, "status")) return usage(error);
      return cmd_ha_status(admin, json, std::cout, std::cerr);
    }
    if (w[0] == "test") {
      if (!ha_args(1, {}, "test")) return usage(error);
      return cmd_ha_test(admin, json, std::cout, std::cerr);
    }
    if (w[0] == "failover") {
      if (!ha_args(2, {"reason", "force"}, "failover NODE [--reason R] [--force]")) return usage(error);
      return cmd_failover(admin, w[1], cl.values.count("reason") ? cl.values["reason"] : "", cl.flags.count("force") != 0,
                          json, std::cout, std::cerr);
    }
    if (w[0] == "switchover") {
      if (!ha_args(2, {}, "switchover NODE")) return usage(error);
      return cmd_switchover(admin, w[1], json, std::cout, std::cerr);
    }
    if (w[0] == "history") {
      if (!ha_args(1, {"limit"}, "history [--limit N]")) return usage(error);
      uint64_t limit = 20;
      if (!number_option(cl, "limit", &limit, &error)) return usage(error);
      return cmd_history(admin, limit, json, std::cout, std::cerr);
    }
    if (w[0] == "conflicts") {
      if (!ha_args(1, {"limit"}, "conflicts [--limit N]")) return usage(error);
      uint64_t limit = 100;
      if (!number_option(cl, "limit", &limit, &error)) return usage(error);
      return cmd_conflicts(admin, limit, json, std::cout, std::cerr);
    }
    if (w[0] == "replication-status") {
      if (!ha_args(1, {}, "replication-status")) return usage(error);
      return cmd_replication_status(admin, json, std::cout, std::cerr);
    }
    if (w[0] == "consistency-check" || w[0] == "force-sync") {
      if (!ha_args(2, {}, w[0] + " NODE")) return usage(error);
      return cmd_standby_action(admin, "/api/" + w[0], w[1], json, std::cout, std::cerr);
    }
    if (w[0] == "sync") {
      if (w.size() == 2 && w[1] == "enable") {
        if (!ha_args(2, {"mode", "force"}, "sync enable [--mode sync|semi-sync]")) return usage(error);
        const std::string mode = cl.values.count("mode") ? cl.values["mode"] : "sync";
        if (mode != "sync" && mode != "semi-sync") return usage("--mode must be sync or semi-sync");
        return cmd_post(admin, "/api/sync/enable",
                        "{\"mode\":\"" + mode + "\",\"force\":" + (cl.flags.count("force") ? "true" : "false") + "}",
                        json, std::cout, std::cerr);
      }
      if (w.size() == 2 && w[1] == "disable") {
        if (!ha_args(2, {}, "sync disable")) return usage(error);
        return cmd_post(admin, "/api/sync/disable", "", json, std::cout, std::cerr);
      }
      return usage("'sync' needs enable or disable");
    }
    if (w[0] == "enable-auto-failover" || w[0] == "disable-auto-failover") {
      if (!ha_args(1, {}, w[0])) return usage(error);
      return cmd_post(admin, w[0] == "enable-auto-failover" ? "/api/auto-failover/enable" : "/api/auto-failover/disable",
                      "", json, std::cout, std::cerr);
    }
    if (w[0] == "health") {
      if (w.size() != 1) return usage("'health' takes no arguments");
      if (!only_options(cl, {}, "health", &error)) return usage(error);
      return cmd_status(api, std::cout, std::cerr);
    }
    if (w[0] == "images") {
      if (w.size() != 1) return usage("'images' takes no arguments, only options");
      if (!only_options(cl, {"limit", "offset", "format", "min-width", "session"}, "images", &error)) return usage(error);
      ImagesOptions o;
      if (!number_option(cl, "limit", &o.limit, &error) || !number_option(cl, "offset", &o.offset, &error) ||
          !number_option(cl, "min-width", &o.min_width, &error) || !number_option(cl, "session", &o.session, &error))
        return usage(error);
      if (cl.values.count("format")) o.format = cl.values["format"];
      return cmd_images(api, o, std::cout, std::cerr);
    }
    if (w[0] == "crawl") {
      if (w.size() < 2) return usage("'crawl' needs start, status or stop");
      if (w[1] == "start") {
        if (!only_options(cl, {"scope", "max-pages", "max-depth", "max-bytes", "max-seconds", "robots", "wait"},
                          "crawl start", &error))
          return usage(error);
        CrawlStartOptions o;
        o.seeds.assign(w.begin() + 2, w.end());
        if (o.seeds.empty()) return usage("'crawl start' needs at least one URL");
        if (cl.values.count("scope")) o.scope = cl.values["scope"];
        if (!o.scope.empty() && o.scope != "site" && o.scope != "host" && o.scope != "domain")
          return usage("--scope must be site, host or domain");
        if (cl.values.count("robots")) o.robots = cl.values["robots"];
        if (!o.robots.empty() && o.robots != "on" && o.robots != "off") return usage("--robots must be on or off");
        if (!number_option(cl, "max-pages", &o.max_pages, &error) ||
            !number_option(cl, "max-depth", &o.max_depth, &error) ||
            !number_option(cl, "max-bytes", &o.max_bytes, &error) ||
            !number_option(cl, "max-seconds", &o.max_seconds, &error))
          return usage(error);
        o.wait = cl.flags.count("wait") != 0;
        return cmd_crawl_start(api, o, style, std::cout, std::cerr);
      }
      if (w[1] == "status") {
        if (w.size() != 2) return usage("'crawl status' takes no arguments");
        if (!only_options(cl, {}, "crawl status", &error)) return usage(error);
        return cmd_crawl_status(api, std::cout, std::cerr);
      }
      if (w[1] == "stop") {
        if (w.size() != 2) return usage("'crawl stop' takes no arguments");
        if (!only_options(cl, {"wait"}, "crawl stop", &error)) return usage(error);
        return cmd_crawl_stop(api, cl.flags.count("wait") != 0, style, std::cout, std::cerr);
      }
      return usage("unknown crawl command '" + w[1] + "' (start, status or stop)");
    }
    return usage("unknown command '" + w[0] + "'");
  } catch (const std::invalid_argument& e) {
    return usage(e.what());
  } catch (const ConnectError& e) {
    std::cerr << "kestrelctl: " << e.what() << "\n";
    return kExitConnect;
  } catch (const std::exception& e) {
    std::cerr << "kestrelctl: " << e.what() << "\n";
    return kExitServerError;
  }
}
