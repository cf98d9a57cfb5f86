#include "dataplane/packet_parser.h"

#include <immintrin.h>

#include <cstddef>
#include <cstring>

namespace sgate::dataplane {
namespace {

constexpr uint16_t kEtherTypeIpv4 = 0x0800;
constexpr uint16_t kEtherTypeIpv6 = 0x86DD;
constexpr uint16_t kEtherTypeArp = 0x0806;
// An ARP packet for IPv4 over Ethernet: 8 bytes of header, then sender
// MAC and IPv4 address, target MAC and IPv4 address.
constexpr uint32_t kArpIpv4Length = 28;
constexpr uint16_t kEtherTypeVlan = 0x8100;  // 802.1Q
constexpr uint16_t kEtherTypeQinq = 0x88A8;  // 802.1ad outer tag

constexpr uint32_t kEthernetHeaderLength = 14;
constexpr uint32_t kVlanTagLength = 4;
// 802.1ad allows an outer and an inner tag; a third is not a deployment we
// support and is a known filter-evasion trick, so it is dropped.
constexpr int kMaxVlanTags = 2;

constexpr uint32_t kIpv4MinHeaderLength = 20;
constexpr uint32_t kIpv6HeaderLength = 40;
// RFC 8200 §4.1 recommends each extension header at most once (destination
// options twice): seven fit any legitimate chain. Longer chains exist only
// to exhaust parsers, so we stop there.
constexpr int kMaxIpv6Extensions = 7;

using rules::Family;
using rules::kProtocolIcmp;
using rules::kProtocolIcmpv6;
using rules::kProtocolTcp;
using rules::kProtocolUdp;

// IPv6 extension headers the walk steps over (the upper-layer protocol
// numbers are rules/protocol.h's).
constexpr uint8_t kProtoHopByHop = 0;
constexpr uint8_t kProtoRouting = 43;
constexpr uint8_t kProtoFragment = 44;
constexpr uint8_t kProtoAuthentication = 51;
constexpr uint8_t kProtoDestinationOptions = 60;

constexpr uint32_t kTcpMinHeaderLength = 20;
constexpr uint32_t kUdpHeaderLength = 8;
// Type, code, checksum and the 4-byte "rest of header" (echo id/sequence,
// or the unused word before an error's quote).
constexpr uint32_t kIcmpHeaderLength = 8;
// An ICMP error quotes at least the IP header and 8 bytes of its payload
// (RFC 792, RFC 4443): enough for the ports.
constexpr uint32_t kQuotedL4Length = 8;

inline uint16_t Load16(const uint8_t* p) {
  return static_cast<uint16_t>(p[0] << 8 | p[1]);
}
inline uint32_t Load32(const uint8_t* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 |
         p[3];
}

// An IPv4 address into a 16-byte key field, zero-padded, in one 16-byte
// store (a fill() here compiles to a call to memset). The flow key is
// built by loading these 16 bytes at once right after; a load that spans
// two smaller stores cannot take its data from the store buffer, and
// waits ~15 cycles for them to reach the cache (store-forwarding stall).
inline void StoreIpv4(std::array<uint8_t, 16>* to, const uint8_t* from) {
  uint32_t address;
  std::memcpy(&address, from, 4);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(to->data()),
                   _mm_cvtsi32_si128(static_cast<int>(address)));
}

// Both ports in one 4-byte store, for the same reason: the flow key loads
// them together.
inline void StorePorts(ParsedPacket* out, const uint8_t* l4) {
  static_assert(offsetof(ParsedPacket, dst_port) ==
                offsetof(ParsedPacket, src_port) + 2);
  uint32_t ports;
  std::memcpy(&ports, l4, 4);
  // Network to host order within each 16-bit half.
  ports = (ports & 0x00FF00FFu) << 8 | (ports >> 8 & 0x00FF00FFu);
  std::memcpy(reinterpret_cast<uint8_t*>(out) +
                  offsetof(ParsedPacket, src_port),
              &ports, 4);
}

// The result of walking an IP header: where the upper layer starts.
struct IpHeader {
  uint8_t protocol = 0;
  uint32_t l4_offset = 0;  // from the start of the IP header
  uint32_t length = 0;     // the datagram, without link-layer padding
  bool is_fragment = false;
  bool is_later_fragment = false;
  uint32_t fragment_id = 0;
};

// `available` bytes start at `ip`. For a quoted header, `quoted` relaxes the
// length check: a quote is cut short by design.
ParseError WalkIpv4(const uint8_t* ip, uint32_t available, bool quoted,
                    IpHeader* h, std::array<uint8_t, 16>* src,
                    std::array<uint8_t, 16>* dst) {
  if (available < kIpv4MinHeaderLength) return ParseError::kTruncatedIp;
  uint32_t header_length = (ip[0] & 0x0F) * 4u;
  uint32_t total_length = Load16(ip + 2);
  if ((ip[0] >> 4) != 4 || header_length < kIpv4MinHeaderLength ||
      total_length < header_length) {
    return ParseError::kBadIpHeader;
  }
  if (header_length > available) return ParseError::kTruncatedIp;
  if (!quoted && total_length > available) return ParseError::kTruncatedIp;
  h->length = quoted ? available : total_length;
  h->protocol = ip[9];
  h->l4_offset = header_length;
  uint16_t fragment = Load16(ip + 6);
  uint32_t offset = (fragment & 0x1FFF) * 8u;
  bool more_fragments = fragment & 0x2000;
  h->is_fragment = more_fragments || offset != 0;
  h->is_later_fragment = offset != 0;
  h->fragment_id = Load16(ip + 4);
  StoreIpv4(src, ip + 12);
  StoreIpv4(dst, ip + 16);
  return ParseError::kNone;
}

ParseError WalkIpv6(const uint8_t* ip, uint32_t available, bool quoted,
                    IpHeader* h, std::array<uint8_t, 16>* src,
                    std::array<uint8_t, 16>* dst) {
  if (available < kIpv6HeaderLength) return ParseError::kTruncatedIp;
  if ((ip[0] >> 4) != 6) return ParseError::kBadIpHeader;
  uint32_t length = kIpv6HeaderLength + Load16(ip + 4);
  if (!quoted && length > available) return ParseError::kTruncatedIp;
  h->length = quoted ? available : length;
  std::memcpy(src->data(), ip + 8, 16);
  std::memcpy(dst->data(), ip + 24, 16);

  uint8_t next = ip[6];
  uint32_t offset = kIpv6HeaderLength;
  for (int extensions = 0;; ++extensions) {
    uint32_t header_length;
    switch (next) {
      case kProtoHopByHop:
      case kProtoRouting:
      case kProtoDestinationOptions:
        if (offset + 2 > h->length) return ParseError::kBadIpv6Extension;
        header_length = (ip[offset + 1] + 1u) * 8u;
        break;
      case kProtoAuthentication:
        if (offset + 2 > h->length) return ParseError::kBadIpv6Extension;
        header_length = (ip[offset + 1] + 2u) * 4u;
        break;
      case kProtoFragment: {
        header_length = 8;
        if (offset + header_length > h->length) {
          return ParseError::kBadIpv6Extension;
        }
        uint16_t field = Load16(ip + offset + 2);
        // An "atomic fragment" (offset 0, M clear) is a whole packet
        // (RFC 6946).
        h->is_fragment = (field & 0xFFF8) != 0 || (field & 1) != 0;
        h->is_later_fragment = (field & 0xFFF8) != 0;
        h->fragment_id = Load32(ip + offset + 4);
        break;
      }
      default:  // an upper-layer protocol (or 59, no next header)
        h->protocol = next;
        h->l4_offset = offset;
        return ParseError::kNone;
    }
    if (extensions == kMaxIpv6Extensions) return ParseError::kBadIpv6Extension;
    if (offset + header_length > h->length) {
      return ParseError::kBadIpv6Extension;
    }
    next = ip[offset];
    offset += header_length;
    if (h->is_later_fragment) {
      // Past the fragment header of a later fragment comes payload, not
      // headers: the upper-layer protocol is the one it names.
      h->protocol = next;
      h->l4_offset = offset;
      return ParseError::kNone;
    }
  }
}

ParseError WalkIp(Family family, const uint8_t* ip, uint32_t available,
                  bool quoted, IpHeader* h, std::array<uint8_t, 16>* src,
                  std::array<uint8_t, 16>* dst) {
  return family == Family::kIPv4 ? WalkIpv4(ip, available, quoted, h, src, dst)
                     : WalkIpv6(ip, available, quoted, h, src, dst);
}

// Reads the ports of the packet an ICMP error quotes. A quote we cannot read
// leaves has_quote false: such an error matches no flow and is dropped by
// the flow lookup, not here.
void ParseQuote(Family family, const uint8_t* quote, uint32_t available,
                ParsedPacket* out) {
  IpHeader inner;
  QuotedPacket& q = out->quote;
  if (WalkIp(family, quote, available, /*quoted=*/true, &inner, &q.src,
             &q.dst) != ParseError::kNone ||
      inner.is_later_fragment ||
      inner.l4_offset + kQuotedL4Length > available) {
    return;
  }
  const uint8_t* l4 = quote + inner.l4_offset;
  q.protocol = inner.protocol;
  if (q.protocol == kProtocolTcp || q.protocol == kProtocolUdp) {
    q.src_port = Load16(l4);
    q.dst_port = Load16(l4 + 2);
  } else if (q.protocol == kProtocolIcmp || q.protocol == kProtocolIcmpv6) {
    q.icmp_type = l4[0];
    if (rules::IsIcmpEcho(family, l4[0])) q.src_port = q.dst_port = Load16(l4 + 4);
  }
  out->has_quote = true;
}

ParseError ParseL4(const uint8_t* l4, uint32_t available, ParsedPacket* out) {
  switch (out->protocol) {
    case kProtocolTcp: {
      if (available < kTcpMinHeaderLength) return ParseError::kTruncatedL4;
      uint32_t header_length = (l4[12] >> 4) * 4u;
      if (header_length < kTcpMinHeaderLength || header_length > available) {
        return ParseError::kBadTcpHeader;
      }
      out->src_port = Load16(l4);
      out->dst_port = Load16(l4 + 2);
      out->tcp_flags = l4[13];
      return ParseError::kNone;
    }
    case kProtocolUdp:
      if (available < kUdpHeaderLength) return ParseError::kTruncatedL4;
      out->src_port = Load16(l4);
      out->dst_port = Load16(l4 + 2);
      return ParseError::kNone;
    case kProtocolIcmp:
    case kProtocolIcmpv6: {
      // ICMP in IPv6 (or ICMPv6 in IPv4) is just another protocol number.
      if (out->protocol != rules::IcmpProtocolOf(out->family)) {
        return ParseError::kNone;
      }
      if (available < kIcmpHeaderLength) return ParseError::kTruncatedL4;
      out->icmp_type = l4[0];
      out->icmp_code = l4[1];
      if (rules::IsIcmpEcho(out->family, out->icmp_type)) {
        out->src_port = out->dst_port = Load16(l4 + 4);
      } else if (rules::IsIcmpError(out->family, out->icmp_type)) {
        ParseQuote(out->family, l4 + kIcmpHeaderLength,
                   available - kIcmpHeaderLength, out);
      } else if (out->family == Family::kIPv6 &&
                 rules::IsNeighborDiscovery(out->icmp_type)) {
        out->kind = FrameKind::kNeighborDiscovery;
      }
      return ParseError::kNone;
    }
    default:
      return ParseError::kNone;  // no ports (DESIGN.md §5)
  }
}

// The common case in a few loads: TCP or UDP over IPv4 without options or
// over IPv6 without extension headers, not a fragment, untagged or with one
// 802.1Q tag, every length consistent. Returns false, having written
// nothing that matters, for anything else; the general path below then
// decides, and gives the same result for the frames accepted here.
bool ParseCommonCase(const uint8_t* data, uint32_t length, ParsedPacket* out) {
  if (length < kEthernetHeaderLength) return false;
  uint32_t l3 = kEthernetHeaderLength;
  uint16_t ether_type = Load16(data + 12);
  uint16_t vlan = 0;
  uint8_t tags = 0;
  if (ether_type == kEtherTypeVlan) {
    if (length < l3 + kVlanTagLength) return false;
    vlan = Load16(data + l3) & 0x0FFF;
    ether_type = Load16(data + l3 + 2);
    l3 += kVlanTagLength;
    tags = 1;
  }
  const uint8_t* ip = data + l3;
  uint32_t available = length - l3;
  uint32_t datagram, l4_offset;
  uint8_t protocol;
  if (ether_type == kEtherTypeIpv4) {
    // Version 4, IHL 5; MF clear and offset 0 (DF may be set).
    if (available < kIpv4MinHeaderLength || ip[0] != 0x45 ||
        (Load16(ip + 6) & 0x3FFF) != 0) {
      return false;
    }
    datagram = Load16(ip + 2);
    l4_offset = kIpv4MinHeaderLength;
    protocol = ip[9];
    out->family = Family::kIPv4;
    out->fragment_id = Load16(ip + 4);
    StoreIpv4(&out->src, ip + 12);
    StoreIpv4(&out->dst, ip + 16);
  } else if (ether_type == kEtherTypeIpv6) {
    if (available < kIpv6HeaderLength || (ip[0] >> 4) != 6) return false;
    datagram = kIpv6HeaderLength + Load16(ip + 4);
    l4_offset = kIpv6HeaderLength;
    protocol = ip[6];
    out->family = Family::kIPv6;
    out->fragment_id = 0;
    std::memcpy(out->src.data(), ip + 8, 16);
    std::memcpy(out->dst.data(), ip + 24, 16);
  } else {
    return false;
  }
  if (datagram > available || datagram < l4_offset) return false;
  const uint8_t* l4 = ip + l4_offset;
  uint32_t l4_available = datagram - l4_offset;
  if (protocol == kProtocolTcp) {
    if (l4_available < kTcpMinHeaderLength) return false;
    uint32_t header_length = (l4[12] >> 4) * 4u;
    if (header_length < kTcpMinHeaderLength || header_length > l4_available) {
      return false;
    }
    out->tcp_flags = l4[13];
  } else if (protocol == kProtocolUdp) {
    if (l4_available < kUdpHeaderLength) return false;
    out->tcp_flags = 0;
  } else {
    return false;
  }
  out->kind = FrameKind::kIp;
  out->vlan_tags = tags;
  out->vlan = vlan;
  out->protocol = protocol;
  StorePorts(out, l4);
  out->icmp_type = out->icmp_code = 0;
  out->is_fragment = out->is_later_fragment = false;
  out->has_quote = false;
  out->l3_offset = static_cast<uint16_t>(l3);
  out->l3_length = datagram;
  return true;
}

}  // namespace

ParseError ParseFrame(const uint8_t* data, uint32_t length,
                      ParsedPacket* out) {
  if (ParseCommonCase(data, length, out)) return ParseError::kNone;
  return internal::ParseFrameGeneral(data, length, out);
}

ParseError internal::ParseFrameGeneral(const uint8_t* data, uint32_t length,
                                       ParsedPacket* out) {
  *out = ParsedPacket{};
  if (length < kEthernetHeaderLength) return ParseError::kTruncatedEthernet;
  uint32_t offset = kEthernetHeaderLength;
  uint16_t ether_type = Load16(data + 12);
  while (ether_type == kEtherTypeVlan || ether_type == kEtherTypeQinq) {
    if (out->vlan_tags == kMaxVlanTags) return ParseError::kTooManyVlanTags;
    if (offset + kVlanTagLength > length) {
      return ParseError::kTruncatedEthernet;
    }
    out->vlan = Load16(data + offset) & 0x0FFF;
    ++out->vlan_tags;
    ether_type = Load16(data + offset + 2);
    offset += kVlanTagLength;
  }
  if (ether_type == kEtherTypeArp) {
    out->kind = FrameKind::kArp;
    // Ethernet/IPv4 ARP: its sender and target addresses, so that
    // anti-spoofing can check the sender's. Anything else passes as it is.
    const uint8_t* arp = data + offset;
    if (length >= offset + kArpIpv4Length && Load16(arp) == 1 &&
        Load16(arp + 2) == kEtherTypeIpv4 && arp[4] == 6 && arp[5] == 4) {
      out->family = Family::kIPv4;
      out->l3_offset = static_cast<uint16_t>(offset);
      StoreIpv4(&out->src, arp + 14);
      StoreIpv4(&out->dst, arp + 24);
    }
    return ParseError::kNone;
  }
  if (ether_type != kEtherTypeIpv4 && ether_type != kEtherTypeIpv6) {
    return ParseError::kNonIp;
  }
  out->family =
      ether_type == kEtherTypeIpv4 ? Family::kIPv4 : Family::kIPv6;
  out->l3_offset = offset;

  IpHeader ip;
  ParseError error = WalkIp(out->family, data + offset, length - offset,
                            /*quoted=*/false, &ip, &out->src, &out->dst);
  if (error != ParseError::kNone) return error;
  out->protocol = ip.protocol;
  out->l3_length = ip.length;
  out->is_fragment = ip.is_fragment;
  out->is_later_fragment = ip.is_later_fragment;
  out->fragment_id = ip.fragment_id;
  if (ip.is_later_fragment) return ParseError::kNone;
  return ParseL4(data + offset + ip.l4_offset, ip.length - ip.l4_offset, out);
}

TcpSegment TcpSegmentOf(const uint8_t* frame, const ParsedPacket& p) {
  // The parser accepted the frame: its IP header is sound, walking it
  // again cannot fail, and the TCP header's data offset is within the
  // datagram. Where TCP starts: IPv4 says so; IPv6 does when TCP follows
  // its fixed header, and extension headers are walked.
  const uint8_t* ip = frame + p.l3_offset;
  uint32_t l4_offset;
  if (p.family == Family::kIPv4) {
    l4_offset = (ip[0] & 0x0F) * 4u;
  } else if (ip[6] == kProtocolTcp) {
    l4_offset = kIpv6HeaderLength;
  } else {
    IpHeader h;
    std::array<uint8_t, 16> src, dst;
    WalkIp(p.family, ip, p.l3_length, /*quoted=*/false, &h, &src, &dst);
    l4_offset = h.l4_offset;
  }
  const uint8_t* l4 = ip + l4_offset;
  const uint32_t header_length = (l4[12] >> 4) * 4u;
  TcpSegment s;
  s.seq = Load32(l4 + 4);
  s.ack = Load32(l4 + 8);
  s.flags = l4[13];
  s.payload = l4 + header_length;
  s.payload_length = p.l3_length - l4_offset - header_length;
  return s;
}

}  // namespace sgate::dataplane
