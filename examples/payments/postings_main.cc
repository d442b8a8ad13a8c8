// payments_postings BOOTSTRAP TOPIC GROUP POSTINGS_TOPIC [INSTANCE_ID]: one member of the exactly-once ledger; runs
// until SIGTERM or Ctrl-C, writing one posting per payment in transactions with its input offsets.
#include <cstdio>
#include <string>

#include "client/config.h"
#include "client/shutdown.h"
#include "examples/payments/payments.h"

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: payments_postings BOOTSTRAP TOPIC GROUP POSTINGS_TOPIC [INSTANCE_ID]\n");
    return 2;
  }
  fjord::client::install_shutdown_signals();
  const std::string instance = argc > 5 ? argv[5] : fjord::client::default_group_instance_id();
  try {
    const int64_t posted = fjord::examples::run_posting_member(argv[1], argv[2], argv[3], argv[4], instance);
    std::printf("posted %lld payments\n", static_cast<long long>(posted));
  } catch (const std::exception& e) {
    // Fenced by a newer member with the same instance id, or the cluster refused a transaction for good.
    std::fprintf(stderr, "payments_postings: %s\n", e.what());
    return 3;
  }
  return 0;
}
