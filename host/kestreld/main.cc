// kestreld's entry point.
#include <csignal>
#include <iostream>

#include "kestreld/kestreld_app.h"

int main(int argc, char** argv) {
#if !defined(_WIN32)
  // Block SIGINT/SIGTERM in this thread before any other exists, so every
  // thread inherits the mask: the signals then wait to be collected by the
  // control thread (sigtimedwait / Poco's waitForTerminationRequest) instead
  // of interrupting a write half-way.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
#endif
  try {
    kestrel::host::KestreldApp app;
    return app.run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "kestreld: " << e.what() << "\n";
    return 1;
  }
}
