#include "server/client_activity.h"

#include <algorithm>

namespace fjord::server {

ClientUse& ClientActivity::use_of(const ClientIdentity& client, int64_t now_ms) {
  auto it = clients_.find(client);
  if (it == clients_.end()) {
    if (clients_.size() >= kMaxClients) {
      auto oldest = std::min_element(clients_.begin(), clients_.end(), [](const auto& a, const auto& b) {
        return a.second.last_seen_ms < b.second.last_seen_ms;
      });
      clients_.erase(oldest);
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
  use.groups[group] = std::move(use_in_group);
}

void ClientActivity::seen(const ClientIdentity& client, int64_t now_ms) {
  if (auto it = clients_.find(client); it != clients_.end()) it->second.last_seen_ms = now_ms;
}

const std::map<ClientIdentity, ClientUse>& ClientActivity::clients(int64_t now_ms) {
  std::erase_if(clients_, [&](const auto& entry) { return now_ms - entry.second.last_seen_ms > forget_after_ms_; });
  return clients_;
}

}  // namespace fjord::server
