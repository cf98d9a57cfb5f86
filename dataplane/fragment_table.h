#pragma once

#include <array>
#include <cstdint>
#include <cstring>

#include "dataplane/packet_parser.h"

namespace sgate::dataplane {

// Remembers, for a few seconds, which fragmented datagrams had their first
// fragment allowed, so later fragments (which carry no ports) follow that
// verdict (DESIGN.md §5). Direct-mapped and fixed-size: a new datagram
// simply replaces whatever shared its slot. Under a fragment flood that
// costs the loser its later fragments (dropped and counted as orphans),
// never memory or time.
class FragmentTable {
 public:
  // 4096 slots × 48 bytes = 192 KiB per worker: room for thousands of
  // datagrams in flight, small enough to stay out of the flow table's way.
  static constexpr uint32_t kSlots = 4096;
  // Fragments of one datagram arrive within microseconds of each other;
  // 5 s tolerates reordering and slow links without keeping stale state.
  static constexpr uint32_t kTimeoutSeconds = 5;

  FragmentTable() = default;

  // Records that the datagram of first fragment `p` was allowed.
  void RememberAllowed(const ParsedPacket& p, uint32_t now);
  // Whether a first fragment of later fragment `p`'s datagram was allowed
  // within the timeout.
  bool WasAllowed(const ParsedPacket& p, uint32_t now) const;

 private:
  struct Key {
    std::array<uint8_t, 16> src;
    std::array<uint8_t, 16> dst;
    uint32_t id;
    uint8_t protocol;
    rules::Family family;
    // The address space: a VLAN's fragments never follow another VLAN's
    // (or the untagged space's) first fragment.
    uint16_t vlan;
    bool operator==(const Key& o) const {
      return std::memcmp(this, &o, sizeof(Key)) == 0;
    }
  };
  static_assert(sizeof(Key) == 40);
  struct Slot {
    Key key{};
    uint32_t expires_at = 0;
    bool used = false;
  };
  static Key KeyOf(const ParsedPacket& p);
  static uint32_t SlotOf(const Key& key);

  // Inline, so the table lives wherever its worker was allocated (on the
  // worker's socket).
  std::array<Slot, kSlots> slots_{};
};

}  // namespace sgate::dataplane
