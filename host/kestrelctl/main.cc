// kestrelctl: Kestrel's command-line client over the admin and app APIs.
// This release knows --version and --help only; the commands (status,
// failover, crawl start|status|stop, ...) arrive with the HTTP APIs.
#include <cstring>
#include <iostream>

#ifndef KESTREL_VERSION
#define KESTREL_VERSION "0.0.0"
#endif

int main(int argc, char** argv) {
  if (argc == 2 && (std::strcmp(argv[1], "--version") == 0 || std::strcmp(argv[1], "-V") == 0)) {
    std::cout << "kestrelctl " << KESTREL_VERSION << "\n";
    return 0;
  }
  if (argc == 2 && (std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0)) {
    std::cout << "usage: kestrelctl --version | --help\n"
                 "Commands (status, failover, crawl ...) arrive with the admin API in a later release.\n";
    return 0;
  }
  std::cerr << "kestrelctl: no commands yet in " << KESTREL_VERSION << " (try --version)\n";
  return 64;
}
