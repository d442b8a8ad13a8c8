// Clean shutdown on SIGTERM (what Kubernetes and systemd send) and SIGINT: the signal only sets a flag, and the
// consumer's processing loop sees it between batches, commits what it processed and leaves the group.
#pragma once

namespace fjord::client {

// Routes SIGTERM and SIGINT to request_shutdown(). Call once, early in main().
void install_shutdown_signals();

void request_shutdown();  // async-signal-safe
bool shutdown_requested();
void reset_shutdown();  // for tests and for programs that run several loops in turn

}  // namespace fjord::client
