// Whether the data directory can still be trusted. The first failed write or sync of anything in it takes it
// offline until the broker restarts: after a failed fsync the kernel may already have dropped the pages it could
// not write, and a retried fsync then reports success over bytes that are gone ("fsyncgate"). So nothing is ever
// synced again, nothing more is acknowledged, and every log in the directory answers KAFKA_STORAGE_ERROR.
//
// Changed on the event loop only; offline() and reason() may be read from any thread (the admin endpoint).
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

namespace fjord::storage {

class DirectoryHealth {
 public:
  bool offline() const { return offline_.load(std::memory_order_acquire); }
  std::string reason() const {
    std::lock_guard lock(mutex_);
    return reason_;
  }

  // Takes the directory offline (the first call; later ones only log) and tells every listener, in order.
  void fail(const std::string& reason) {
    if (offline()) return;
    {
      std::lock_guard lock(mutex_);
      reason_ = reason;
    }
    offline_.store(true, std::memory_order_release);
    for (const auto& listener : listeners_) listener(reason);
  }

  // Runs `listener` on the loop when the directory goes offline.
  void on_offline(std::function<void(const std::string& reason)> listener) {
    listeners_.push_back(std::move(listener));
  }

 private:
  std::atomic<bool> offline_{false};
  mutable std::mutex mutex_;
  std::string reason_;
  std::vector<std::function<void(const std::string&)>> listeners_;
};

}  // namespace fjord::storage
