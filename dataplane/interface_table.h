#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "rules/policy.h"

namespace sgate::dataplane {

// Interfaces by slot. A table names its interfaces by ids of its own,
// which change with every generation (an interface added or removed
// renumbers the rest); what a worker counts per interface (tracked flows
// for the caps, drops, flow-log losses) and what each flow remembers of its
// interface must survive reloads, so they use a slot: a small number the
// control thread gives an interface name the first time a table knows it,
// and takes back only once nothing refers to it any more
// (control/interface_slots.h).
//
// Slots index per-worker arrays sized at start-up. 16,384 is well past the
// interfaces one node enforces (a VPC-shaped policy of issue 13 has 1,000
// here) and keeps a worker's per-interface counters at 512 KiB.
inline constexpr uint32_t kMaxInterfaceSlots = 16384;
// The slot of "no interface" (a table built without slots for some of its
// interfaces): a real index, one past the others, whose counts no report
// reads, so the packet path needs no branch for it.
inline constexpr uint16_t kNoSlot = kMaxInterfaceSlots;
inline constexpr uint32_t kSlotArraySize = kMaxInterfaceSlots + 1;

// What the workers need to know of each interface of one published table
// for operations (DESIGN.md §8): its slot, its share of the flow cap and
// the MACs it may send from. Built on the control thread with the table,
// immutable once published.
class InterfaceTable {
 public:
  struct Limits {
    // The most flows one worker tracks for the interface: a worker's share
    // of the node's cap (Share below); no cap: UINT32_MAX.
    uint32_t flow_cap = UINT32_MAX;
    uint32_t mac_count = 0;  // 0: its frames are not checked
    std::array<uint64_t, rules::kMaxMacsPerInterface> macs{};

    // Whether a frame from `mac` (MacAddress::value()) may carry the
    // interface's addresses.
    bool SendsFrom(uint64_t mac) const {
      if (mac_count == 0) return true;
      for (uint32_t i = 0; i < mac_count; ++i) {
        if (macs[i] == mac) return true;
      }
      return false;
    }
  };

  // No interfaces: every id has kNoSlot, no cap, no MAC check.
  InterfaceTable() = default;
  // `names`: the table's interfaces by id; `slots[id]`: the slot of each
  // (kNoSlot for none). `workers`: how many workers share each cap.
  InterfaceTable(const rules::Policy& policy,
                 const std::vector<std::string>& names,
                 const std::vector<uint16_t>& slots, uint32_t workers);
  // Slot = id, for tables used without a control thread (tests, the
  // benchmarks); ids past kMaxInterfaceSlots get kNoSlot.
  static InterfaceTable Identity(const rules::Policy& policy,
                                 const std::vector<std::string>& names,
                                 uint32_t workers);

  // A worker's share of a cap of `cap` flows on the node: each worker
  // enforces ceil(cap / workers) on the flows it tracks. Workers share
  // nothing on the packet path (no atomics, no shared lines), and RSS
  // spreads an interface's connections evenly over them, so a flood
  // reaches about the cap in all; the node tracks at most cap + workers - 1
  // flows of the interface, and one whose flows hash unevenly may be
  // refused a little before the cap. max_flows is split the same way.
  static uint32_t Share(uint32_t cap, uint32_t workers) {
    return workers <= 1 ? cap : (cap + workers - 1) / workers;
  }

  uint16_t SlotOf(uint32_t interface) const {
    return interface < slots_.size() ? slots_[interface] : kNoSlot;
  }
  const Limits& limits(uint16_t slot) const {
    return slot < limits_.size() ? limits_[slot] : kUnlimited;
  }
  bool anti_spoofing() const { return anti_spoofing_; }
  // The slot of every interface of the table, by id.
  const std::vector<uint16_t>& slots() const { return slots_; }

 private:
  static const Limits kUnlimited;

  std::vector<uint16_t> slots_;  // by table interface id
  std::vector<Limits> limits_;   // by slot, up to the highest in use
  bool anti_spoofing_ = false;
};

}  // namespace sgate::dataplane
