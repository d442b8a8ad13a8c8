// What the broker has seen each client do, for the production-checklist audit (observe/audit.h): per client —
// its client.id, the software it named in ApiVersions (v3+), and its address — the acks it produced with per
// topic, whether its batches carried a producer id (idempotence) and were transactional, and per group the
// assignment protocols it offered on joining, its group.instance.id and timeouts, and when each member committed.
// Recorded by the handlers on the event loop; only the latest state is kept, so memory follows the number of live
// clients (at most kMaxClients, the least recently seen making room) and a client gone for longer than the expiry is
// forgotten.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace fjord::server {

// The software a connection named in ApiVersions v3+ (empty before, and for clients that never say).
struct ClientSoftware {
  std::string name;
  std::string version;
};

struct ClientIdentity {
  std::string client_id;
  std::string software_name;
  std::string software_version;
  std::string host;
  auto operator<=>(const ClientIdentity&) const = default;
};

struct TopicProduceUse {
  std::set<int16_t> acks;            // every acks value seen
  bool with_producer_id = false;     // some batch carried a producer id (idempotent or transactional)
  bool without_producer_id = false;  // some batch did not: retries may duplicate
  bool transactional = false;
  int64_t last_seen_ms = 0;
};

// When one member's offset commits came: the last kKept of them, oldest overwritten first. The audit reads the
// commit pattern from their rhythm (observe/audit.h: classify_commits).
class CommitTimes {
 public:
  static constexpr size_t kKept = 32;
  void add(int64_t at_ms);
  // The kept times, oldest first.
  std::vector<int64_t> recent() const;
  size_t total() const { return total_; }
  int64_t last_ms() const { return total_ == 0 ? 0 : at_ms_[(total_ - 1) % kKept]; }

 private:
  std::array<int64_t, kKept> at_ms_{};
  size_t total_ = 0;
};

struct GroupMemberUse {
  std::string protocol_type;
  std::vector<std::string> protocols;  // assignment strategies offered, in the member's order of preference
  std::optional<std::string> group_instance_id;
  int32_t session_timeout_ms = 0;
  int32_t rebalance_timeout_ms = 0;
  int64_t last_seen_ms = 0;
  // Offset commits by member id ("" for a consumer committing outside membership): a client id is often shared by
  // several consumers of one process, whose rhythms must not be mixed. At most kMaxCommittersPerGroup, the one
  // that committed least recently making room; kept when the member joins again.
  std::map<std::string, CommitTimes> commits;
};

struct ClientUse {
  std::map<std::string, TopicProduceUse> produced;  // by topic
  std::map<std::string, GroupMemberUse> groups;     // by group
  int64_t last_seen_ms = 0;
};

class ClientActivity {
 public:
  static constexpr size_t kMaxClients = 10'000;
  static constexpr size_t kMaxEntriesPerClient = 1'000;  // topics produced to, groups joined
  static constexpr size_t kMaxCommittersPerGroup = 64;
  // Commit histories across every client (a few hundred bytes each): client ids and member ids are the clients'
  // to choose, so only a total bounds what they can make the broker keep. Past it, new committers go unrecorded.
  static constexpr size_t kMaxCommitHistories = 100'000;

  explicit ClientActivity(int64_t forget_after_ms) : forget_after_ms_(forget_after_ms) {}

  void produced(const ClientIdentity& client, const std::string& topic, int16_t acks, bool with_producer_id,
                bool transactional, int64_t now_ms);
  void joined(const ClientIdentity& client, const std::string& group, GroupMemberUse use, int64_t now_ms);
  // An OffsetCommit with at least one offset, from a member (or a consumer outside membership, member id "").
  void committed(const ClientIdentity& client, const std::string& group, const std::string& member_id, int64_t now_ms);
  // A sign of life (a heartbeat) from a client already known: it is not forgotten while it lives.
  void seen(const ClientIdentity& client, int64_t now_ms);
  // Every client seen within the expiry (older ones are forgotten first).
  const std::map<ClientIdentity, ClientUse>& clients(int64_t now_ms);
  size_t commit_histories() const { return commit_histories_; }

 private:
  ClientUse& use_of(const ClientIdentity& client, int64_t now_ms);
  void forget(std::map<ClientIdentity, ClientUse>::iterator client);

  const int64_t forget_after_ms_;
  std::map<ClientIdentity, ClientUse> clients_;
  size_t commit_histories_ = 0;  // CommitTimes held in all of clients_
};

}  // namespace fjord::server
