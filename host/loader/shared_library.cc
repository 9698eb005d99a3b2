#include "loader/shared_library.h"

#if defined(_WIN32)
#include <windows.h>
#else
#include <dlfcn.h>
#endif

namespace kestrel::host {

#if defined(_WIN32)
static std::string last_error_text() {
  DWORD code = GetLastError();
  char buf[512] = {0};
  FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, nullptr, code, 0, buf, sizeof buf,
                 nullptr);
  return buf;
}

bool SharedLibrary::open(const std::string& path, std::string* error) {
  HMODULE h = LoadLibraryExA(path.c_str(), nullptr, LOAD_WITH_ALTERED_SEARCH_PATH);
  if (!h) {
    if (error) *error = last_error_text();
    return false;
  }
  handle_ = h;
  return true;
}

void* SharedLibrary::symbol(const char* name, std::string* error) const {
  void* p = reinterpret_cast<void*>(GetProcAddress(static_cast<HMODULE>(handle_), name));
  if (!p && error) *error = last_error_text();
  return p;
}
#else
bool SharedLibrary::open(const std::string& path, std::string* error) {
  dlerror();  // clear a stale message
  void* h = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    const char* e = dlerror();
    if (error) *error = e ? e : "dlopen failed";
    return false;
  }
  handle_ = h;
  return true;
}

void* SharedLibrary::symbol(const char* name, std::string* error) const {
  dlerror();
  void* p = dlsym(handle_, name);
  if (!p && error) {
    const char* e = dlerror();
    *error = e ? e : "symbol not found";
  }
  return p;
}
#endif

}  // namespace kestrel::host
