#pragma once

#include <array>
#include <cstdint>

#include "dataplane/drop_reason.h"
#include "rules/ip_address.h"
#include "rules/protocol.h"

namespace sgate::dataplane {

// Why the parser refused a frame: the first drop reasons
// (kTruncatedEthernet .. kBadTcpHeader), each a drop counter of its own, so
// an operator can tell a misconfigured peer from an attack. kNone: parsed.
using ParseError = DropReason;

// What kind of frame passed parsing.
enum class FrameKind : uint8_t {
  kIp,                 // IPv4 or IPv6: classify and track
  kArp,                // passes (DESIGN.md §3)
  kNeighborDiscovery,  // ICMPv6 types 133-137: passes (DESIGN.md §3)
};

// The addresses and ports of the packet an ICMP error quotes, as that
// packet travelled (so its source is our side for an error we receive).
struct QuotedPacket {
  std::array<uint8_t, 16> src{};
  std::array<uint8_t, 16> dst{};
  uint16_t src_port = 0;  // tcp/udp ports, or for ICMP echo: id, 0
  uint16_t dst_port = 0;
  uint8_t protocol = 0;
  uint8_t icmp_type = 0;  // when the quoted packet is itself ICMP
};

// Everything the flow table and the classifier need from a frame. Addresses
// are in network byte order; IPv4 uses the first 4 bytes, the rest are zero
// so that a key built from them compares as plain bytes.
// An Ethernet/IPv4 ARP frame (kArp) carries its sender and target protocol
// addresses in src and dst; other ARP frames leave them zero.
struct ParsedPacket {
  FrameKind kind = FrameKind::kIp;
  rules::Family family = rules::Family::kIPv4;
  uint8_t vlan_tags = 0;     // 0, 1 or 2
  uint16_t vlan = 0;         // the innermost tag's VLAN id, if any
  uint8_t protocol = 0;      // the upper-layer protocol after extensions

  std::array<uint8_t, 16> src{};
  std::array<uint8_t, 16> dst{};

  // TCP/UDP: the ports. ICMP echo request/reply: src_port = dst_port = id,
  // so both directions of a ping share a key. Other ICMP: 0.
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
  uint8_t tcp_flags = 0;     // FIN 0x01, SYN 0x02, RST 0x04, ACK 0x10
  uint8_t icmp_type = 0;
  uint8_t icmp_code = 0;

  // Fragments. A later fragment (offset > 0) has no L4 header: its ports and
  // ICMP fields are zero and it follows its first fragment's verdict.
  bool is_fragment = false;
  bool is_later_fragment = false;
  uint32_t fragment_id = 0;  // IPv4: 16 bits; IPv6: 32 bits

  // Set for ICMP errors whose quote held an IP header and 8 bytes of L4;
  // `quote` means nothing otherwise.
  bool has_quote = false;
  QuotedPacket quote;

  uint16_t l3_offset = 0;    // from the start of the frame
  uint32_t l3_length = 0;    // IP datagram length, without L2 padding
};

// Parses one frame of `length` bytes. Never reads outside [data, data +
// length), never allocates, never throws: malformed input only yields an
// error. Trailing bytes past the IP datagram (Ethernet padding) are ignored.
// TCP and UDP over IPv4 without options or IPv6 without extensions, not
// fragmented, with at most one 802.1Q tag, take a short path; the rest the
// general one.
ParseError ParseFrame(const uint8_t* data, uint32_t length, ParsedPacket* out);

// A TCP segment's sequence numbers and payload, for the packets that need
// them (flows whose name is pending): not part of ParsedPacket, so the
// established-flow path does not pay for them.
struct TcpSegment {
  uint32_t seq = 0;
  uint32_t ack = 0;
  uint8_t flags = 0;
  const uint8_t* payload = nullptr;  // inside the frame
  uint32_t payload_length = 0;       // to the end of the datagram
};

// The segment of a frame ParseFrame accepted as TCP (not a later
// fragment); of a first fragment, only the payload it carries.
TcpSegment TcpSegmentOf(const uint8_t* frame, const ParsedPacket& p);

namespace internal {
// The general path alone, for tests that check the short path agrees.
ParseError ParseFrameGeneral(const uint8_t* data, uint32_t length,
                             ParsedPacket* out);
}  // namespace internal

}  // namespace sgate::dataplane
