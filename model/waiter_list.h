// Callbacks waiting for something to happen (a high watermark to move, a connection to close), each owned by
// whoever registered it. A Registration removes its callback when it is destroyed, so a request that ends in any
// way (answered, timed out, failed, its connection closed) takes its waiters with it: nothing a request registers
// outlives it. Single-threaded: used on one event loop.
#pragma once

#include <prometheus/gauge.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <utility>

namespace fjord {

class WaiterList {
  struct State;

 public:
  // `live` (optional) counts the callbacks registered and not yet run or removed, across every list sharing it.
  explicit WaiterList(prometheus::Gauge* live = nullptr) : state_(std::make_shared<State>()) { state_->live = live; }
  ~WaiterList() { clear(); }
  WaiterList(const WaiterList&) = delete;
  WaiterList& operator=(const WaiterList&) = delete;

  class Registration {
   public:
    Registration() = default;
    Registration(Registration&& other) noexcept : state_(std::move(other.state_)), id_(other.id_) {}
    Registration& operator=(Registration&& other) noexcept {
      if (this != &other) {
        cancel();
        state_ = std::move(other.state_);
        id_ = other.id_;
      }
      return *this;
    }
    Registration(const Registration&) = delete;
    Registration& operator=(const Registration&) = delete;
    ~Registration() { cancel(); }

    // Removes the callback unless it has run already. Safe after the list itself is gone.
    void cancel() {
      if (auto state = state_.lock()) state->remove(id_);
      state_.reset();
    }

   private:
    friend class WaiterList;
    Registration(std::weak_ptr<State> state, uint64_t id) : state_(std::move(state)), id_(id) {}
    std::weak_ptr<State> state_;
    uint64_t id_ = 0;
  };

  // Registers `callback` to run once, at the next notify_all() (or never, if the Registration goes first).
  [[nodiscard]] Registration add(std::function<void()> callback) {
    const uint64_t id = state_->next_id++;
    state_->callbacks.emplace(id, std::move(callback));
    if (state_->live) state_->live->Increment();
    return Registration(state_, id);
  }

  // Runs every callback registered before this call, each once, and forgets them. Callbacks may register again
  // (for the next notification) or cancel others.
  void notify_all() {
    auto callbacks = std::move(state_->callbacks);
    state_->callbacks.clear();
    if (state_->live) state_->live->Decrement(static_cast<double>(callbacks.size()));
    for (auto& [id, callback] : callbacks) callback();
  }

  // Forgets every callback without running it.
  void clear() {
    if (state_->live) state_->live->Decrement(static_cast<double>(state_->callbacks.size()));
    state_->callbacks.clear();
  }

  void set_live_gauge(prometheus::Gauge* live) {
    if (state_->live) state_->live->Decrement(static_cast<double>(state_->callbacks.size()));
    state_->live = live;
    if (live) live->Increment(static_cast<double>(state_->callbacks.size()));
  }

  size_t size() const { return state_->callbacks.size(); }
  bool empty() const { return state_->callbacks.empty(); }

 private:
  struct State {
    std::map<uint64_t, std::function<void()>> callbacks;
    uint64_t next_id = 0;
    prometheus::Gauge* live = nullptr;
    void remove(uint64_t id) {
      if (callbacks.erase(id) > 0 && live) live->Decrement();
    }
  };
  std::shared_ptr<State> state_;
};

}  // namespace fjord
