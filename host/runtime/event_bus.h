// EventBus: the host's publish/subscribe service (ABI 1.3, DESIGN §2).
//
// Contract (the one plugin.h states for event_publish/event_subscribe):
//  - publish() never blocks on a subscriber: it copies the event into each
//    matching subscription's bounded queue under that queue's mutex (held only
//    for a push) and returns. A full queue drops the event for that
//    subscriber alone and counts it.
//  - Every subscription has one delivery thread owned by the bus; its
//    callback runs there, one event at a time, in publish order per
//    publisher thread. No bus lock is held while a callback runs.
//  - unsubscribe() waits for a running callback, drops what is queued, joins
//    the thread and frees the subscription; it must not be called from that
//    subscription's own callback (it would wait for itself).
//
// Thread-safety: every member may be called from any thread.
#ifndef KESTREL_HOST_RUNTIME_EVENT_BUS_H_
#define KESTREL_HOST_RUNTIME_EVENT_BUS_H_

#include <kestrel/plugin.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace kestrel::host {

// One delivered event; the strings are owned by the bus for the callback only.
struct Event {
  std::string topic;
  std::string source;  // publishing component id, "host" for the host
  std::string json;    // one JSON object
};

class EventBus {
 public:
  class Subscription;
  using Callback = std::function<void(const Event&)>;
  // A subscription's handle: unique in the process, never reused, so a
  // handle that outlived its subscription is harmlessly unknown.
  using Id = uint64_t;

  static constexpr uint32_t kDefaultQueueCapacity = 1024;

  EventBus() = default;
  // Ends every subscription still open (joins their threads).
  ~EventBus();
  EventBus(const EventBus&) = delete;
  EventBus& operator=(const EventBus&) = delete;

  // Queues {topic, source, json} for every subscription of `topic` or of
  // "*". Returns false with *error (one sentence) on a bad topic name
  // ([a-z0-9_.]+, at most 128 bytes); nothing is queued then.
  bool publish(const std::string& topic, const std::string& source, const std::string& json, std::string* error);

  // Subscribes `callback` for `owner` (a component id; "host" for the host)
  // to `topic` ("*": all). `queue_capacity` 0 means kDefaultQueueCapacity.
  // Returns 0 with *error on a bad topic. The subscription counts its drops
  // in kestrel_events_dropped_total{component=owner,topic=topic}.
  Id subscribe(const std::string& owner, const std::string& topic, uint32_t queue_capacity, Callback callback,
               std::string* error);

  // Ends every subscription of `owner` (after its component's stop()).
  // Returns how many were ended.
  size_t unsubscribe_owner(const std::string& owner);

  // Ends subscription `id` of any bus (see the contract above). Unknown or
  // already ended: a no-op. Any thread except that subscription's own callback.
  static void unsubscribe(Id id);

  // Events dropped so far for subscription `id` (0 when unknown).
  static uint64_t dropped(Id id);

  // Checks a topic name; false with *error otherwise.
  static bool valid_topic(const std::string& topic, bool allow_wildcard, std::string* error);

 private:
  std::mutex mu_;  // guards subs_ (the list, not the queues)
  std::vector<std::shared_ptr<Subscription>> subs_;
};

}  // namespace kestrel::host

#endif  // KESTREL_HOST_RUNTIME_EVENT_BUS_H_
