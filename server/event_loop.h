// The broker's event loop: an Asio io_context seen through the Executor and Scheduler interfaces that the layers
// below are written against.
#pragma once

#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <memory>

#include "model/executor.h"

namespace fjord::server {

class EventLoop final : public Executor, public Scheduler {
 public:
  asio::io_context& context() { return context_; }

  // Thread-safe: I/O threads post completions here.
  void post(Task task) override { asio::post(context_, std::move(task)); }

  std::unique_ptr<TimerHandle> schedule_after(int64_t delay_ms, Task task) override {
    auto timer = std::make_shared<asio::steady_timer>(context_, std::chrono::milliseconds(delay_ms));
    timer->async_wait([timer, task = std::move(task)](const std::error_code& error) {
      if (!error) task();
    });
    return std::make_unique<Handle>(timer);
  }

 private:
  class Handle final : public TimerHandle {
   public:
    explicit Handle(std::weak_ptr<asio::steady_timer> timer) : timer_(std::move(timer)) {}
    ~Handle() override { cancel(); }
    void cancel() override {
      if (auto t = timer_.lock()) t->cancel();
    }

   private:
    std::weak_ptr<asio::steady_timer> timer_;
  };
  asio::io_context context_;
};

}  // namespace fjord::server
