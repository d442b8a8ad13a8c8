#include "storage/leader_epochs.h"

#include <charconv>

namespace fjord::storage {
namespace {
constexpr int kFormatVersion = 0;
}

bool LeaderEpochs::assign(int32_t epoch, int64_t start_offset) {
  if (epoch < 0) return false;
  if (!entries_.empty() && epoch <= entries_.back().epoch) return false;
  // A new epoch that starts where the previous one started wrote nothing under that one: it replaces it.
  while (!entries_.empty() && entries_.back().start_offset >= start_offset) entries_.pop_back();
  entries_.push_back({epoch, start_offset});
  return true;
}

EpochEndOffset LeaderEpochs::end_offset_for(int32_t epoch, int64_t log_end_offset) const {
  EpochEndOffset result;
  for (size_t i = 0; i < entries_.size(); ++i) {
    if (entries_[i].epoch > epoch) break;
    result.epoch = entries_[i].epoch;
    result.end_offset = i + 1 < entries_.size() ? entries_[i + 1].start_offset : log_end_offset;
  }
  return result;
}

bool LeaderEpochs::truncate_from_end(int64_t end_offset) {
  bool changed = false;
  while (!entries_.empty() && entries_.back().start_offset >= end_offset) {
    entries_.pop_back();
    changed = true;
  }
  return changed;
}

std::vector<uint8_t> LeaderEpochs::serialize() const {
  std::string text = std::to_string(kFormatVersion) + "\n" + std::to_string(entries_.size()) + "\n";
  for (const auto& e : entries_) text += std::to_string(e.epoch) + " " + std::to_string(e.start_offset) + "\n";
  return {text.begin(), text.end()};
}

std::optional<LeaderEpochs> LeaderEpochs::parse(std::span<const uint8_t> bytes) {
  const char* p = reinterpret_cast<const char*>(bytes.data());
  const char* end = p + bytes.size();
  auto number = [&](auto& out, char terminator) {
    auto [next, ec] = std::from_chars(p, end, out);
    if (ec != std::errc() || next == end || *next != terminator) return false;
    p = next + 1;
    return true;
  };
  int version = -1;
  size_t count = 0;
  if (!number(version, '\n') || version != kFormatVersion || !number(count, '\n')) return std::nullopt;
  LeaderEpochs epochs;
  for (size_t i = 0; i < count; ++i) {
    EpochStart e{};
    if (!number(e.epoch, ' ') || !number(e.start_offset, '\n')) return std::nullopt;
    if (!epochs.entries_.empty() &&
        (e.epoch <= epochs.entries_.back().epoch || e.start_offset < epochs.entries_.back().start_offset)) {
      return std::nullopt;
    }
    epochs.entries_.push_back(e);
  }
  if (p != end) return std::nullopt;
  return epochs;
}

}  // namespace fjord::storage
