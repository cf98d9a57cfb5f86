#include "dataplane/enforcer.h"

#include <algorithm>

namespace sgate::dataplane {

FlowKey Enforcer::KeyOf(const ParsedPacket& p, bool ingress) {
  FlowKey key;
  key.family = p.family;
  key.protocol = p.protocol;
  key.vlan = p.vlan_tags ? p.vlan : FlowKey::kUntagged;
  key.local = ingress ? p.dst : p.src;
  key.remote = ingress ? p.src : p.dst;
  key.local_port = ingress ? p.dst_port : p.src_port;
  key.remote_port = ingress ? p.src_port : p.dst_port;
  return key;
}

FlowKey Enforcer::KeyOf(const rules::PacketKey& p, uint16_t src_port) {
  FlowKey key;
  key.family = p.local.family == rules::Family::kIPv4 ? 4 : 6;
  key.protocol = p.protocol;
  key.vlan = p.vlan ? *p.vlan : FlowKey::kUntagged;
  key.local = p.local.bytes;
  key.remote = p.remote.bytes;
  if (rules::HasPorts(p.protocol)) {
    bool ingress = p.direction == rules::Direction::kIngress;
    key.local_port = ingress ? p.dst_port : src_port;
    key.remote_port = ingress ? src_port : p.dst_port;
  }
  return key;
}

FlowKey Enforcer::QuotedKeyOf(const ParsedPacket& p, bool ingress) {
  const QuotedPacket& q = p.quote;
  FlowKey key;
  key.family = p.family;
  key.protocol = q.protocol;
  key.vlan = p.vlan_tags ? p.vlan : FlowKey::kUntagged;
  // Arriving from outside, the error is about a packet that left from
  // inside: its source is our interface.
  key.local = ingress ? q.src : q.dst;
  key.remote = ingress ? q.dst : q.src;
  key.local_port = ingress ? q.src_port : q.dst_port;
  key.remote_port = ingress ? q.dst_port : q.src_port;
  return key;
}

rules::PacketKey Enforcer::OpenerKeyOf(const FlowEntry& flow,
                                      const ParsedPacket& p) {
  const FlowKey& k = flow.key;
  rules::PacketKey key;
  key.direction = flow.opened_ingress ? rules::Direction::kIngress
                                      : rules::Direction::kEgress;
  rules::Family family =
      k.family == 4 ? rules::Family::kIPv4 : rules::Family::kIPv6;
  key.local.family = key.remote.family = family;
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
  rules::Family family =
      p.family == 4 ? rules::Family::kIPv4 : rules::Family::kIPv6;
  key.local.family = key.remote.family = family;
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
