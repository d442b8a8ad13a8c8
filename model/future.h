// A single-threaded promise/future pair. A produce completes through one: the log append resolves it once the
// batch is durable, and replication will later resolve it only once the in-sync replicas have it. Callbacks run on
// the thread that resolves the promise, which is always the owning event loop.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <utility>

namespace fjord {

template <typename T>
class Future;

template <typename T>
class Promise {
 public:
  Promise() : state_(std::make_shared<State>()) {}
  Future<T> future() const { return Future<T>(state_); }
  void set_value(T value) const {
    if (state_->value) return;  // resolved once; later resolutions are ignored
    if (state_->callback) {
      auto callback = std::move(state_->callback);
      state_->value.emplace(value);
      callback(std::move(value));
    } else {
      state_->value.emplace(std::move(value));
    }
  }
  bool resolved() const { return state_->value.has_value(); }

 private:
  friend class Future<T>;
  struct State {
    std::optional<T> value;
    std::function<void(T)> callback;
  };
  std::shared_ptr<State> state_;
};

template <typename T>
class Future {
 public:
  static Future ready(T value) {
    Promise<T> p;
    p.set_value(std::move(value));
    return p.future();
  }
  bool ready() const { return state_->value.has_value(); }
  // Runs `callback` with the value: now if resolved, else when it is.
  void then(std::function<void(T)> callback) {
    if (state_->value) {
      callback(*state_->value);
    } else {
      state_->callback = std::move(callback);
    }
  }

 private:
  friend class Promise<T>;
  explicit Future(std::shared_ptr<typename Promise<T>::State> state) : state_(std::move(state)) {}
  std::shared_ptr<typename Promise<T>::State> state_;
};

}  // namespace fjord
