// catalog_schema/call_gate.h — CallGate, shared by the store plugins.
// It admits calls while open; close() refuses new ones and waits for those
// inside to leave. Unlike a shared_mutex it may be entered again by a
// thread already inside (a read callback that writes), which a shared lock
// must not be.
#ifndef KESTREL_CATALOG_SCHEMA_CALL_GATE_H
#define KESTREL_CATALOG_SCHEMA_CALL_GATE_H

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

namespace kestrel {
namespace catalog_schema {

class CallGate {
 public:
  // Proof of being inside; leaving is its destruction.
  class Pass {
   public:
    explicit Pass(CallGate& gate) : gate_(gate) {}
    Pass(const Pass&) = delete;
    Pass& operator=(const Pass&) = delete;
    ~Pass() { gate_.leave(); }

   private:
    CallGate& gate_;
  };

  // Enters, or throws Error(KESTREL_ERR_UNAVAILABLE, retryable) naming
  // `what` when the gate is closed. Any thread.
  Pass enter(const std::string& what);

  // Enters if open; nullptr (and nothing entered) when closed. Any thread.
  std::unique_ptr<Pass> try_enter();

  // Admits calls from now on. Control thread.
  void open();

  // Refuses new calls, then blocks until every Pass is gone. Control thread;
  // must not be called from inside (it would wait for itself).
  void close();

 private:
  void leave() noexcept;

  std::mutex mu_;
  std::condition_variable left_;
  bool open_ = false;   // GUARDED_BY(mu_)
  int64_t inside_ = 0;  // GUARDED_BY(mu_)
};

}  // namespace catalog_schema
}  // namespace kestrel

#endif  // KESTREL_CATALOG_SCHEMA_CALL_GATE_H
