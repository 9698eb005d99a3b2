// SharedLibrary: a minimal portable wrapper over dlopen/LoadLibrary.
//
// Why not Poco::SharedLibrary: it always binds lazily (RTLD_LAZY), so a plugin
// with an unresolved symbol would load and then crash the host at its first
// call. We open with RTLD_NOW | RTLD_LOCAL so such a plugin fails at load time
// with the linker's message, and its symbols never leak into other plugins.
// Libraries are never unloaded while the process lives (DESIGN §2): the
// destructor does not dlclose.
#ifndef KESTREL_HOST_LOADER_SHARED_LIBRARY_H_
#define KESTREL_HOST_LOADER_SHARED_LIBRARY_H_

#include <string>

namespace kestrel::host {

class SharedLibrary {
 public:
  // Opens `path`. On failure returns false and sets *error to the system's
  // reason (dlerror(): missing file, missing dependency, undefined symbol...).
  bool open(const std::string& path, std::string* error);

  // Address of exported symbol `name`, or nullptr (with *error set).
  void* symbol(const char* name, std::string* error) const;

  bool is_open() const { return handle_ != nullptr; }

 private:
  void* handle_ = nullptr;  // never closed: plugins stay mapped for the process lifetime
};

}  // namespace kestrel::host

#endif  // KESTREL_HOST_LOADER_SHARED_LIBRARY_H_
