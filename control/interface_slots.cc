#include "control/interface_slots.h"

#include <set>

#include "absl/strings/str_cat.h"

namespace sgate::control {

using dataplane::kMaxInterfaceSlots;
using dataplane::kNoSlot;

InterfaceSlots::InterfaceSlots() : slots_(kMaxInterfaceSlots) {
  // Without a running program (tests), nothing holds a retired slot.
  hooks_.flows = [](uint16_t) { return uint64_t{0}; };
  hooks_.mark = [] { return uint64_t{0}; };
  hooks_.written_since = [](uint64_t) { return true; };
  hooks_.reset = [](uint16_t) {};
}

uint16_t InterfaceSlots::TakeFreeSlot() {
  if (!free_.empty()) {
    uint16_t slot = free_.back();
    free_.pop_back();
    return slot;
  }
  if (used_ < kMaxInterfaceSlots) return static_cast<uint16_t>(used_++);
  for (uint32_t s = 0; s < kMaxInterfaceSlots; ++s) {
    Entry& e = slots_[s];
    if (e.state == State::kRetired && hooks_.flows(s) == 0 &&
        hooks_.written_since(e.retired_mark)) {
      hooks_.reset(static_cast<uint16_t>(s));
      by_name_.erase(e.name);
      e = Entry();
      return static_cast<uint16_t>(s);
    }
  }
  return kNoSlot;
}

absl::StatusOr<std::vector<uint16_t>> InterfaceSlots::Assign(
    const std::vector<std::string>& names) {
  Rollback();  // an Assign never committed is forgotten
  assigned_.clear();
  for (const std::string& name : names) {
    auto it = by_name_.find(name);
    if (it != by_name_.end()) {
      assigned_.push_back(it->second);
      continue;
    }
    uint16_t slot = TakeFreeSlot();
    if (slot == kNoSlot) {
      Rollback();
      return absl::ResourceExhaustedError(absl::StrCat(
          "more than ", kMaxInterfaceSlots,
          " interfaces enforced on this node (those of the policy and those "
          "removed whose flows are still open); enforce fewer per node"));
    }
    Entry& e = slots_[slot];
    e.state = State::kPending;
    e.name = name;
    e.serial = next_serial_++;
    by_name_[name] = slot;
    taken_.push_back(slot);
    assigned_.push_back(slot);
  }
  return assigned_;
}

void InterfaceSlots::Rollback() {
  // Lowest last, so that it is taken again first.
  for (auto it = taken_.rbegin(); it != taken_.rend(); ++it) {
    by_name_.erase(slots_[*it].name);
    slots_[*it] = Entry();
    free_.push_back(*it);
  }
  taken_.clear();
}

void InterfaceSlots::Commit() {
  std::set<uint16_t> live(assigned_.begin(), assigned_.end());
  for (auto& [name, slot] : by_name_) {
    Entry& e = slots_[slot];
    if (live.count(slot) != 0) {
      e.state = State::kLive;
    } else if (e.state == State::kLive) {
      e.state = State::kRetired;
      e.retired_mark = hooks_.mark();
    }
  }
  taken_.clear();
}

std::vector<InterfaceSlots::Slot> InterfaceSlots::InUse() const {
  std::vector<Slot> in_use;
  for (uint32_t s = 0; s < used_; ++s) {
    const Entry& e = slots_[s];
    bool live = e.state == State::kLive;
    if (live || (e.state == State::kRetired && hooks_.flows(s) != 0)) {
      in_use.push_back({static_cast<uint16_t>(s), e.name, live});
    }
  }
  return in_use;
}

}  // namespace sgate::control
