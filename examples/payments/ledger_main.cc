// payments_ledger BOOTSTRAP TOPIC GROUP LEDGER.db [INSTANCE_ID]: one member of the ledger service; runs until
// SIGTERM or Ctrl-C, then commits what it booked and prints the balances.
#include <cstdio>
#include <string>

#include "client/config.h"
#include "client/shutdown.h"
#include "examples/payments/payments.h"

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: payments_ledger BOOTSTRAP TOPIC GROUP LEDGER.db [INSTANCE_ID]\n");
    return 2;
  }
  fjord::client::install_shutdown_signals();
  const std::string instance = argc > 5 ? argv[5] : fjord::client::default_group_instance_id();
  auto stats = fjord::examples::run_ledger_member(argv[1], argv[2], argv[3], argv[4], instance);
  std::printf("booked %lld payments, absorbed %lld redeliveries\n", static_cast<long long>(stats.booked),
              static_cast<long long>(stats.absorbed));
  for (const auto& [account, cents] : fjord::examples::balances(argv[4])) {
    std::printf("%-10s %12.2f\n", account.c_str(), cents / 100.0);
  }
  return 0;
}
