#include "dataplane/fragment_table.h"

namespace sgate::dataplane {

FragmentTable::Key FragmentTable::KeyOf(const ParsedPacket& p) {
  // 0xFFFF is no VLAN id (those are 12 bits): the untagged space.
  uint16_t vlan = p.vlan_tags ? p.vlan : 0xFFFF;
  return Key{p.src, p.dst, p.fragment_id, p.protocol, p.family, vlan};
}

uint32_t FragmentTable::SlotOf(const Key& key) {
  // FNV-1a over the key bytes: plenty for a direct-mapped cache.
  uint32_t h = 2166136261u;
  const auto* bytes = reinterpret_cast<const uint8_t*>(&key);
  for (size_t i = 0; i < sizeof(Key); ++i) h = (h ^ bytes[i]) * 16777619u;
  return h % kSlots;
}

void FragmentTable::RememberAllowed(const ParsedPacket& p, uint32_t now) {
  Key key = KeyOf(p);
  Slot& slot = slots_[SlotOf(key)];
  slot.key = key;
  slot.expires_at = now + kTimeoutSeconds;
  slot.used = true;
}

bool FragmentTable::WasAllowed(const ParsedPacket& p, uint32_t now) const {
  Key key = KeyOf(p);
  const Slot& slot = slots_[SlotOf(key)];
  return slot.used && slot.key == key &&
         static_cast<int32_t>(now - slot.expires_at) < 0;
}

}  // namespace sgate::dataplane
