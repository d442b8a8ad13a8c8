// payments_producer BOOTSTRAP TOPIC COUNT [ACCOUNTS]: sends COUNT payment events (acks=all, idempotent).
#include <cstdio>
#include <string>

#include "examples/payments/payments.h"

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: payments_producer BOOTSTRAP TOPIC COUNT [ACCOUNTS]\n");
    return 2;
  }
  const int count = std::stoi(argv[3]);
  const int64_t acknowledged =
      fjord::examples::produce_payments(argv[1], argv[2], count, argc > 4 ? std::stoi(argv[4]) : 10);
  std::printf("%lld of %d payments acknowledged\n", static_cast<long long>(acknowledged), count);
  return acknowledged == count ? 0 : 1;
}
