#include "client/shutdown.h"

#include <atomic>
#include <csignal>

namespace fjord::client {
namespace {

std::atomic<bool> requested{false};
static_assert(std::atomic<bool>::is_always_lock_free, "set from a signal handler");

extern "C" void on_shutdown_signal(int) { requested.store(true); }

}  // namespace

void install_shutdown_signals() {
  struct sigaction action {};
  action.sa_handler = on_shutdown_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
}

void request_shutdown() { requested.store(true); }
bool shutdown_requested() { return requested.load(); }
void reset_shutdown() { requested.store(false); }

}  // namespace fjord::client
