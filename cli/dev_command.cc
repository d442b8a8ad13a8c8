#include "cli/dev_command.h"

#include <netinet/in.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <thread>

#include "cli/broker_command.h"
#include "cli/demo.h"

namespace fjord::cli {
namespace {

bool port_free(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool free = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  ::close(fd);
  return free;
}

// The first free port at or above `start`: "9092 and up".
int first_free_port(int start) {
  for (int port = start; port < start + 100; ++port) {
    if (port_free(port)) return port;
  }
  return 0;
}

}  // namespace

int run_dev(const DevOptions& options) {
  if (options.brokers != 1) {
    spdlog::error("--brokers {}: a local multi-broker cluster needs replication, which is not in this build yet",
                  options.brokers);
    return 2;
  }
  BrokerOptions broker;
  broker.data_dir = options.data_dir;
  int kafka_port = first_free_port(9092);
  int admin_port = first_free_port(9644);
  broker.listen = "127.0.0.1:" + std::to_string(kafka_port);
  broker.admin_listen = "127.0.0.1:" + std::to_string(admin_port);
  std::thread demo;
  bool demo_ok = true;
  int code = run_broker(broker, [&](int port, int admin) {
    std::string bootstrap = "127.0.0.1:" + std::to_string(port);
    std::printf(
        "fjord dev: one broker, data in %s\n  bootstrap server: %s\n  admin / metrics:  http://127.0.0.1:%d/metrics\n",
        options.data_dir.c_str(), bootstrap.c_str(), admin);
    std::fflush(stdout);
    if (!options.demo) {
      std::printf("serving until Ctrl-C\n");
      std::fflush(stdout);
      return;
    }
    demo = std::thread([&, bootstrap] {
      demo_ok = run_demo(bootstrap);
      std::printf(options.exit_after_demo ? "demo done: stopping\n" : "serving until Ctrl-C\n");
      std::fflush(stdout);
      if (options.exit_after_demo) std::raise(SIGTERM);
    });
  });
  if (demo.joinable()) demo.join();
  return code != 0 ? code : (demo_ok ? 0 : 1);
}

}  // namespace fjord::cli
