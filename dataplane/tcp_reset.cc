#include "dataplane/tcp_reset.h"

#include <cstring>

#include "dataplane/conntrack.h"
#include "dataplane/packet_parser.h"

namespace sgate::dataplane {
namespace {

constexpr uint32_t kIpv4HeaderLength = 20;
constexpr uint32_t kIpv6HeaderLength = 40;
constexpr uint32_t kTcpHeaderLength = 20;
constexpr uint8_t kTtl = 64;

void Store16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
void Store32(uint8_t* p, uint32_t v) {
  Store16(p, static_cast<uint16_t>(v >> 16));
  Store16(p + 2, static_cast<uint16_t>(v));
}

// The ones' complement sum of 16-bit words (RFC 1071), not yet folded.
uint32_t Sum(const uint8_t* p, uint32_t length, uint32_t sum = 0) {
  for (uint32_t i = 0; i + 1 < length; i += 2)
    sum += uint32_t{p[i]} << 8 | p[i + 1];
  if (length % 2 != 0) sum += uint32_t{p[length - 1]} << 8;
  return sum;
}
uint16_t Fold(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

}  // namespace

uint32_t RewriteAsReset(uint8_t* frame, uint32_t length) {
  ParsedPacket p;
  if (ParseFrame(frame, length, &p) != ParseError::kNone ||
      p.kind != FrameKind::kIp || p.protocol != rules::kProtocolTcp ||
      p.is_fragment || (p.tcp_flags & kTcpRst) != 0) {
    return 0;
  }
  const TcpSegment in = TcpSegmentOf(frame, p);
  uint32_t ack = in.seq + in.payload_length;
  if (in.flags & kTcpSyn) ++ack;
  if (in.flags & kTcpFin) ++ack;
  const uint32_t seq = (in.flags & kTcpAck) ? in.ack : 0;

  // Ethernet: back to the sender. VLAN tags stay as they are.
  uint8_t mac[6];
  std::memcpy(mac, frame, 6);
  std::memcpy(frame, frame + 6, 6);
  std::memcpy(frame + 6, mac, 6);

  uint8_t* ip = frame + p.l3_offset;
  const bool v4 = p.family == rules::Family::kIPv4;
  const uint32_t ip_length = v4 ? kIpv4HeaderLength : kIpv6HeaderLength;
  const uint32_t address_bytes = v4 ? 4 : 16;
  uint8_t* tcp = ip + ip_length;
  uint32_t pseudo = 0;  // the TCP checksum's pseudo-header
  // p.src and p.dst hold the addresses already: the frame's IP header is
  // free to be overwritten.
  if (v4) {
    std::memset(ip, 0, kIpv4HeaderLength);
    ip[0] = 0x45;
    Store16(ip + 2, kIpv4HeaderLength + kTcpHeaderLength);
    Store16(ip + 6, 0x4000);  // don't fragment
    ip[8] = kTtl;
    ip[9] = rules::kProtocolTcp;
    std::memcpy(ip + 12, p.dst.data(), address_bytes);
    std::memcpy(ip + 16, p.src.data(), address_bytes);
    Store16(ip + 10, Fold(Sum(ip, kIpv4HeaderLength)));
    pseudo = Sum(ip + 12, 8);
  } else {
    std::memset(ip, 0, kIpv6HeaderLength);
    ip[0] = 0x60;
    Store16(ip + 4, kTcpHeaderLength);
    ip[6] = rules::kProtocolTcp;
    ip[7] = kTtl;
    std::memcpy(ip + 8, p.dst.data(), address_bytes);
    std::memcpy(ip + 24, p.src.data(), address_bytes);
    pseudo = Sum(ip + 8, 32);
  }
  pseudo += rules::kProtocolTcp + kTcpHeaderLength;

  std::memset(tcp, 0, kTcpHeaderLength);
  Store16(tcp, p.dst_port);
  Store16(tcp + 2, p.src_port);
  Store32(tcp + 4, seq);
  Store32(tcp + 8, ack);
  tcp[12] = (kTcpHeaderLength / 4) << 4;
  tcp[13] = kTcpRst | kTcpAck;
  Store16(tcp + 16, Fold(Sum(tcp, kTcpHeaderLength, pseudo)));
  return p.l3_offset + ip_length + kTcpHeaderLength;
}

}  // namespace sgate::dataplane
