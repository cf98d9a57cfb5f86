#include "dataplane/interface_table.h"

#include <algorithm>

namespace sgate::dataplane {

const InterfaceTable::Limits InterfaceTable::kUnlimited;

InterfaceTable::InterfaceTable(const rules::Policy& policy,
                               const std::vector<std::string>& names,
                               const std::vector<uint16_t>& slots,
                               uint32_t workers)
    : slots_(slots), anti_spoofing_(policy.settings.anti_spoofing) {
  uint16_t highest = 0;
  bool any = false;
  for (uint16_t slot : slots_) {
    if (slot == kNoSlot) continue;
    highest = std::max(highest, slot);
    any = true;
  }
  limits_.resize(any ? highest + 1u : 0u);
  for (size_t id = 0; id < names.size() && id < slots_.size(); ++id) {
    if (slots_[id] == kNoSlot) continue;
    auto it = policy.interfaces.find(names[id]);
    if (it == policy.interfaces.end()) continue;
    const rules::Interface& interface = it->second;
    Limits& limits = limits_[slots_[id]];
    if (std::optional<uint32_t> cap = policy.settings.FlowCap(interface)) {
      limits.flow_cap = Share(*cap, workers);
    }
    // The loader allows at most kMaxMacsPerInterface; a policy built in
    // code that lists more keeps the first ones.
    for (const rules::MacAddress& mac : interface.macs) {
      if (limits.mac_count == limits.macs.size()) break;
      limits.macs[limits.mac_count++] = mac.value();
    }
  }
}

InterfaceTable InterfaceTable::Identity(const rules::Policy& policy,
                                        const std::vector<std::string>& names,
                                        uint32_t workers) {
  std::vector<uint16_t> slots(names.size(), kNoSlot);
  for (size_t id = 0; id < names.size() && id < kMaxInterfaceSlots; ++id) {
    slots[id] = static_cast<uint16_t>(id);
  }
  return InterfaceTable(policy, names, slots, workers);
}

}  // namespace sgate::dataplane
