// Generates the golden-pcap cases (STYLE.md 16, issue 4): for every case a
// folder with policy.yaml, in.pcap (frames arriving on sgate's outside
// port, in order), expect.pcap (the frames sgate must forward out of the
// inside port, in order) and expect.txt (one line per input frame: its
// number, the expected verdict and drop reason, its description).
//
//   make_golden OUT_DIR        writes OUT_DIR/<case>/...
//
// Each frame is listed Katran-style, with its description and expected
// verdict beside it. The committed tests/golden/<case>/ folders are this
// program's output; a test regenerates them and compares byte for byte.

#include <sys/stat.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "tests/support/frame_builder.h"
#include "tests/support/pcap_writer.h"

namespace {

using sgate::testing::FrameBuilder;
using sgate::testing::kAck;
using sgate::testing::kFin;
using sgate::testing::kRst;
using sgate::testing::kSyn;

constexpr uint8_t kPsh = 0x08, kUrg = 0x20;

// Addresses (documentation ranges only, DESIGN.md §7).
constexpr const char* kEni4 = "198.51.100.10";     // the protected interface
constexpr const char* kEni6 = "2001:db8::10";
constexpr const char* kClient4 = "203.0.113.5";    // a client outside
constexpr const char* kClient6 = "2001:db8:1::5";
constexpr const char* kOther4 = "203.0.113.9";     // another client
constexpr const char* kRouter4 = "192.0.2.1";      // sends ICMP errors
constexpr const char* kRouter6 = "2001:db8:2::1";

// A frame, what it tests, and what sgate must do with it. `reason` is the
// drop counter name (DESIGN.md §6) when the frame is dropped.
struct Frame {
  std::string description;
  bool forward;
  std::string reason;
  FrameBuilder frame;
};

Frame Pass(std::string description, FrameBuilder frame) {
  return {std::move(description), true, "", std::move(frame)};
}
Frame Drop(std::string description, std::string reason, FrameBuilder frame) {
  return {std::move(description), false, std::move(reason), std::move(frame)};
}

struct Case {
  std::string name;
  std::string policy;
  std::vector<Frame> frames;
};

FrameBuilder V4(const char* src = kClient4, const char* dst = kEni4) {
  return FrameBuilder().Ipv4(src, dst);
}
FrameBuilder V6(const char* src = kClient6, const char* dst = kEni6) {
  return FrameBuilder().Ipv6(src, dst);
}

// ---------------------------------------------------------------- fragments
// Later fragments follow their first fragment's verdict; orphans are
// dropped (DESIGN.md §5 "fragments"). A first fragment carries 20 bytes of
// TCP (or 8 of UDP) + payload, a multiple of 8, so the later ones start at
// the offset they name.
Case Fragments() {
  return {
      "fragments",
      R"(# Golden case "fragments": TCP 80 and UDP 53 from anywhere.
version: 1
security_groups:
  sg-frag:
    ingress:
      - {protocol: tcp, ports: 80, cidr: [0.0.0.0/0, "::/0"]}
      - {protocol: udp, ports: 53, cidr: [0.0.0.0/0, "::/0"]}
    egress: []
interfaces:
  eni-frag:
    addresses: [198.51.100.10, "2001:db8::10"]
    security_groups: [sg-frag]
)",
      {
          // IPv4
          Pass("v4 first fragment, TCP 80 allowed (id 1)",
               V4().Fragment(0, true, 1).Tcp(40000, 80, kSyn).Payload(12)),
          Pass("v4 middle fragment of id 1 follows its first",
               V4().Fragment(32, true, 1).Protocol(6).Payload(24)),
          Pass("v4 last fragment of id 1 follows its first",
               V4().Fragment(56, false, 1).Protocol(6).Payload(10)),
          Drop("v4 later fragment with no first fragment (id 2)",
               "orphan_fragment",
               V4().Fragment(32, false, 2).Protocol(6).Payload(16)),
          Drop("v4 first fragment to TCP 22, no rule (id 3)",
               "no_rule_matched",
               V4().Fragment(0, true, 3).Tcp(40001, 22, kSyn).Payload(12)),
          Drop("v4 later fragment of denied id 3", "orphan_fragment",
               V4().Fragment(32, false, 3).Protocol(6).Payload(16)),
          Drop("v4 later fragment of id 1 from another source",
               "orphan_fragment",
               V4(kOther4).Fragment(32, false, 1).Protocol(6).Payload(16)),
          Drop("v4 later fragment of id 4 arriving before its first",
               "orphan_fragment",
               V4().Fragment(16, false, 4).Protocol(17).Payload(8)),
          Pass("v4 first fragment, UDP 53 allowed (id 4)",
               V4().Fragment(0, true, 4).Udp(5353, 53).Payload(8)),
          Pass("v4 later fragment of id 4, now its first was seen",
               V4().Fragment(16, false, 4).Protocol(17).Payload(8)),
          Pass("v4 first fragment with IP options, TCP 80 (id 5)",
               V4().Ipv4Options(8).Fragment(0, true, 5).Tcp(40002, 80, kAck)
                   .Payload(4)),
          Pass("v4 later fragment of id 5",
               V4().Fragment(24, false, 5).Protocol(6).Payload(8)),
          Drop("v4 first fragment too short for a TCP header (id 6)",
               "truncated_l4",
               V4().Fragment(0, true, 6).Protocol(6).Payload(8)),
          Drop("v4 later fragment of id 6 (its first was dropped)",
               "orphan_fragment",
               V4().Fragment(8, false, 6).Protocol(6).Payload(8)),
          Pass("v4 first fragment on the existing 40000 -> 80 flow (id 7)",
               V4().Fragment(0, true, 7).Tcp(40000, 80, kAck).Payload(12)),
          Pass("v4 later fragment of id 7",
               V4().Fragment(32, false, 7).Protocol(6).Payload(8)),
          Pass("v4 later fragment of id 1 at offset 8 overlapping the TCP "
               "header: follows its first (DESIGN.md §5; RFC 1858 would drop "
               "it)",
               V4().Fragment(8, true, 1).Protocol(6).Payload(16)),
          // IPv6
          Pass("v6 first fragment, TCP 80 allowed (id 0x10001)",
               V6().Fragment(0, true, 0x10001).Tcp(40000, 80, kSyn)
                   .Payload(12)),
          Pass("v6 middle fragment of id 0x10001",
               V6().Fragment(32, true, 0x10001).Protocol(6).Payload(24)),
          Pass("v6 last fragment of id 0x10001",
               V6().Fragment(56, false, 0x10001).Protocol(6).Payload(10)),
          Drop("v6 later fragment with no first fragment (id 0x10002)",
               "orphan_fragment",
               V6().Fragment(32, false, 0x10002).Protocol(6).Payload(16)),
          Drop("v6 first fragment to TCP 22, no rule (id 0x10003)",
               "no_rule_matched",
               V6().Fragment(0, true, 0x10003).Tcp(40001, 22, kSyn)
                   .Payload(12)),
          Drop("v6 later fragment of denied id 0x10003", "orphan_fragment",
               V6().Fragment(32, false, 0x10003).Protocol(6).Payload(16)),
          Drop("v6 later fragment whose id differs only in the high bits",
               "orphan_fragment",
               V6().Fragment(32, false, 0x20001).Protocol(6).Payload(16)),
          Pass("v6 first fragment, UDP 53 allowed (id 0x10004)",
               V6().Fragment(0, true, 0x10004).Udp(5353, 53).Payload(8)),
          Pass("v6 last fragment of id 0x10004",
               V6().Fragment(16, false, 0x10004).Protocol(17).Payload(8)),
          Drop("v6 first fragment too short for a TCP header (RFC 7112)",
               "truncated_l4",
               V6().Fragment(0, true, 0x10007).Protocol(6).Payload(8)),
          Drop("v6 later fragment of id 0x10007", "orphan_fragment",
               V6().Fragment(8, false, 0x10007).Protocol(6).Payload(8)),
          Pass("v6 atomic fragment (offset 0, M clear) is a whole packet, "
               "TCP 80",
               V6().Fragment(0, false, 0x10005).Tcp(40003, 80, kSyn)),
          Drop("v6 atomic fragment to TCP 22", "no_rule_matched",
               V6().Fragment(0, false, 0x10006).Tcp(40004, 22, kSyn)),
      },
  };
}

// --------------------------------------------------------------------- vlan
// The VLAN tag is part of the address space: 198.51.100.10 on VLAN 10 and
// untagged are two interfaces (DESIGN.md §4). With two tags (QinQ) the
// innermost one counts; a third tag is refused.
Case Vlan() {
  return {
      "vlan",
      R"(# Golden case "vlan": one address, two interfaces (VLAN 10, untagged).
version: 1
security_groups:
  sg-v10:
    ingress:
      - {protocol: tcp, ports: 80, cidr: [0.0.0.0/0, "::/0"]}
    egress: []
  sg-untagged:
    ingress:
      - {protocol: tcp, ports: 443, cidr: [0.0.0.0/0, "::/0"]}
    egress: []
interfaces:
  eni-v10:
    vlan: 10
    addresses: [198.51.100.10, "2001:db8::10"]
    security_groups: [sg-v10]
  eni-untagged:
    addresses: [198.51.100.10]
    security_groups: [sg-untagged]
)",
      {
          Pass("VLAN 10, TCP 80: eni-v10 allows it",
               V4().Tcp(40000, 80, kSyn).Vlan(10)),
          Drop("VLAN 10, TCP 443: eni-v10 does not allow it",
               "no_rule_matched", V4().Tcp(40001, 443, kSyn).Vlan(10)),
          Drop("untagged, TCP 80: eni-untagged does not allow it",
               "no_rule_matched", V4().Tcp(40002, 80, kSyn)),
          Pass("untagged, TCP 443: eni-untagged allows it",
               V4().Tcp(40003, 443, kSyn)),
          Drop("VLAN 30, TCP 80: no interface on VLAN 30",
               "unknown_interface", V4().Tcp(40004, 80, kSyn).Vlan(30)),
          Drop("VLAN 10 with priority bits (PCP 5), TCP 443: still eni-v10",
               "no_rule_matched",
               V4().Tcp(40005, 443, kSyn).Vlan(0xA000 | 10)),
          Pass("VLAN 10 with priority bits (PCP 5), TCP 80",
               V4().Tcp(40006, 80, kSyn).Vlan(0xA000 | 10)),
          Pass("VLAN 10, IPv6 TCP 80", V6().Tcp(40007, 80, kSyn).Vlan(10)),
          Drop("untagged IPv6 to 2001:db8::10: only VLAN 10 has it",
               "unknown_interface", V6().Tcp(40008, 80, kSyn)),
          Pass("QinQ: 802.1ad outer 100, 802.1Q inner 10, TCP 80",
               V4().Tcp(40009, 80, kSyn).Vlan(100, 0x88A8).Vlan(10)),
          Drop("QinQ: outer 10, inner 100: the inner tag counts",
               "unknown_interface",
               V4().Tcp(40010, 80, kSyn).Vlan(10, 0x88A8).Vlan(100)),
          Pass("double 802.1Q (0x8100 twice), inner 10, TCP 80",
               V4().Tcp(40011, 80, kSyn).Vlan(200).Vlan(10)),
          Drop("three tags", "too_many_vlan_tags",
               V4().Tcp(40012, 80, kSyn).Vlan(100, 0x88A8).Vlan(200).Vlan(10)),
          Pass("VLAN 10 unreachable quoting the VLAN 10 flow's reply",
               V4(kRouter4).Icmp(3, 1).Quote(
                   V4(kEni4, kClient4).Tcp(80, 40000, kSyn | kAck), 28)
                   .Vlan(10)),
          Drop("the same error untagged: no such flow on eni-untagged",
               "no_rule_matched",
               V4(kRouter4).Icmp(3, 1).Quote(
                   V4(kEni4, kClient4).Tcp(80, 40000, kSyn | kAck), 28)),
          Drop("pre-standard QinQ TPID 0x9100 is not a VLAN tag", "non_ip",
               V4().Tcp(40014, 80, kSyn).Vlan(10, 0x9100)),
          Drop("VLAN tag cut short", "truncated_ethernet",
               V4().Tcp(40013, 80, kSyn).Vlan(10).Truncate(16)),
          Pass("ARP on VLAN 10 passes",
               FrameBuilder().Vlan(10).EtherType(0x0806).Payload(28)),
          Pass("second packet of the VLAN 10 flow 40000 -> 80 (ACK)",
               V4().Tcp(40000, 80, kAck).Vlan(10)),
          Drop("the same 5-tuple untagged: not that flow, eni-untagged "
               "denies 80",
               "no_rule_matched", V4().Tcp(40000, 80, kAck)),
      },
  };
}

// ---------------------------------------------------------- ipv6-extensions
// The extension chain is walked to the upper layer (at most 7 headers).
Case Ipv6Extensions() {
  constexpr uint8_t kHopByHop = 0, kRouting = 43, kDestOpts = 60, kAh = 51;
  return {
      "ipv6-extensions",
      R"(# Golden case "ipv6-extensions": TCP 80 from anywhere.
version: 1
security_groups:
  sg-ext:
    ingress:
      - {protocol: tcp, ports: 80, cidr: "::/0"}
    egress: []
interfaces:
  eni-ext:
    addresses: ["2001:db8::10"]
    security_groups: [sg-ext]
)",
      {
          Pass("no extensions, TCP 80", V6().Tcp(40000, 80, kSyn)),
          Pass("hop-by-hop, TCP 80",
               V6().Ipv6Extension(kHopByHop).Tcp(40001, 80, kSyn)),
          Drop("hop-by-hop, TCP 22", "no_rule_matched",
               V6().Ipv6Extension(kHopByHop).Tcp(40002, 22, kSyn)),
          Pass("hop-by-hop, routing (24 bytes), dest-opts (16), TCP 80",
               V6().Ipv6Extension(kHopByHop)
                   .Ipv6Extension(kRouting, 24)
                   .Ipv6Extension(kDestOpts, 16)
                   .Tcp(40003, 80, kSyn)),
          Pass("AH (24 bytes, 4-byte units), TCP 80",
               V6().Ipv6Extension(kAh, 24).Tcp(40004, 80, kSyn)),
          Pass("hop-by-hop, dest-opts, routing, AH, dest-opts, TCP 80",
               V6().Ipv6Extension(kHopByHop)
                   .Ipv6Extension(kDestOpts)
                   .Ipv6Extension(kRouting)
                   .Ipv6Extension(kAh, 12)
                   .Ipv6Extension(kDestOpts)
                   .Tcp(40005, 80, kSyn)),
          Drop("the same chain, TCP 22", "no_rule_matched",
               V6().Ipv6Extension(kHopByHop)
                   .Ipv6Extension(kDestOpts)
                   .Ipv6Extension(kRouting)
                   .Ipv6Extension(kAh, 12)
                   .Ipv6Extension(kDestOpts)
                   .Tcp(40006, 22, kSyn)),
          Pass("7 extension headers (the most walked), TCP 80",
               V6().Ipv6Extension(kHopByHop)
                   .Ipv6Extension(kDestOpts)
                   .Ipv6Extension(kRouting)
                   .Ipv6Extension(kDestOpts)
                   .Ipv6Extension(kRouting)
                   .Ipv6Extension(kDestOpts)
                   .Ipv6Extension(kDestOpts)
                   .Tcp(40007, 80, kSyn)),
          Drop("8 extension headers: chain too long", "bad_ipv6_extension",
               V6().Ipv6Extension(kHopByHop)
                   .Ipv6Extension(kDestOpts)
                   .Ipv6Extension(kRouting)
                   .Ipv6Extension(kDestOpts)
                   .Ipv6Extension(kRouting)
                   .Ipv6Extension(kDestOpts)
                   .Ipv6Extension(kRouting)
                   .Ipv6Extension(kDestOpts)
                   .Tcp(40008, 80, kSyn)),
          Drop("hop-by-hop names a dest-opts header that is not there",
               "bad_ipv6_extension",
               V6().Ipv6Extension(kHopByHop).Protocol(kDestOpts)),
          Drop("dest-opts whose length runs past the packet",
               "bad_ipv6_extension",
               V6().Ipv6Extension(kDestOpts).Tcp(40009, 80, kSyn)
                   .Poke(14 + 40 + 1, 200)),
          Drop("payload length 0 (a jumbogram) with hop-by-hop",
               "bad_ipv6_extension",
               V6().Ipv6Extension(kHopByHop).Tcp(40011, 80, kSyn)
                   .Poke16(14 + 4, 0)),
          Drop("hop-by-hop, then TCP cut to 12 bytes", "truncated_l4",
               V6().Ipv6Extension(kHopByHop).Protocol(6).Payload(12)),
          Pass("hop-by-hop, first fragment, TCP 80 (id 7)",
               V6().Ipv6Extension(kHopByHop)
                   .Fragment(0, true, 7)
                   .Tcp(40010, 80, kSyn)
                   .Payload(12)),
          Pass("hop-by-hop, later fragment of id 7",
               V6().Ipv6Extension(kHopByHop)
                   .Fragment(32, false, 7)
                   .Protocol(6)
                   .Payload(16)),
          Pass("hop-by-hop, ICMPv6 neighbour solicitation passes",
               V6("fe80::1", "ff02::1:ff00:10")
                   .Ipv6Extension(kHopByHop)
                   .Icmp(135, 0)
                   .Payload(16)),
          Pass("ICMPv6 neighbour advertisement (136) to an address of no "
               "interface passes",
               V6(kClient6, "2001:db8::99").Icmp(136, 0).Payload(16)),
          Drop("ICMPv6 type 135 inside IPv4 (protocol 58) is not neighbour "
               "discovery",
               "unknown_interface",
               V4(kClient4, "198.51.100.99").Protocol(58).Payload(8)
                   .Poke(14 + 20, 135)),
          Drop("no next header (59) after dest-opts: no rule for it",
               "no_rule_matched",
               V6().Ipv6Extension(kDestOpts).Protocol(59)),
      },
  };
}

// ---------------------------------------------------------------- malformed
// Every rule allows everything: only the parser can drop, each frame under
// its own reason. Byte offsets: Ethernet 14, IPv4 header at 14..34.
Case Malformed() {
  return {
      "malformed",
      R"(# Golden case "malformed": everything allowed, so only parsing drops.
version: 1
security_groups:
  sg-all:
    ingress:
      - {protocol: all, cidr: [0.0.0.0/0, "::/0"]}
    egress: []
interfaces:
  eni-all:
    addresses: [198.51.100.10, "2001:db8::10"]
    security_groups: [sg-all]
)",
      {
          Pass("control: a well-formed TCP 80 SYN", V4().Tcp(40000, 80, kSyn)),
          Drop("10-byte frame", "truncated_ethernet",
               V4().Tcp(40001, 80, kSyn).Truncate(10)),
          Drop("13-byte frame: EtherType cut", "truncated_ethernet",
               V4().Tcp(40002, 80, kSyn).Truncate(13)),
          Drop("LLDP (0x88CC)", "non_ip",
               FrameBuilder().EtherType(0x88CC).Payload(32)),
          Drop("IPX (0x8137)", "non_ip",
               FrameBuilder().EtherType(0x8137).Payload(32)),
          Drop("Ethernet header only, EtherType IPv4", "truncated_ip",
               V4().Tcp(40003, 80, kSyn).Truncate(14)),
          Drop("IPv4 header cut to 10 bytes", "truncated_ip",
               V4().Tcp(40004, 80, kSyn).Truncate(24)),
          Drop("IPv4 IHL 4 (16 bytes)", "bad_ip_header",
               V4().Tcp(40005, 80, kSyn).Poke(14, 0x44)),
          Drop("IPv4 IHL 0", "bad_ip_header",
               V4().Tcp(40006, 80, kSyn).Poke(14, 0x40)),
          Drop("IP version 5 in an IPv4 frame", "bad_ip_header",
               V4().Tcp(40007, 80, kSyn).Poke(14, 0x55)),
          Drop("IPv4 total length 16 < header length", "bad_ip_header",
               V4().Tcp(40008, 80, kSyn).Poke16(16, 16)),
          Drop("IPv4 total length 1500 > frame", "truncated_ip",
               V4().Tcp(40009, 80, kSyn).Poke16(16, 1500)),
          Drop("IPv4 IHL 15 (60 bytes) > total length 40", "bad_ip_header",
               V4().Tcp(40010, 80, kSyn).Poke(14, 0x4F)),
          Drop("IPv4 IHL 15 with total length 60 but a 54-byte frame",
               "truncated_ip",
               V4().Tcp(40011, 80, kSyn).Poke(14, 0x4F).Poke16(16, 60)),
          Drop("IPv4 total length 30 leaves half the TCP header in the "
               "padding",
               "truncated_l4",
               V4().Tcp(40021, 80, kSyn).Poke16(16, 30)),
          Pass("IPv4 datagram followed by Ethernet padding",
               V4().Tcp(40012, 80, kSyn).Payload(6).Poke16(16, 40)),
          Drop("TCP header cut to 12 bytes", "truncated_l4",
               V4().Protocol(6).Payload(12)),
          Drop("UDP header cut to 4 bytes", "truncated_l4",
               V4().Protocol(17).Payload(4)),
          Drop("ICMP header cut to 4 bytes", "truncated_l4",
               V4().Protocol(1).Payload(4)),
          Drop("TCP data offset 4 (< 5)", "bad_tcp_header",
               V4().Tcp(40013, 80, kSyn, 4)),
          Drop("TCP data offset 0", "bad_tcp_header",
               V4().Tcp(40014, 80, kSyn, 0)),
          Drop("TCP data offset 15 (60 bytes) past the packet",
               "bad_tcp_header", V4().Tcp(40015, 80, kSyn).Poke(14 + 20 + 12,
                                                                0xF0)),
          Pass("TCP data offset 15 with 40 bytes of options",
               V4().Tcp(40016, 80, kSyn, 15)),
          Drop("IPv6 header cut to 30 bytes", "truncated_ip",
               V6().Tcp(40017, 80, kSyn).Truncate(14 + 30)),
          Drop("IPv6 payload length 400 > frame", "truncated_ip",
               V6().Tcp(40018, 80, kSyn).Poke16(14 + 4, 400)),
          Drop("IP version 4 in an IPv6 frame", "bad_ip_header",
               V6().Tcp(40019, 80, kSyn).Poke(14, 0x40)),
          Drop("IPv6 TCP header cut to 8 bytes", "truncated_l4",
               V6().Protocol(6).Payload(8)),
          Drop("IPv6 UDP header cut to 7 bytes", "truncated_l4",
               V6().Protocol(17).Payload(7)),
          Drop("ICMPv6 header cut to 4 bytes", "truncated_l4",
               V6().Protocol(58).Payload(4)),
          Drop("IPv6 TCP data offset 2", "bad_tcp_header",
               V6().Tcp(40020, 80, kSyn, 2)),
          Pass("control: a well-formed IPv6 UDP datagram",
               V6().Udp(5000, 53).Payload(4)),
          Pass("ARP passes", FrameBuilder().EtherType(0x0806).Payload(28)),
      },
  };
}

// ---------------------------------------------------------------- tcp-flags
// AWS semantics: any TCP packet the rules allow opens a flow (mid-stream
// pickup), whatever its flags, so flag abuse to an allowed port passes and
// to a denied port is dropped. sgate does not police flag combinations.
Case TcpFlags() {
  return {
      "tcp-flags",
      R"(# Golden case "tcp-flags": TCP 80 allowed, TCP 22 not.
version: 1
security_groups:
  sg-flags:
    ingress:
      - {protocol: tcp, ports: 80, cidr: [0.0.0.0/0, "::/0"]}
    egress: []
interfaces:
  eni-flags:
    addresses: [198.51.100.10, "2001:db8::10"]
    security_groups: [sg-flags]
)",
      {
          Pass("SYN+FIN to 80: allowed, opens a flow",
               V4().Tcp(41000, 80, kSyn | kFin)),
          Pass("null flags to 80", V4().Tcp(41001, 80, 0)),
          Pass("FIN without ACK to 80", V4().Tcp(41002, 80, kFin)),
          Pass("RST to 80 with no flow: allowed by the rule",
               V4().Tcp(41003, 80, kRst)),
          Pass("XMAS (FIN+PSH+URG) to 80",
               V4().Tcp(41004, 80, kFin | kPsh | kUrg)),
          Pass("all eight flags to 80", V4().Tcp(41005, 80, 0xFF)),
          Pass("SYN+RST to 80", V4().Tcp(41006, 80, kSyn | kRst)),
          Pass("bare ACK to 80 (mid-stream pickup)",
               V4().Tcp(41007, 80, kAck).Payload(10)),
          Pass("SYN+FIN again on the 41000 flow", 
               V4().Tcp(41000, 80, kSyn | kFin)),
          Drop("SYN+FIN to 22", "no_rule_matched",
               V4().Tcp(41010, 22, kSyn | kFin)),
          Drop("null flags to 22", "no_rule_matched", V4().Tcp(41011, 22, 0)),
          Drop("FIN without ACK to 22", "no_rule_matched",
               V4().Tcp(41012, 22, kFin)),
          Drop("RST to 22 with no flow", "no_rule_matched",
               V4().Tcp(41013, 22, kRst)),
          Drop("XMAS to 22", "no_rule_matched",
               V4().Tcp(41014, 22, kFin | kPsh | kUrg)),
          Drop("source port 80 to 22 (the source port is never matched)",
               "no_rule_matched", V4().Tcp(80, 22, kSyn)),
          Pass("IPv6 SYN+FIN to 80", V6().Tcp(41020, 80, kSyn | kFin)),
          Pass("IPv6 null flags to 80", V6().Tcp(41021, 80, 0)),
          Drop("IPv6 null flags to 22", "no_rule_matched",
               V6().Tcp(41022, 22, 0)),
          Drop("IPv6 RST to 22", "no_rule_matched", V6().Tcp(41023, 22, kRst)),
      },
  };
}

// -------------------------------------------------------------- icmp-errors
// ICMP errors quoting an admitted flow pass (DESIGN.md §5 "stateful"); an
// error about no flow is an ordinary ICMP packet, and no rule allows ICMP
// type 3/11 here. An error arriving from outside quotes a packet our
// interface sent: source = the interface.
Case IcmpErrors() {
  // The reply of a flow the client opened, as the interface sent it.
  auto reply4 = [](uint16_t client_port) {
    return V4(kEni4, kClient4).Tcp(80, client_port, kSyn | kAck);
  };
  return {
      "icmp-errors",
      R"(# Golden case "icmp-errors": TCP 80, UDP 53, echo; no ICMP error rule.
version: 1
security_groups:
  sg-icmp:
    ingress:
      - {protocol: tcp, ports: 80, cidr: [0.0.0.0/0, "::/0"]}
      - {protocol: udp, ports: 53, cidr: [0.0.0.0/0, "::/0"]}
      - {protocol: icmp, icmp_type: 8, cidr: 203.0.113.0/24}
    egress: []
interfaces:
  eni-icmp:
    addresses: [198.51.100.10, "2001:db8::10"]
    security_groups: [sg-icmp]
)",
      {
          Drop("unreachable quoting TCP 80 before any flow exists",
               "no_rule_matched",
               V4(kRouter4).Icmp(3, 1).Quote(reply4(42000), 28)),
          Pass("TCP SYN 42000 -> 80 opens a flow",
               V4().Tcp(42000, 80, kSyn)),
          Pass("host unreachable quoting the flow's reply (28 bytes)",
               V4(kRouter4).Icmp(3, 1).Quote(reply4(42000), 28)),
          Pass("port unreachable quoting the whole reply",
               V4(kRouter4).Icmp(3, 3).Quote(reply4(42000))),
          Pass("time exceeded quoting the flow", 
               V4(kRouter4).Icmp(11, 0).Quote(reply4(42000), 28)),
          Pass("parameter problem quoting the flow",
               V4(kRouter4).Icmp(12, 0).Quote(reply4(42000), 28)),
          Drop("unreachable quoting a port with no flow (42001)",
               "no_rule_matched",
               V4(kRouter4).Icmp(3, 1).Quote(reply4(42001), 28)),
          Drop("unreachable quoting only the IP header of the flow",
               "no_rule_matched",
               V4(kRouter4).Icmp(3, 1).Quote(reply4(42000), 20)),
          Drop("TCP SYN 42002 -> 22: denied, no flow", "no_rule_matched",
               V4().Tcp(42002, 22, kSyn)),
          Drop("unreachable quoting the denied 22 exchange",
               "no_rule_matched",
               V4(kRouter4).Icmp(3, 1).Quote(
                   V4(kEni4, kClient4).Tcp(22, 42002, kRst | kAck), 28)),
          Pass("UDP 53 from 5353 opens a flow", V4().Udp(5353, 53).Payload(4)),
          Pass("port unreachable quoting the UDP flow's reply",
               V4(kRouter4).Icmp(3, 3).Quote(
                   V4(kEni4, kClient4).Udp(53, 5353).Payload(4), 28)),
          Drop("port unreachable quoting another UDP port", "no_rule_matched",
               V4(kRouter4).Icmp(3, 3).Quote(
                   V4(kEni4, kClient4).Udp(53, 5354).Payload(4), 28)),
          Pass("echo request from 203.0.113.5 (rule: type 8)",
               V4().Icmp(8, 0, 0x12340001)),
          Drop("echo request from 192.0.2.1: outside the rule's CIDR",
               "no_rule_matched", V4(kRouter4).Icmp(8, 0, 0x12350001)),
          Drop("echo reply (type 0) with no flow", "no_rule_matched",
               V4().Icmp(0, 0, 0x77770001)),
          Pass("time exceeded quoting the echo flow's reply",
               V4(kRouter4).Icmp(11, 0).Quote(
                   V4(kEni4, kClient4).Icmp(0, 0, 0x12340001), 28)),
          Drop("time exceeded quoting an echo id with no flow",
               "no_rule_matched",
               V4(kRouter4).Icmp(11, 0).Quote(
                   V4(kEni4, kClient4).Icmp(0, 0, 0x12360001), 28)),
          Pass("first fragment of an unreachable quoting the flow (id 21)",
               V4(kRouter4).Fragment(0, true, 21).Icmp(3, 4, 576).Quote(
                   reply4(42000), 32)),
          Pass("later fragment of that unreachable",
               V4(kRouter4).Fragment(40, false, 21).Protocol(1).Payload(16)),
          Drop("first fragment of an unreachable quoting no flow (id 22)",
               "no_rule_matched",
               V4(kRouter4).Fragment(0, true, 22).Icmp(3, 4, 576).Quote(
                   reply4(42009), 32)),
          Drop("later fragment of that unreachable", "orphan_fragment",
               V4(kRouter4).Fragment(40, false, 22).Protocol(1).Payload(16)),
          // IPv6
          Pass("IPv6 TCP SYN 43000 -> 80 opens a flow",
               V6().Tcp(43000, 80, kSyn)),
          Pass("ICMPv6 packet too big quoting the flow's reply",
               V6(kRouter6).Icmp(2, 0, 1280).Quote(
                   V6(kEni6, kClient6).Tcp(80, 43000, kAck).Payload(100))),
          Pass("ICMPv6 unreachable quoting the flow",
               V6(kRouter6).Icmp(1, 4).Quote(
                   V6(kEni6, kClient6).Tcp(80, 43000, kAck), 48)),
          Drop("ICMPv6 unreachable quoting no flow (43001)",
               "no_rule_matched",
               V6(kRouter6).Icmp(1, 4).Quote(
                   V6(kEni6, kClient6).Tcp(80, 43001, kAck), 48)),
          Drop("ICMPv6 time exceeded quoting no flow", "no_rule_matched",
               V6(kRouter6).Icmp(3, 0).Quote(
                   V6(kEni6, kClient6).Udp(53, 5353), 48)),
      },
  };
}

// ----------------------------------------------------------- vlan-fragments
// Fragments across address spaces: the same addresses on VLAN 10 and VLAN
// 20 are two interfaces (DESIGN.md §4), so a later fragment on VLAN 20 is
// not part of a datagram whose first fragment VLAN 10 allowed: it is an
// orphan (DESIGN.md §5 "fragments").
Case VlanFragments() {
  return {
      "vlan-fragments",
      R"(# Golden case "vlan-fragments": one address on VLAN 10 (TCP 80) and
# VLAN 20 (nothing allowed).
version: 1
security_groups:
  sg-open:
    ingress:
      - {protocol: tcp, ports: 80, cidr: 0.0.0.0/0}
    egress: []
  sg-closed:
    ingress: []
    egress: []
interfaces:
  eni-v10:
    vlan: 10
    addresses: [198.51.100.10]
    security_groups: [sg-open]
  eni-v20:
    vlan: 20
    addresses: [198.51.100.10]
    security_groups: [sg-closed]
)",
      {
          Pass("VLAN 10 first fragment, TCP 80 (id 9)",
               V4().Fragment(0, true, 9).Tcp(40000, 80, kSyn).Payload(12)
                   .Vlan(10)),
          Pass("VLAN 10 later fragment of id 9",
               V4().Fragment(32, true, 9).Protocol(6).Payload(16).Vlan(10)),
          Drop("VLAN 20 later fragment, same addresses and id 9: another "
               "interface, no first fragment there",
               "orphan_fragment",
               V4().Fragment(48, false, 9).Protocol(6).Payload(16).Vlan(20)),
          Drop("untagged later fragment, same addresses and id 9",
               "orphan_fragment",
               V4().Fragment(48, false, 9).Protocol(6).Payload(16)),
          Pass("VLAN 10 last fragment of id 9",
               V4().Fragment(48, false, 9).Protocol(6).Payload(16).Vlan(10)),
          Drop("VLAN 20 first fragment, TCP 80 (id 10): eni-v20 allows "
               "nothing",
               "no_rule_matched",
               V4().Fragment(0, true, 10).Tcp(40001, 80, kSyn).Payload(12)
                   .Vlan(20)),
          Drop("VLAN 20 later fragment of id 10", "orphan_fragment",
               V4().Fragment(32, false, 10).Protocol(6).Payload(16)
                   .Vlan(20)),
          Drop("VLAN 10 later fragment of id 10 (its first was VLAN 20's)",
               "orphan_fragment",
               V4().Fragment(32, false, 10).Protocol(6).Payload(16)
                   .Vlan(10)),
      },
  };
}

bool WriteText(const std::string& path, const std::string& text) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return false;
  bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  return std::fclose(f) == 0 && ok;
}

bool WriteCase(const std::string& root, const Case& c) {
  std::string dir = root + "/" + c.name;
  mkdir(dir.c_str(), 0755);
  if (!WriteText(dir + "/policy.yaml", c.policy)) return false;
  sgate::testing::PcapWriter in(dir + "/in.pcap");
  sgate::testing::PcapWriter expect(dir + "/expect.pcap");
  if (!in.ok() || !expect.ok()) return false;
  std::string listing =
      "# frame verdict description (generated by make_golden)\n";
  int number = 0;
  for (const Frame& f : c.frames) {
    std::vector<uint8_t> bytes = f.frame.Build();
    in.Write(bytes);
    if (f.forward) expect.Write(bytes);
    listing += std::to_string(++number) + " " +
               (f.forward ? std::string("forward") : "drop:" + f.reason) +
               " " + f.description + "\n";
  }
  return WriteText(dir + "/expect.txt", listing);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_golden OUT_DIR\n");
    return 2;
  }
  std::string root = argv[1];
  mkdir(root.c_str(), 0755);
  const Case cases[] = {Fragments(),  Vlan(),       Ipv6Extensions(),
                        Malformed(),  TcpFlags(),   IcmpErrors(),
                        VlanFragments()};
  for (const Case& c : cases) {
    if (!WriteCase(root, c)) {
      std::fprintf(stderr, "make_golden: cannot write %s/%s\n", root.c_str(),
                   c.name.c_str());
      return 1;
    }
    std::printf("%s: %zu frames\n", c.name.c_str(), c.frames.size());
  }
  return 0;
}
