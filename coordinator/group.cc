#include "coordinator/group.h"

#include <random>

namespace fjord::coordinator {

std::string new_member_id(const std::string& prefix) {
  static thread_local std::mt19937_64 random{std::random_device{}()};
  static const char* hex = "0123456789abcdef";
  std::string id = prefix + "-";
  uint64_t a = random(), b = random();
  for (int i = 0; i < 32; ++i) {
    uint64_t& word = i < 16 ? a : b;
    id += hex[word & 0xF];
    word >>= 4;
    if (i == 7 || i == 11 || i == 15 || i == 19) id += '-';
  }
  return id;
}

const char* state_name(GroupState state) {
  switch (state) {
    case GroupState::kEmpty:
      return "Empty";
    case GroupState::kPreparingRebalance:
      return "PreparingRebalance";
    case GroupState::kCompletingRebalance:
      return "CompletingRebalance";
    case GroupState::kStable:
      return "Stable";
    case GroupState::kDead:
      return "Dead";
  }
  return "Dead";
}

const protocol::Bytes* Member::metadata_for(const std::string& protocol) const {
  for (const auto& [name, metadata] : protocols) {
    if (name == protocol) return &metadata;
  }
  return nullptr;
}

Member* Group::find(const std::string& member_id) {
  auto it = members.find(member_id);
  return it == members.end() ? nullptr : &it->second;
}

}  // namespace fjord::coordinator
