#include "server/client_activity.h"

#include <algorithm>

namespace fjord::server {

void CommitTimes::add(int64_t at_ms) {
  at_ms_[total_ % kKept] = at_ms;
  ++total_;
}

std::vector<int64_t> CommitTimes::recent() const {
  std::vector<int64_t> times;
  const size_t kept = std::min(total_, kKept);
  for (size_t i = total_ - kept; i < total_; ++i) times.push_back(at_ms_[i % kKept]);
  return times;
}

void ClientActivity::forget(std::map<ClientIdentity, ClientUse>::iterator client) {
  for (const auto& [group, use] : client->second.groups) commit_histories_ -= use.commits.size();
  clients_.erase(client);
}

ClientUse& ClientActivity::use_of(const ClientIdentity& client, int64_t now_ms) {
  auto it = clients_.find(client);
  if (it == clients_.end()) {
    if (clients_.size() >= kMaxClients) {
      auto oldest = std::min_element(clients_.begin(), clients_.end(), [](const auto& a, const auto& b) {
        return a.second.last_seen_ms < b.second.last_seen_ms;
      });
      forget(oldest);
    }
    it = clients_.emplace(client, ClientUse{}).first;
  }
  it->second.last_seen_ms = now_ms;
  return it->second;
}

void ClientActivity::produced(const ClientIdentity& client, const std::string& topic, int16_t acks,
                              bool with_producer_id, bool transactional, int64_t now_ms) {
  ClientUse& use = use_of(client, now_ms);
  auto it = use.produced.find(topic);
  if (it == use.produced.end()) {
    if (use.produced.size() >= kMaxEntriesPerClient) return;
    it = use.produced.emplace(topic, TopicProduceUse{}).first;
  }
  TopicProduceUse& t = it->second;
  t.acks.insert(acks);
  (with_producer_id ? t.with_producer_id : t.without_producer_id) = true;
  t.transactional = t.transactional || transactional;
  t.last_seen_ms = now_ms;
}

void ClientActivity::joined(const ClientIdentity& client, const std::string& group, GroupMemberUse use_in_group,
                            int64_t now_ms) {
  ClientUse& use = use_of(client, now_ms);
  if (!use.groups.contains(group) && use.groups.size() >= kMaxEntriesPerClient) return;
  use_in_group.last_seen_ms = now_ms;
  GroupMemberUse& kept = use.groups[group];
  use_in_group.commits = std::move(kept.commits);
  kept = std::move(use_in_group);
}

void ClientActivity::committed(const ClientIdentity& client, const std::string& group, const std::string& member_id,
                               int64_t now_ms) {
  ClientUse& use = use_of(client, now_ms);
  auto it = use.groups.find(group);
  if (it == use.groups.end()) {
    // A consumer committing without having joined here (assigned partitions, or a group joined before a restart).
    if (use.groups.size() >= kMaxEntriesPerClient) return;
    it = use.groups.emplace(group, GroupMemberUse{}).first;
  }
  GroupMemberUse& in_group = it->second;
  in_group.last_seen_ms = now_ms;
  auto history = in_group.commits.find(member_id);
  if (history == in_group.commits.end()) {
    if (in_group.commits.size() >= kMaxCommittersPerGroup) {
      in_group.commits.erase(
          std::min_element(in_group.commits.begin(), in_group.commits.end(),
                           [](const auto& a, const auto& b) { return a.second.last_ms() < b.second.last_ms(); }));
      --commit_histories_;
    }
    if (commit_histories_ >= kMaxCommitHistories) return;
    history = in_group.commits.emplace(member_id, CommitTimes{}).first;
    ++commit_histories_;
  }
  history->second.add(now_ms);
}

void ClientActivity::seen(const ClientIdentity& client, int64_t now_ms) {
  if (auto it = clients_.find(client); it != clients_.end()) it->second.last_seen_ms = now_ms;
}

const std::map<ClientIdentity, ClientUse>& ClientActivity::clients(int64_t now_ms) {
  for (auto it = clients_.begin(); it != clients_.end();) {
    auto next = std::next(it);
    if (now_ms - it->second.last_seen_ms > forget_after_ms_) forget(it);
    it = next;
  }
  return clients_;
}

}  // namespace fjord::server
