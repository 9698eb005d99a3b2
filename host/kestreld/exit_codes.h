// kestreld's exit codes (also in --help and the README).
#ifndef KESTREL_HOST_KESTRELD_EXIT_CODES_H_
#define KESTREL_HOST_KESTRELD_EXIT_CODES_H_

namespace kestrel::host {

// BSD sysexits values where one fits; 78 is also what Poco's ServerApplication
// returns for an unknown or malformed command-line option.
enum ExitCode : int {
  kExitOk = 0,            // success; with --once: the crawl finished
  kExitFailure = 1,       // a component failed to start or the crawl failed at run time
  kExitUsage = 64,        // EX_USAGE: bad arguments (stray argument, bad seed URL)
  kExitInterrupted = 75,  // EX_TEMPFAIL: --once stopped by SIGTERM/SIGINT before the crawl finished; rerun resumes
  kExitConfig = 78        // EX_CONFIG: invalid configuration (also --validate), or a bad command-line option
};

}  // namespace kestrel::host

#endif  // KESTREL_HOST_KESTRELD_EXIT_CODES_H_
