#include <catalog_schema/call_gate.h>

#include <kestrel/plugin.hpp>

namespace kestrel {
namespace catalog_schema {

CallGate::Pass CallGate::enter(const std::string& what) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!open_) throw Error(KESTREL_ERR_UNAVAILABLE, what + " is not started", true);
    ++inside_;
  }
  return Pass(*this);
}

std::unique_ptr<CallGate::Pass> CallGate::try_enter() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!open_) return nullptr;
  ++inside_;
  return std::make_unique<Pass>(*this);
}

void CallGate::open() {
  std::lock_guard<std::mutex> lock(mu_);
  open_ = true;
}

void CallGate::close() {
  std::unique_lock<std::mutex> lock(mu_);
  open_ = false;
  left_.wait(lock, [this] { return inside_ == 0; });
}

void CallGate::leave() noexcept {
  std::lock_guard<std::mutex> lock(mu_);
  if (--inside_ == 0) left_.notify_all();
}

}  // namespace catalog_schema
}  // namespace kestrel
