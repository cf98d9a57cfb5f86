#include "dataplane/enforcer.h"

#include <algorithm>
#include <cstddef>
#include <cstring>

namespace sgate::dataplane {

namespace {

// Every flow key is oriented by the protected interface: for a packet that
// went from `src` to `dst`, the interface's end is the destination if the
// packet came from outside (ingress), else the source. All key builders
// below go through here, so both directions of a flow agree by design.
FlowKey Oriented(rules::Family family, uint8_t protocol, uint16_t vlan,
                 const std::array<uint8_t, 16>& src,
                 const std::array<uint8_t, 16>& dst, uint16_t src_port,
                 uint16_t dst_port, bool ingress) {
  FlowKey key;
  key.local = ingress ? dst : src;
  key.remote = ingress ? src : dst;
  // The ports, VLAN, protocol and family in one 8-byte store: the hash
  // loads them as one word right after, and a load spanning several
  // smaller stores stalls until they reach the cache.
  static_assert(offsetof(FlowKey, local_port) == 32 &&
                offsetof(FlowKey, remote_port) == 34 &&
                offsetof(FlowKey, vlan) == 36 &&
                offsetof(FlowKey, protocol) == 38 &&
                offsetof(FlowKey, family) == 39);
  uint64_t tail = uint64_t{ingress ? dst_port : src_port} |
                  uint64_t{ingress ? src_port : dst_port} << 16 |
                  uint64_t{vlan} << 32 | uint64_t{protocol} << 48 |
                  uint64_t{static_cast<uint8_t>(family)} << 56;
  std::memcpy(reinterpret_cast<uint8_t*>(&key) +
                  offsetof(FlowKey, local_port),
              &tail, sizeof(tail));
  return key;
}

uint16_t VlanOf(const ParsedPacket& p) {
  return p.vlan_tags ? p.vlan : FlowKey::kUntagged;
}

}  // namespace

FlowKey Enforcer::KeyOf(const ParsedPacket& p, bool ingress) {
  return Oriented(p.family, p.protocol, VlanOf(p), p.src, p.dst, p.src_port,
                  p.dst_port, ingress);
}

FlowKey Enforcer::KeyOf(const rules::PacketKey& p, uint16_t src_port) {
  bool ingress = p.direction == rules::Direction::kIngress;
  const auto& src = ingress ? p.remote.bytes : p.local.bytes;
  const auto& dst = ingress ? p.local.bytes : p.remote.bytes;
  bool ports = rules::HasPorts(p.protocol);
  return Oriented(p.local.family, p.protocol,
                  p.vlan ? *p.vlan : FlowKey::kUntagged, src, dst,
                  ports ? src_port : 0, ports ? p.dst_port : 0, ingress);
}

FlowKey Enforcer::QuotedKeyOf(const ParsedPacket& p, bool ingress) {
  // The quoted packet went the other way: arriving from outside, the error
  // is about a packet that left from inside, so orient it as egress.
  const QuotedPacket& q = p.quote;
  return Oriented(p.family, q.protocol, VlanOf(p), q.src, q.dst, q.src_port,
                  q.dst_port, !ingress);
}

rules::PacketKey Enforcer::OpenerKeyOf(const FlowEntry& flow,
                                      const ParsedPacket& p) {
  const FlowKey& k = flow.key;
  rules::PacketKey key;
  key.direction = flow.opened_ingress ? rules::Direction::kIngress
                                      : rules::Direction::kEgress;
  key.local.family = key.remote.family = k.family;
  key.local.bytes = k.local;
  key.remote.bytes = k.remote;
  if (k.vlan != FlowKey::kUntagged) key.vlan = k.vlan;
  key.protocol = k.protocol;
  // The opener sent to the remote port when it left from inside.
  if (rules::HasPorts(k.protocol)) {
    key.dst_port = flow.opened_ingress ? k.local_port : k.remote_port;
  }
  key.icmp_type = p.icmp_type;
  key.icmp_code = p.icmp_code;
  return key;
}

rules::PacketKey Enforcer::PacketKeyOf(const ParsedPacket& p, bool ingress) {
  rules::PacketKey key;
  key.direction = ingress ? rules::Direction::kIngress
                          : rules::Direction::kEgress;
  key.local.family = key.remote.family = p.family;
  key.local.bytes = ingress ? p.dst : p.src;
  key.remote.bytes = ingress ? p.src : p.dst;
  if (p.vlan_tags) key.vlan = p.vlan;
  key.protocol = p.protocol;
  // Only tcp and udp have ports (DESIGN.md §5); an echo id is not one.
  key.dst_port = rules::HasPorts(p.protocol) ? p.dst_port : 0;
  key.icmp_type = p.icmp_type;
  key.icmp_code = p.icmp_code;
  return key;
}

}  // namespace sgate::dataplane
