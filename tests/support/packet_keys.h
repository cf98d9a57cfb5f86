#pragma once

// Packet keys for tests that ask a classifier directly (no frame).

#include <cstdint>
#include <optional>

#include "rules/packet_key.h"

namespace sgate::testing {

// A packet from the protected `local` address to `remote` (egress), of
// `protocol` to `port`, untagged unless `vlan`.
inline rules::PacketKey EgressKey(const char* local, const char* remote,
                                  uint16_t port,
                                  uint8_t protocol = rules::kProtocolTcp,
                                  std::optional<uint16_t> vlan = {}) {
  rules::PacketKey k;
  k.direction = rules::Direction::kEgress;
  k.local = *rules::ParseIpAddress(local);
  k.remote = *rules::ParseIpAddress(remote);
  k.protocol = protocol;
  k.dst_port = port;
  k.vlan = vlan;
  return k;
}

}  // namespace sgate::testing
