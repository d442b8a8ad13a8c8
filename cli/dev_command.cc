#include "cli/dev_command.h"

#include <librdkafka/rdkafka.h>
#include <netinet/in.h>
#include <spdlog/spdlog.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <thread>
#include <vector>

#include "cli/broker_command.h"
#include "cli/demo.h"
#include "cli/dev_security.h"
#include "cli/rolling_restart.h"
#include "cluster/etcd/etcd_client.h"

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

// The first free port at or above `start` that is not in `taken`.
int first_free_port_except(int start, const std::vector<int>& taken) {
  for (int port = start; port < start + 100; ++port) {
    if (std::find(taken.begin(), taken.end(), port) == taken.end() && port_free(port)) return port;
  }
  return 0;
}

// A child process that dies with this one (PR_SET_PDEATHSIG), so Ctrl-C or a crash leaves nothing behind.
pid_t spawn(const std::vector<std::string>& args, const std::string& log_path) {
  pid_t pid = ::fork();
  if (pid != 0) return pid;
  ::prctl(PR_SET_PDEATHSIG, SIGTERM);
  // A broker restarted after `fjord dev` blocked SIGTERM for itself must not inherit that, or it cannot be stopped.
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  FILE* log = std::fopen(log_path.c_str(), "a");
  if (log) {
    ::dup2(fileno(log), STDOUT_FILENO);
    ::dup2(fileno(log), STDERR_FILENO);
  }
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  ::execvp(argv[0], argv.data());
  std::fprintf(stderr, "cannot run %s\n", args[0].c_str());
  ::_exit(127);
}

bool wait_for(const std::function<bool()>& ready, pid_t child, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (ready()) return true;
    int status = 0;
    if (::waitpid(child, &status, WNOHANG) == child) return false;  // it exited
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

// How many brokers the broker on `port` lists in its Metadata answer (0 when it does not answer). A client's
// first request goes to its bootstrap broker, so this is that broker's own view.
int brokers_known_by(int port) {
  char error[256];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  const std::string bootstrap = "127.0.0.1:" + std::to_string(port);
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), error, sizeof(error));
  rd_kafka_conf_set(conf, "log_level", "0", error, sizeof(error));
  rd_kafka_t* handle = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof(error));
  if (!handle) return 0;
  const rd_kafka_metadata_t* metadata = nullptr;
  int known = 0;
  if (rd_kafka_metadata(handle, 0, nullptr, &metadata, 2000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    known = metadata->broker_cnt;
    rd_kafka_metadata_destroy(metadata);
  }
  rd_kafka_destroy(handle);
  return known;
}

std::string executable_path() {
  std::error_code error;
  auto path = std::filesystem::read_symlink("/proc/self/exe", error);
  return error ? std::string("fjord") : path.string();
}

// `fjord dev --brokers N` with N > 1: a local etcd and N broker processes, each with its data under DATA_DIR, the
// demo against them, then serving until Ctrl-C, when the brokers stop cleanly and etcd after them.
int run_local_cluster(const DevOptions& options) {
  namespace fs = std::filesystem;
  const fs::path root = options.data_dir;
  fs::create_directories(root);
  std::vector<int> taken;
  const int etcd_port = first_free_port_except(2379, taken);
  taken.push_back(etcd_port);
  const int etcd_peer_port = first_free_port_except(2380, taken);
  taken.push_back(etcd_peer_port);
  const std::string etcd_url = "http://127.0.0.1:" + std::to_string(etcd_port);
  const std::string peer_url = "http://127.0.0.1:" + std::to_string(etcd_peer_port);
  pid_t etcd =
      spawn({"etcd", "--name", "fjord-dev", "--data-dir", (root / "etcd").string(), "--listen-client-urls", etcd_url,
             "--advertise-client-urls", etcd_url, "--listen-peer-urls", peer_url, "--initial-advertise-peer-urls",
             peer_url, "--initial-cluster", "fjord-dev=" + peer_url, "--logger=zap", "--log-level=error"},
            (root / "etcd.log").string());
  const std::string endpoint = "127.0.0.1:" + std::to_string(etcd_port);
  bool etcd_ready = wait_for(
      [&] {
        try {
          cluster::etcd::EtcdClient(endpoint, 500).get("/fjord/cluster");
          return true;
        } catch (const std::exception&) {
          return false;
        }
      },
      etcd, std::chrono::seconds(20));
  if (!etcd_ready) {
    spdlog::error("etcd did not start (is Debian's etcd-server installed? see {})", (root / "etcd.log").string());
    ::kill(etcd, SIGTERM);
    ::waitpid(etcd, nullptr, 0);
    return 1;
  }

  std::vector<pid_t> brokers;
  std::vector<std::vector<std::string>> broker_args;
  std::vector<int> ports;
  std::vector<int> admin_ports;
  auto broker_log = [&](size_t index) { return (root / ("broker-" + std::to_string(index + 1) + ".log")).string(); };
  for (int id = 1; id <= options.brokers; ++id) {
    const int port = first_free_port_except(9092, taken);
    taken.push_back(port);
    const int admin = first_free_port_except(9644, taken);
    taken.push_back(admin);
    ports.push_back(port);
    admin_ports.push_back(admin);
    const fs::path dir = root / ("broker-" + std::to_string(id));
    // Leaders go back to their preferred replicas within seconds of a restart, not Kafka's default five minutes,
    // so that a local cluster shows it; and all of them, not only once a tenth of a broker's are led elsewhere (a
    // partition that catches up after the others would stay led elsewhere).
    broker_args.push_back({executable_path(), "broker", "--node-id", std::to_string(id), "--data-dir", dir.string(),
                           "--listen", "127.0.0.1:" + std::to_string(port), "--admin-listen",
                           "127.0.0.1:" + std::to_string(admin), "--metadata", "etcd://" + endpoint, "--set",
                           "leader.imbalance.check.interval.seconds=5", "--set",
                           "leader.imbalance.per.broker.percentage=0"});
    brokers.push_back(spawn(broker_args.back(), broker_log(brokers.size())));
  }
  auto stop_all = [&] {
    for (pid_t b : brokers) ::kill(b, SIGTERM);
    for (pid_t b : brokers) ::waitpid(b, nullptr, 0);
    ::kill(etcd, SIGTERM);
    ::waitpid(etcd, nullptr, 0);
  };
  std::string bootstrap;
  for (size_t i = 0; i < brokers.size(); ++i) {
    const int port = ports[i];
    if (!wait_for([&] { return !port_free(port); }, brokers[i], std::chrono::seconds(30))) {
      spdlog::error("broker {} did not start; see {}", i + 1,
                    (root / ("broker-" + std::to_string(i + 1) + ".log")).string());
      stop_all();
      return 1;
    }
    bootstrap += (bootstrap.empty() ? "" : ",") + std::string("127.0.0.1:") + std::to_string(port);
  }
  // Every broker must know the others before a topic with three replicas can be created on any of them.
  for (size_t i = 0; i < brokers.size(); ++i) {
    const int port = ports[i];
    if (!wait_for([&] { return brokers_known_by(port) >= options.brokers; }, brokers[i], std::chrono::seconds(30))) {
      spdlog::error("broker {} does not see the whole cluster; see {}", i + 1,
                    (root / ("broker-" + std::to_string(i + 1) + ".log")).string());
      stop_all();
      return 1;
    }
  }
  std::printf("fjord dev: %d brokers and etcd, data in %s\n  bootstrap servers: %s\n  etcd: %s\n", options.brokers,
              options.data_dir.c_str(), bootstrap.c_str(), endpoint.c_str());
  for (size_t i = 0; i < brokers.size(); ++i) {
    std::printf("  broker %zu admin / metrics: http://127.0.0.1:%d/metrics\n", i + 1, admin_ports[i]);
  }
  std::fflush(stdout);

  // Ctrl-C and SIGTERM are waited for, not handled: the children are stopped in order afterwards.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  bool demo_ok = true;
  if (options.demo) demo_ok = run_demo(bootstrap, std::min(options.brokers, 3));
  if (options.demo && demo_ok) {
    demo_ok = run_example(options.example, bootstrap, std::min(options.brokers, 3), options.data_dir);
  }
  if (options.rolling_restart && demo_ok) {
    std::vector<RestartableBroker> restartable;
    for (size_t i = 0; i < brokers.size(); ++i) {
      RestartableBroker b;
      b.node_id = static_cast<int>(i + 1);
      b.log_path = broker_log(i);
      b.stop = [&brokers, i] {
        ::kill(brokers[i], SIGTERM);
        ::waitpid(brokers[i], nullptr, 0);
      };
      b.start = [&, i] {
        brokers[i] = spawn(broker_args[i], broker_log(i));
        const int port = ports[i];
        return wait_for([&] { return !port_free(port); }, brokers[i], std::chrono::seconds(30));
      };
      restartable.push_back(std::move(b));
    }
    demo_ok = run_rolling_restart(bootstrap, restartable);
  }
  if (!options.exit_after_demo) {
    std::printf("serving until Ctrl-C\n");
    std::fflush(stdout);
    int signal = 0;
    sigwait(&signals, &signal);
  } else {
    std::printf("demo done: stopping\n");
  }
  stop_all();
  return demo_ok ? 0 : 1;
}

}  // namespace

int run_dev(const DevOptions& options) {
  if (options.brokers < 1) {
    spdlog::error("--brokers {}: at least one", options.brokers);
    return 2;
  }
  if (options.rolling_restart && options.brokers < 3) {
    // With fewer, a broker away leaves fewer in-sync replicas than min.insync.replicas=2 asks for.
    spdlog::error("--rolling-restart: needs --brokers 3 or more");
    return 2;
  }
  if (options.secure && options.brokers > 1) {
    // The local cluster's etcd would need the dev user before its brokers could authenticate to each other; a
    // secured cluster is set up as README's "Between brokers" describes.
    spdlog::error("--secure: one broker only (fjord dev does not yet make a secured local cluster)");
    return 2;
  }
  if (options.brokers > 1) return run_local_cluster(options);
  BrokerOptions broker;
  broker.data_dir = options.data_dir;
  int kafka_port = first_free_port(9092);
  int admin_port = first_free_port(9644);
  broker.listen = "127.0.0.1:" + std::to_string(kafka_port);
  broker.admin_listen = "127.0.0.1:" + std::to_string(admin_port);
  DevSecurity security;
  std::map<std::string, std::string> client_settings;
  if (options.secure) {
    try {
      security = prepare_dev_security(options.data_dir);
    } catch (const std::exception& e) {
      spdlog::error("{}", e.what());
      return 1;
    }
    broker.sets = security.broker_sets(broker.listen);
    client_settings = security.librdkafka_settings();
  }
  std::thread demo;
  bool demo_ok = true;
  int code = run_broker(broker, [&](int port, int admin) {
    std::string bootstrap = "127.0.0.1:" + std::to_string(port);
    std::printf(
        "fjord dev: one broker, data in %s\n  bootstrap server: %s\n  admin / metrics:  http://127.0.0.1:%d/metrics\n",
        options.data_dir.c_str(), bootstrap.c_str(), admin);
    if (options.secure) {
      std::printf(
          "  security: TLS and SASL/SCRAM only (SASL_SSL); clients need these settings:\n"
          "    security.protocol=SASL_SSL\n    sasl.mechanism=SCRAM-SHA-512 (librdkafka: sasl.mechanisms)\n"
          "    sasl.username=%s\n    sasl.password=%s\n    ssl.ca.location=%s (Java: ssl.truststore.type=PEM, "
          "ssl.truststore.location)\n"
          "  the same as files: %s (Java, Kafka's tools), %s (librdkafka, kcat -F)\n",
          security.user.c_str(), security.password.c_str(), security.ca_file.c_str(),
          security.client_properties_file.c_str(), security.librdkafka_properties_file.c_str());
    }
    std::fflush(stdout);
    if (!options.demo) {
      std::printf("serving until Ctrl-C\n");
      std::fflush(stdout);
      return;
    }
    demo = std::thread([&, bootstrap] {
      demo_ok = run_demo(bootstrap, 1, client_settings);
      if (demo_ok && !options.example.empty() && options.secure) {
        std::printf("--example runs against a plaintext broker only for now\n");
        demo_ok = false;
      }
      if (demo_ok) demo_ok = run_example(options.example, bootstrap, 1, options.data_dir);
      std::printf(options.exit_after_demo ? "demo done: stopping\n" : "serving until Ctrl-C\n");
      std::fflush(stdout);
      if (options.exit_after_demo) std::raise(SIGTERM);
    });
  });
  if (demo.joinable()) demo.join();
  return code != 0 ? code : (demo_ok ? 0 : 1);
}

}  // namespace fjord::cli
