#include "chaos/verify.h"

#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

namespace fjord::chaos {
namespace {

using Timeline = std::map<int32_t, std::vector<int64_t>>;  // partition -> processing times, sorted

// The longest gap between consecutive processings of one partition that overlaps [from, to]; a partition not
// processed again by `to` has been paused since its last processing.
int64_t longest_gap(const std::vector<int64_t>& times, int64_t from, int64_t to) {
  auto it = std::upper_bound(times.begin(), times.end(), from);
  if (it == times.begin()) return 0;  // nothing processed before: the partition had not started
  int64_t previous = *std::prev(it);
  int64_t longest = 0;
  for (; it != times.end() && previous <= to; ++it) {
    longest = std::max(longest, *it - previous);
    previous = *it;
  }
  if (previous <= to) longest = std::max(longest, to - previous);
  return longest;
}

// The member slot whose process last processed the partition before `at`.
std::string owner_at(const std::vector<Delivery>& deliveries, int32_t partition, int64_t at) {
  std::string owner;
  int64_t latest = -1;
  for (const auto& d : deliveries) {
    if (d.partition == partition && d.at_ms <= at && d.at_ms >= latest) {
      latest = d.at_ms;
      owner = slot_of(d.instance);
    }
  }
  return owner;
}

std::vector<RebalanceEpisode> episodes_of(std::vector<RebalanceRecord> records, const Timeline& timeline,
                                          const VerifyOptions& options) {
  if (options.shutdown_ms > 0) {
    std::erase_if(records, [&](const RebalanceRecord& r) { return r.at_ms >= options.shutdown_ms; });
  }
  std::sort(records.begin(), records.end(), [](const auto& a, const auto& b) { return a.at_ms < b.at_ms; });
  // A member's last callbacks, revocations with no assignment after them, are its own close (librdkafka revokes
  // locally when a consumer closes), not the group rebalancing: what a close does to the group shows in the
  // callbacks of the members that stay.
  std::map<std::string, size_t> last_assignment;
  for (size_t i = 0; i < records.size(); ++i) {
    if (records[i].kind == "assigned") last_assignment[records[i].instance] = i;
  }
  std::vector<RebalanceRecord> kept;
  for (size_t i = 0; i < records.size(); ++i) {
    auto last = last_assignment.find(records[i].instance);
    if (records[i].kind != "assigned" && (last == last_assignment.end() || last->second < i)) continue;
    kept.push_back(records[i]);
  }
  records = std::move(kept);
  std::map<std::string, int64_t> first_callback;
  for (const auto& r : records) first_callback.try_emplace(r.instance, r.at_ms);
  // A group that forms while its members start one by one rebalances as each joins (twice per join, under
  // cooperative-sticky): that is forming, not a fault's doing.
  std::erase_if(records, [&](const RebalanceRecord& r) { return r.at_ms < options.formed_ms; });
  std::vector<RebalanceEpisode> out;
  for (size_t i = 0; i < records.size();) {
    size_t j = i + 1;
    while (j < records.size() && records[j].at_ms - records[j - 1].at_ms <= options.episode_gap_ms) ++j;
    std::set<std::string> instances;
    bool running_member_involved = false;
    int revoked = 0;
    for (size_t k = i; k < j; ++k) {
      instances.insert(records[k].instance);
      if (records[k].kind != "assigned") revoked += static_cast<int>(records[k].partitions.size());
      if (first_callback[records[k].instance] < records[i].at_ms) running_member_involved = true;
    }
    if (running_member_involved) {
      RebalanceEpisode e{records[i].at_ms, records[j - 1].at_ms, static_cast<int>(instances.size()), revoked, 0, 0};
      for (const auto& [partition, times] : timeline) {
        int64_t gap = longest_gap(times, e.start_ms, e.start_ms);
        e.max_pause_ms = std::max(e.max_pause_ms, gap);
        if (gap > options.pause_threshold_ms) ++e.paused_partitions;
      }
      out.push_back(e);
    }
    i = j;
  }
  return out;
}

}  // namespace

std::string slot_of(const std::string& instance) { return instance.substr(0, instance.find('#')); }

Verdict verify(uint64_t produced, const std::vector<Ack>& acks, const std::vector<Delivery>& deliveries,
               const std::vector<RebalanceRecord>& rebalances, const std::vector<Fault>& faults,
               const VerifyOptions& options) {
  Verdict v;
  v.produced = produced;
  v.acknowledged = acks.size();
  v.deliveries = deliveries.size();

  std::unordered_map<int64_t, const Ack*> acked;
  for (const auto& a : acks) acked[a.seq] = &a;
  std::unordered_map<int64_t, uint64_t> times_processed;
  std::map<int32_t, int64_t> highest_processed;  // partition -> highest offset processed
  Timeline timeline;
  for (const auto& d : deliveries) {
    ++times_processed[d.seq];
    if (d.absorbed) ++v.absorbed;
    auto& high = highest_processed.try_emplace(d.partition, -1).first->second;
    high = std::max(high, d.offset);
    timeline[d.partition].push_back(d.at_ms);
    auto it = acked.find(d.seq);
    // An acknowledgement without an offset (a later batch's success implied it) names nowhere to compare with.
    if (it != acked.end() && it->second->offset >= 0 &&
        (it->second->partition != d.partition || it->second->offset != d.offset)) {
      ++v.moved;
    }
  }
  for (auto& [partition, times] : timeline) std::sort(times.begin(), times.end());
  for (const auto& [seq, count] : times_processed) {
    v.duplicated += count - 1;
    if (acked.count(seq)) {
      ++v.processed;
    } else {
      ++v.processed_unacknowledged;
    }
  }
  for (const auto& a : acks) {
    if (times_processed.count(a.seq)) continue;
    ++v.lost;
    if (v.lost_examples.size() < 10) v.lost_examples.push_back(a);
    auto high = highest_processed.find(a.partition);
    if (high != highest_processed.end() && a.offset >= 0 && high->second > a.offset) ++v.skipped;
  }

  v.rebalances = episodes_of(rebalances, timeline, options);

  std::vector<Fault> ordered = faults;
  std::sort(ordered.begin(), ordered.end(), [](const auto& a, const auto& b) { return a.at_ms < b.at_ms; });
  for (size_t i = 0; i < ordered.size(); ++i) {
    FaultOutcome o{ordered[i]};
    const int64_t from = ordered[i].at_ms;
    const int64_t to = i + 1 < ordered.size() ? ordered[i + 1].at_ms : std::max(options.end_ms, from);
    for (const auto& e : v.rebalances) {
      if (e.start_ms >= from && e.start_ms < to) {
        ++o.rebalances;
        o.revoked_partitions += e.revoked_partitions;
      }
    }
    const std::string slot = slot_of(ordered[i].instance);
    for (const auto& [partition, times] : timeline) {
      int64_t gap = longest_gap(times, from, to);
      o.max_pause_ms = std::max(o.max_pause_ms, gap);
      if (gap > options.pause_threshold_ms) ++o.paused_partitions;
      if (slot.empty() || owner_at(deliveries, partition, from) != slot) {
        o.others_max_pause_ms = std::max(o.others_max_pause_ms, gap);
      }
    }
    if (o.fault.kind == "kill") {
      for (const auto& d : deliveries) {
        if (d.instance == o.fault.instance && o.fault.batch_started_ms > 0 && d.at_ms >= o.fault.batch_started_ms &&
            d.at_ms <= from) {
          ++o.uncommitted_at_kill;
        }
      }
      ++v.kills;
      if (o.uncommitted_at_kill > 0) ++v.kills_mid_batch;
      v.uncommitted_at_kills += o.uncommitted_at_kill;
    }
    v.faults.push_back(o);
  }
  return v;
}

}  // namespace fjord::chaos
