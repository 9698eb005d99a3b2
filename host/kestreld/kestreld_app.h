// KestreldApp: the Kestrel daemon (Poco::Util::ServerApplication).
//
//   kestreld --config FILE [--data-dir DIR] [--seed URL]... [--once] [--no-api]
//   kestreld --validate FILE
//
// After the components start, kestreld serves the App API (api.listen,
// default 127.0.0.1:8000; host/api) until it stops, in service mode and with
// --once alike; the API stops before the components do.
//
// Runs in the foreground by default; --daemon (Unix) detaches, and on
// Windows the same binary registers and runs as a service (Poco's
// --registerService). See --help for every option and the exit codes.
#ifndef KESTREL_HOST_KESTRELD_KESTRELD_APP_H_
#define KESTREL_HOST_KESTRELD_KESTRELD_APP_H_

#include <Poco/Util/ServerApplication.h>

#include <memory>
#include <string>
#include <vector>

#include "config/config_document.h"

namespace kestrel::host {

class KestreldApp : public Poco::Util::ServerApplication {
 protected:
  void defineOptions(Poco::Util::OptionSet& options) override;
  void handleOption(const std::string& name, const std::string& value) override;
  int main(const std::vector<std::string>& args) override;

 private:
  void print_help() const;
  void setup_logging(const LoggingSettings& settings);
  std::unique_ptr<ConfigDocument> load_config(ConfigErrors* errors) const;
  std::vector<std::string> plugin_paths(const ConfigDocument& doc) const;
  int list_plugins();

  bool help_ = false;
  bool version_ = false;
  bool once_ = false;
  bool list_plugins_ = false;
  bool no_api_ = false;
  std::string config_file_;     // absolute; empty: the embedded default
  std::string validate_file_;   // absolute; set by --validate
  std::string data_dir_;        // absolute; empty: node.data_dir
  std::string report_file_;     // absolute
  std::string log_level_;
  std::vector<std::string> seeds_;
  std::string usage_error_;
};

}  // namespace kestrel::host

#endif  // KESTREL_HOST_KESTRELD_KESTRELD_APP_H_
