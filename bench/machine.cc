#include "bench/machine.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <librdkafka/rdkafka.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

#include "bench/harness.h"

namespace fjord::bench {
namespace {

double loopback_megabytes_per_second() {
  int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(listener, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t n = sizeof(a);
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&a), &n);
  ::listen(listener, 1);
  std::atomic<size_t> received{0};
  std::thread reader([&] {
    int fd = ::accept(listener, nullptr, nullptr);
    std::vector<char> buf(1 << 20);
    ssize_t r;
    while ((r = ::recv(fd, buf.data(), buf.size(), 0)) > 0) received += static_cast<size_t>(r);
    ::close(fd);
  });
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  std::vector<char> chunk(64 * 1024, 'x');
  auto started = Clock::now();
  while (seconds_since(started) < 1.0) ::send(fd, chunk.data(), chunk.size(), MSG_NOSIGNAL);
  ::close(fd);
  reader.join();
  ::close(listener);
  return static_cast<double>(received) / seconds_since(started) / 1e6;
}

}  // namespace

nlohmann::json machine_report(const std::string& scratch_directory, int repeat) {
  nlohmann::json m;
  m["cores"] = std::thread::hardware_concurrency();
  m["librdkafka"] = rd_kafka_version_str();
  m["repeat"] = repeat;
  m["loopback_MBps"] = loopback_megabytes_per_second();
  std::string path = scratch_directory + "/disk-probe";
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<char> mib(1 << 20, 'x');
  auto started = Clock::now();
  size_t written = 0;
  while (seconds_since(started) < 1.5) {
    written += static_cast<size_t>(::write(fd, mib.data(), mib.size()));
    ::fdatasync(fd);
  }
  m["disk_fsync_1MiB_MBps"] = static_cast<double>(written) / seconds_since(started) / 1e6;
  std::vector<double> latencies;
  for (int i = 0; i < 200; ++i) {
    auto t = Clock::now();
    if (::write(fd, mib.data(), 4096) < 0) break;
    ::fdatasync(fd);
    latencies.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t).count());
  }
  std::sort(latencies.begin(), latencies.end());
  m["disk_fsync_4KiB_p50_ms"] = percentile(latencies, 0.5);
  ::close(fd);
  ::unlink(path.c_str());
  return m;
}

}  // namespace fjord::bench
