#include "chaos/run.h"

#include <signal.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "chaos/child_process.h"
#include "chaos/journal.h"
#include "chaos/report.h"
#include "chaos/verify.h"
#include "client/admin.h"
#include "client/producer.h"

namespace fjord::chaos {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// One member process and what its stdout says about the batch it is processing.
struct Member {
  std::string slot;
  std::string instance;
  std::unique_ptr<ChildProcess> process;
  std::thread reader;
  std::atomic<int64_t> batch_started_ms{0};  // 0: not in a batch
  std::atomic<int> batch_size{0};
  std::atomic<uint64_t> batches{0};
  std::atomic<uint64_t> assignments{0};      // assignment callbacks: it is in the group
  std::atomic<int64_t> last_callback_ms{0};  // its latest assignment callback of any kind
};

class Run {
 public:
  explicit Run(const ChaosOptions& o) : o_(o), random_(std::random_device{}()) {}

  int execute();

 private:
  void start_member(const std::string& slot);
  // Stops a member with `signo` and waits for it to exit; returns when the fault was injected.
  int64_t stop_member(const std::string& slot, int signo);
  void produce();
  void inject_faults();
  void inject(const std::string& kind, size_t round);
  // SIGKILLs the member partway through a batch; returns when, and when that batch started (0: none was running).
  std::pair<int64_t, int64_t> kill_mid_batch(const std::string& slot);
  bool sleep_unless_done(milliseconds d);
  // Waits until every member is in the group and no member has been called back for a while; returns when.
  int64_t wait_until_group_formed();
  bool all_acknowledged_processed(Journal& journal);
  std::vector<std::string> base_slots() const;

  ChaosOptions o_;
  std::string journal_path_;
  std::mt19937 random_;
  std::map<std::string, std::unique_ptr<Member>> members_;
  std::map<std::string, int> incarnations_;
  std::mutex mutex_;  // acks_, faults_, produced_
  std::vector<Ack> acks_;
  std::vector<Fault> faults_;
  uint64_t produced_ = 0;
  std::atomic<bool> production_done_{false};
  std::condition_variable_any done_cv_;
  std::mutex done_mutex_;
  std::atomic<int64_t> formed_ms_{0};
};

std::vector<std::string> Run::base_slots() const {
  std::vector<std::string> out;
  for (int i = 1; i <= o_.members; ++i) out.push_back("member-" + std::to_string(i));
  return out;
}

void Run::start_member(const std::string& slot) {
  auto m = std::make_unique<Member>();
  m->slot = slot;
  m->instance = slot + "#" + std::to_string(++incarnations_[slot]);
  std::vector<std::string> argv = {self_executable(),
                                   "chaos-member",
                                   "--bootstrap-server",
                                   o_.bootstrap,
                                   "--group",
                                   o_.group,
                                   "--topic",
                                   o_.topic,
                                   "--journal",
                                   journal_path_,
                                   "--instance",
                                   m->instance,
                                   "--group-protocol",
                                   o_.group_protocol,
                                   "--strategy",
                                   o_.strategy,
                                   "--session-timeout-ms",
                                   std::to_string(o_.session_timeout_ms),
                                   "--max-poll-interval-ms",
                                   std::to_string(o_.max_poll_interval_ms),
                                   "--process-ms",
                                   std::to_string(o_.process_ms),
                                   "--batch",
                                   std::to_string(o_.max_batch)};
  if (!o_.static_membership) argv.push_back("--dynamic");
  if (o_.auto_commit) argv.push_back("--auto-commit");
  for (const auto& kv : o_.consumer_properties) {
    argv.push_back("--consumer-property");
    argv.push_back(kv);
  }
  if (!o_.command_config.empty()) {
    argv.push_back("--command-config");
    argv.push_back(o_.command_config);
  }
  m->process = std::make_unique<ChildProcess>(argv, o_.work_dir + "/" + slot + ".log");
  Member* raw = m.get();
  m->reader = std::thread([raw] {
    FILE* in = ::fdopen(::dup(raw->process->stdout_fd()), "r");
    char line[256];
    while (in && std::fgets(line, sizeof(line), in)) {
      int n = 0;
      if (std::sscanf(line, "batch %d", &n) == 1) {
        raw->batch_size = n;
        raw->batch_started_ms = wall_ms();
      } else if (const std::string_view l(line);
                 l.starts_with("assigned") || l.starts_with("revoked") || l.starts_with("lost")) {
        raw->last_callback_ms = wall_ms();
        if (l.starts_with("assigned")) ++raw->assignments;
      } else if (std::string_view(line).starts_with("done")) {
        raw->batch_started_ms = 0;
        ++raw->batches;
      }
    }
    raw->batch_started_ms = 0;
    if (in) std::fclose(in);
  });
  members_[slot] = std::move(m);
}

int64_t Run::stop_member(const std::string& slot, int signo) {
  auto it = members_.find(slot);
  if (it == members_.end()) return wall_ms();
  int64_t at = wall_ms();
  it->second->process->signal(signo);
  // A member closing cleanly commits and leaves within a few seconds; past the session it is killed.
  if (!it->second->process->wait(milliseconds(o_.session_timeout_ms + 20000))) {
    spdlog::warn("chaos: {} did not stop on signal {}; killing it", it->second->instance, signo);
    it->second->process->signal(SIGKILL);
    it->second->process->wait(milliseconds(10000));
  }
  it->second->reader.join();
  members_.erase(it);
  return at;
}

std::pair<int64_t, int64_t> Run::kill_mid_batch(const std::string& slot) {
  Member& m = *members_.at(slot);
  // Wait for a batch to start, then strike partway through it: the records it has processed are not yet committed.
  const auto deadline = Clock::now() + std::chrono::seconds(15);
  while (Clock::now() < deadline) {
    int64_t started = m.batch_started_ms.load();
    if (started == 0) {
      std::this_thread::sleep_for(milliseconds(1));
      continue;
    }
    int64_t expected_ms = static_cast<int64_t>(m.batch_size.load()) * o_.process_ms;
    std::uniform_int_distribution<int64_t> fraction(20, 70);
    int64_t strike = started + std::max<int64_t>(1, expected_ms * fraction(random_) / 100);
    while (wall_ms() < strike) std::this_thread::sleep_for(milliseconds(1));
    if (m.batch_started_ms.load() == started) break;  // still in that batch
  }
  const int64_t batch_started = m.batch_started_ms.load();
  const int64_t at = wall_ms();
  m.process->signal(SIGKILL);
  m.process->wait(milliseconds(10000));
  m.reader.join();
  members_.erase(slot);
  return {at, batch_started};
}

bool Run::sleep_unless_done(milliseconds d) {
  std::unique_lock lock(done_mutex_);
  return !done_cv_.wait_for(lock, d, [this] { return production_done_.load(); });
}

void Run::inject(const std::string& kind, size_t round) {
  const auto slots = base_slots();
  const std::string slot = slots[round % slots.size()];
  auto record = [&](const std::string& k, const std::string& instance, int64_t at, int64_t batch_started = 0) {
    std::lock_guard lock(mutex_);
    faults_.push_back({k, instance, at, batch_started});
    spdlog::info("chaos: {} {}", k, instance.empty() ? "" : instance);
  };
  if (kind == "kill") {
    std::string instance = members_.at(slot)->instance;
    auto [at, batch_started] = kill_mid_batch(slot);
    record(kind, instance, at, batch_started);
    std::this_thread::sleep_for(milliseconds(o_.restart_delay_ms));
    start_member(slot);
  } else if (kind == "restart") {
    std::string instance = members_.at(slot)->instance;
    record(kind, instance, stop_member(slot, SIGTERM));
    std::this_thread::sleep_for(milliseconds(o_.restart_delay_ms));
    start_member(slot);
  } else if (kind == "rolling") {
    for (const auto& s : slots) {
      std::string instance = members_.at(s)->instance;
      record(kind, instance, stop_member(s, SIGTERM));
      std::this_thread::sleep_for(milliseconds(o_.restart_delay_ms));
      start_member(s);
      // Let it rejoin and process before the next one goes, as a rolling deploy waits for readiness.
      const auto deadline = Clock::now() + std::chrono::seconds(30);
      while (members_.at(s)->batches.load() == 0 && Clock::now() < deadline) {
        std::this_thread::sleep_for(milliseconds(50));
      }
    }
  } else if (kind == "scale") {
    const int extra = std::max(1, o_.partitions - o_.members + 1);
    record("scale-up", "", wall_ms());
    for (int i = 1; i <= extra; ++i) start_member("extra-" + std::to_string(i));
    // As an autoscaler waits for readiness: every new member in the group, then a while at that size. A member
    // of the consumer protocol given nothing hears nothing (no empty assignment is announced), so there the wait
    // is for as many new members with partitions as the partitions leave room for.
    const int ready_needed =
        o_.group_protocol == "consumer" ? std::max(0, std::min(extra, o_.partitions - o_.members)) : extra;
    const auto deadline = Clock::now() + std::chrono::seconds(60);
    auto ready = [&] {
      int with_partitions = 0;
      for (int i = 1; i <= extra; ++i)
        with_partitions += members_.at("extra-" + std::to_string(i))->assignments.load() > 0;
      return with_partitions >= ready_needed;
    };
    while (!ready() && Clock::now() < deadline) std::this_thread::sleep_for(milliseconds(50));
    sleep_unless_done(milliseconds(static_cast<int64_t>(o_.fault_interval_s * 500)));
    record("scale-down", "", wall_ms());
    for (int i = 1; i <= extra; ++i) stop_member("extra-" + std::to_string(i), SIGTERM);
  } else if (kind == "broker") {
    record(kind, "", wall_ms());
    int status = std::system(o_.broker_command.c_str());
    if (status != 0) spdlog::warn("chaos: broker command exited with {}", status);
  }
}

int64_t Run::wait_until_group_formed() {
  // Members start together but join one by one, and each join rebalances the group (Kafka also holds the first
  // join back by group.initial.rebalance.delay.ms). A fault injected before the group is quiet would be measured
  // against rebalances it did not cause.
  constexpr int64_t kQuietMs = 2000;
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  while (Clock::now() < deadline) {
    int64_t latest = 0;
    bool all_in = true;
    for (const auto& [slot, member] : members_) {
      all_in = all_in && member->assignments.load() > 0;
      latest = std::max(latest, member->last_callback_ms.load());
    }
    if (all_in && wall_ms() - latest >= kQuietMs) return latest + 1;
    if (!sleep_unless_done(milliseconds(50))) break;
  }
  spdlog::warn("chaos: the group had not settled when faults began");
  return wall_ms();
}

void Run::inject_faults() {
  const int64_t started = wall_ms();
  formed_ms_ = wait_until_group_formed();
  if (o_.faults.empty()) return;
  // The first fault comes one interval into the run, or as soon as the group has formed if that took longer.
  const int64_t first_wait =
      std::max<int64_t>(0, started + static_cast<int64_t>(o_.fault_interval_s * 1000) - wall_ms());
  for (size_t round = 0;; ++round) {
    const int64_t wait = round == 0 ? first_wait : static_cast<int64_t>(o_.fault_interval_s * 1000);
    if (!sleep_unless_done(milliseconds(wait))) return;
    const std::string& kind = o_.faults[round % o_.faults.size()];
    inject(kind, round);
  }
}

void Run::produce() {
  client::ProducerSettings settings;
  settings.bootstrap_servers = o_.bootstrap;
  settings.properties = o_.client_properties;
  settings.properties["linger.ms"] = "5";
  client::Producer producer(settings);
  const std::string prefix = "chaos-" + o_.topic + "-";
  const auto start = Clock::now();
  const auto end = start + milliseconds(static_cast<int64_t>(o_.duration_s * 1000));
  int64_t seq = 0;
  while (Clock::now() < end) {
    // Paced: by now, rate * elapsed records should have been sent.
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    while (seq < static_cast<int64_t>(elapsed * o_.rate)) {
      const int64_t s = seq++;
      producer.send(o_.topic, std::to_string(s), prefix + std::to_string(s),
                    [this, s](const client::DeliveryReport& r) {
                      if (!r.ok()) return;
                      std::lock_guard lock(mutex_);
                      acks_.push_back({s, r.partition, r.offset});
                    });
      std::lock_guard lock(mutex_);
      ++produced_;
    }
    std::this_thread::sleep_for(milliseconds(5));
  }
  if (!producer.flush(std::chrono::seconds(60))) spdlog::warn("chaos: some records were never acknowledged");
}

bool Run::all_acknowledged_processed(Journal& journal) {
  const std::set<int64_t> processed = journal.processed_sequences();
  std::lock_guard lock(mutex_);
  for (const auto& a : acks_) {
    if (!processed.count(a.seq)) return false;
  }
  return true;
}

int Run::execute() {
  const int64_t started = wall_ms();
  if (o_.topic.empty()) o_.topic = "chaos-" + std::to_string(started);
  if (o_.group.empty()) o_.group = o_.topic;
  const bool own_work_dir = o_.work_dir.empty();
  if (own_work_dir) {
    std::string pattern = (std::filesystem::temp_directory_path() / "fjord-chaos-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) throw std::runtime_error("cannot create a work folder");
    o_.work_dir = pattern;
  }
  std::filesystem::create_directories(o_.work_dir);
  journal_path_ = o_.work_dir + "/journal.db";
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(journal_path_ + suffix);
  Journal journal(journal_path_);

  {
    client::AdminClient admin(o_.bootstrap, o_.client_properties);
    admin.create_topics({{o_.topic, o_.partitions, o_.replication_factor, {}}}, /*exist_ok=*/true);
  }
  std::fprintf(stderr, "chaos: topic %s, group %s, %d members, %.0f s at %d records/s; work folder %s\n",
               o_.topic.c_str(), o_.group.c_str(), o_.members, o_.duration_s, o_.rate, o_.work_dir.c_str());
  for (const auto& slot : base_slots()) start_member(slot);

  std::thread faults([this] { inject_faults(); });
  produce();
  const int64_t production_end = wall_ms();
  {
    std::lock_guard lock(done_mutex_);
    production_done_ = true;
  }
  done_cv_.notify_all();
  faults.join();

  // Drain: let the group process everything acknowledged (or give up at the drain timeout).
  const auto drain_deadline = Clock::now() + milliseconds(static_cast<int64_t>(o_.drain_timeout_s * 1000));
  bool drained = all_acknowledged_processed(journal);
  while (!drained && Clock::now() < drain_deadline) {
    std::this_thread::sleep_for(milliseconds(500));
    drained = all_acknowledged_processed(journal);
  }
  if (!drained) {
    spdlog::warn("chaos: after {:.0f} s of draining some acknowledged records are still unprocessed",
                 o_.drain_timeout_s);
  }
  const int64_t shutdown = wall_ms();
  std::vector<std::string> slots;
  for (const auto& [slot, member] : members_) slots.push_back(slot);
  for (const auto& slot : slots) stop_member(slot, SIGTERM);

  RunSettings settings{o_.bootstrap,
                       o_.topic,
                       o_.group,
                       o_.partitions,
                       o_.members,
                       o_.group_protocol,
                       o_.strategy,
                       o_.static_membership,
                       o_.auto_commit,
                       o_.session_timeout_ms,
                       started,
                       o_.duration_s,
                       ""};
  for (const auto& f : o_.faults) settings.faults += (settings.faults.empty() ? "" : ",") + f;
  Verdict verdict;
  {
    std::lock_guard lock(mutex_);
    verdict = verify(produced_, acks_, journal.deliveries(), journal.rebalances(), faults_,
                     {o_.pause_threshold_ms, 1000, production_end, shutdown, formed_ms_.load()});
  }
  const size_t ledger = journal.ledger_rows();
  if (ledger != verdict.processed + verdict.processed_unacknowledged) {
    std::fprintf(stderr, "chaos: the ledger holds %zu events for %lu distinct records processed\n", ledger,
                 static_cast<unsigned long>(verdict.processed + verdict.processed_unacknowledged));
  }
  auto json = report_json(settings, verdict);
  json["work_dir"] = o_.work_dir;
  json["group_formed_after_ms"] = formed_ms_.load() - started;
  json["ledger_rows"] = ledger;
  if (!o_.json_out.empty()) std::ofstream(o_.json_out) << json.dump(2) << "\n";
  if (o_.format == "json") {
    std::printf("%s\n", json.dump(2).c_str());
  } else {
    std::printf("%s", report_text(settings, verdict).c_str());
  }
  if (verdict.passed() && own_work_dir) std::filesystem::remove_all(o_.work_dir);
  return verdict.passed() ? 0 : 1;
}

}  // namespace

int run_chaos(const ChaosOptions& options) try {
  spdlog::set_default_logger(spdlog::stderr_color_mt("chaos"));  // stdout is the report's
  if (options.members < 1 || options.partitions < 1 || options.rate < 1) {
    std::fprintf(stderr, "error: --members, --partitions and --rate must be at least 1\n");
    return 2;
  }
  for (const auto& f : options.faults) {
    static const std::set<std::string> known = {"kill", "restart", "rolling", "scale", "broker"};
    if (!known.count(f)) {
      std::fprintf(stderr, "error: unknown fault %s (kill, restart, rolling, scale, broker)\n", f.c_str());
      return 2;
    }
    if (f == "broker" && options.broker_command.empty()) {
      std::fprintf(stderr, "error: the broker fault needs --broker-command\n");
      return 2;
    }
  }
  for (const auto& kv : options.consumer_properties) {
    if (kv.find('=') == std::string::npos) {
      std::fprintf(stderr, "error: --consumer-property %s: expected key=value\n", kv.c_str());
      return 2;
    }
  }
  Run run(options);
  return run.execute();
} catch (const std::exception& e) {
  std::fprintf(stderr, "error: %s\n", e.what());
  return 2;
}

}  // namespace fjord::chaos
