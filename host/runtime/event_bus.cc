#include "runtime/event_bus.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <thread>

#include "runtime/metrics_registry.h"

namespace kestrel::host {

// One subscriber: its queue, its delivery thread and its drop count.
class EventBus::Subscription {
 public:
  Subscription(Id id, std::string owner, std::string topic, uint32_t capacity, Callback callback)
      : id_(id), owner_(std::move(owner)), topic_(std::move(topic)), capacity_(capacity), callback_(std::move(callback)) {
    std::string error;
    dropped_metric_ = MetricsRegistry::global().add(
        owner_, KESTREL_METRIC_COUNTER, "kestrel_events_dropped_total",
        "Events dropped for a subscriber whose queue was full", "topic=\"" + topic_ + "\"", {}, &error);
    thread_ = std::thread([this] { deliver(); });
  }
  ~Subscription() { end(); }

  // Stops the thread after a running callback returns; queued events are
  // dropped. Idempotent; concurrent callers all return after the join.
  void end() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      ending_ = true;
      queue_.clear();
    }
    cv_.notify_all();
    std::call_once(joined_, [this] {
      if (thread_.get_id() == std::this_thread::get_id())
        thread_.detach();  // called from its own callback: it exits when the callback returns
      else if (thread_.joinable())
        thread_.join();
    });
  }

  Id id() const { return id_; }
  bool matches(const std::string& topic) const { return topic_ == "*" || topic_ == topic; }
  const std::string& owner() const { return owner_; }
  bool ended() {
    std::lock_guard<std::mutex> lock(mu_);
    return ending_;
  }

  void push(const Event& e) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (ending_) return;
      if (queue_.size() >= capacity_) {
        dropped_.fetch_add(1, std::memory_order_relaxed);
        if (dropped_metric_) MetricsRegistry::add_value(dropped_metric_, 1);
        return;
      }
      queue_.push_back(e);
      // Wake the delivery thread only when it sleeps: a busy one finds the
      // event itself, and a futex wake per publish is most of its cost.
      if (!sleeping_) return;
    }
    cv_.notify_one();
  }

  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

 private:
  void deliver() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      if (!ending_ && queue_.empty()) {
        sleeping_ = true;
        cv_.wait(lock, [this] { return ending_ || !queue_.empty(); });
        sleeping_ = false;
      }
      if (ending_) return;
      Event e = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      try {
        callback_(e);
      } catch (...) {
        // A subscriber's failure is its own; the bus goes on delivering.
      }
      lock.lock();
    }
  }

  const Id id_;
  const std::string owner_;
  const std::string topic_;
  const size_t capacity_;
  const Callback callback_;
  kestrel_metric* dropped_metric_ = nullptr;
  std::atomic<uint64_t> dropped_{0};
  std::mutex mu_;  // guards queue_ and ending_; never held during a callback
  std::condition_variable cv_;
  std::deque<Event> queue_;
  bool ending_ = false;
  bool sleeping_ = false;  // the delivery thread waits on cv_
  std::once_flag joined_;
  std::thread thread_;
};

namespace {

// Every live subscription of the process by id, so that a handle can be
// ended without knowing its bus, and an ended one is simply not found.
struct Directory {
  std::mutex mu;
  std::map<EventBus::Id, std::weak_ptr<EventBus::Subscription>> by_id;
  std::atomic<EventBus::Id> next{1};

  static Directory& get() {
    static Directory d;
    return d;
  }
  std::shared_ptr<EventBus::Subscription> take(EventBus::Id id) {
    std::lock_guard<std::mutex> lock(mu);
    auto it = by_id.find(id);
    if (it == by_id.end()) return nullptr;
    auto sp = it->second.lock();
    by_id.erase(it);
    return sp;
  }
  void forget(EventBus::Id id) {
    std::lock_guard<std::mutex> lock(mu);
    by_id.erase(id);
  }
};

}  // namespace

EventBus::~EventBus() {
  std::vector<std::shared_ptr<Subscription>> subs;
  {
    std::lock_guard<std::mutex> lock(mu_);
    subs.swap(subs_);
  }
  for (auto& s : subs) {
    Directory::get().forget(s->id());
    s->end();
  }
}

bool EventBus::valid_topic(const std::string& topic, bool allow_wildcard, std::string* error) {
  if (allow_wildcard && topic == "*") return true;
  bool ok = !topic.empty() && topic.size() <= 128 && topic.front() != '.' && topic.back() != '.';
  for (char c : topic)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.')) ok = false;
  if (!ok)
    *error = "topic '" + topic + "' must be 1-128 characters of [a-z0-9_.], not starting or ending with '.'" +
             (allow_wildcard ? " (or \"*\" for every topic)" : "");
  return ok;
}

bool EventBus::publish(const std::string& topic, const std::string& source, const std::string& json,
                       std::string* error) {
  if (!valid_topic(topic, false, error)) return false;
  const Event e{topic, source, json};
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& s : subs_)
    if (s->matches(topic)) s->push(e);
  return true;
}

EventBus::Id EventBus::subscribe(const std::string& owner, const std::string& topic, uint32_t queue_capacity,
                                Callback callback, std::string* error) {
  if (!valid_topic(topic, true, error)) return 0;
  if (!callback) {
    *error = "subscribe: no callback";
    return 0;
  }
  const Id id = Directory::get().next.fetch_add(1);
  auto sub = std::make_shared<Subscription>(id, owner, topic,
                                            queue_capacity ? queue_capacity : kDefaultQueueCapacity,
                                            std::move(callback));
  {
    std::lock_guard<std::mutex> lock(Directory::get().mu);
    Directory::get().by_id[id] = sub;
  }
  std::lock_guard<std::mutex> lock(mu_);
  // Drop the entries of subscriptions ended through their handle.
  subs_.erase(std::remove_if(subs_.begin(), subs_.end(), [](const auto& s) { return s->ended(); }), subs_.end());
  subs_.push_back(std::move(sub));
  return id;
}

void EventBus::unsubscribe(Id id) {
  if (auto sub = Directory::get().take(id)) sub->end();  // the bus's entry goes at its next subscribe
}

size_t EventBus::unsubscribe_owner(const std::string& owner) {
  std::vector<std::shared_ptr<Subscription>> ended;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = std::stable_partition(subs_.begin(), subs_.end(), [&](const auto& s) { return s->owner() != owner; });
    ended.assign(it, subs_.end());
    subs_.erase(it, subs_.end());
  }
  size_t n = 0;
  for (auto& s : ended) {
    Directory::get().forget(s->id());
    if (!s->ended()) ++n;
    s->end();
  }
  return n;
}

uint64_t EventBus::dropped(Id id) {
  std::lock_guard<std::mutex> lock(Directory::get().mu);
  auto it = Directory::get().by_id.find(id);
  if (it == Directory::get().by_id.end()) return 0;
  auto sp = it->second.lock();
  return sp ? sp->dropped() : 0;
}

}  // namespace kestrel::host
