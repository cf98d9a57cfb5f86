#include "rules/reference.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "rules/policy_loader.h"

namespace sgate::rules {
namespace {

// Builds the packets of the table, Katran-style:
//   In("198.51.100.10").From("203.0.113.5").Tcp(443)
//   Out("198.51.100.10").To("203.0.113.5").Icmp(8, 0)
// There is no source port to set: PacketKey has none, because the
// semantics never match it (DESIGN.md §5, ports).
class Packet {
 public:
  Packet(Direction d, const char* local) {
    key_.direction = d;
    key_.local = *ParseIpAddress(local);
  }
  Packet& From(const char* remote) {
    key_.remote = *ParseIpAddress(remote);
    return *this;
  }
  Packet& To(const char* remote) { return From(remote); }
  Packet& Tcp(uint16_t port) { return Proto(kProtocolTcp).Port(port); }
  Packet& Udp(uint16_t port) { return Proto(kProtocolUdp).Port(port); }
  Packet& Icmp(uint8_t type, uint8_t code) {
    key_.protocol =
        key_.local.family == Family::kIPv4 ? kProtocolIcmp : kProtocolIcmpv6;
    key_.icmp_type = type;
    key_.icmp_code = code;
    return *this;
  }
  // ICMP fields under an explicit protocol number, e.g. icmpv6 in IPv4.
  Packet& TypeCode(uint8_t type, uint8_t code) {
    key_.icmp_type = type;
    key_.icmp_code = code;
    return *this;
  }
  Packet& Proto(uint8_t protocol) {
    key_.protocol = protocol;
    return *this;
  }
  Packet& Port(uint16_t port) {
    key_.dst_port = port;
    return *this;
  }
  Packet& Vlan(uint16_t vlan) {
    key_.vlan = vlan;
    return *this;
  }
  const PacketKey& key() const { return key_; }

 private:
  PacketKey key_;
};
Packet In(const char* local) { return Packet(Direction::kIngress, local); }
Packet Out(const char* local) { return Packet(Direction::kEgress, local); }

// Five groups on one interface, members on other nodes, prefix lists, a
// default group with members on several nodes, and a VLAN twin.
constexpr char kPolicy[] = R"(version: 1
prefix_lists:
  pl-mixed: [203.0.113.0/24, "2001:db8:100::/48"]
security_groups:
  sg-ports:
    ingress:
      - {protocol: tcp, ports: 1000-2000, cidr: 0.0.0.0/0}
      - {protocol: udp, ports: 53, cidr: [192.0.2.0/24, "2001:db8:53::/48"]}
      - {protocol: tcp, ports: 0, cidr: 192.0.2.1/32}
      - {protocol: tcp, ports: 65535, cidr: 192.0.2.1/32}
    egress: []
  sg-icmp:
    ingress:
      - {protocol: icmp, icmp_type: 8, cidr: 0.0.0.0/0}
      - {protocol: icmp, icmp_type: 3, icmp_code: 4, cidr: 0.0.0.0/0}
      - {protocol: icmpv6, cidr: "2001:db8::/32"}
    egress: []
  sg-proto:
    ingress:
      - {protocol: 50, cidr: 0.0.0.0/0}
      - {protocol: all, cidr: "2001:db8:ff::/48"}
      - {protocol: 6, ports: 22, prefix_list: pl-mixed}
    egress:
      - {protocol: udp, ports: 123, cidr: 0.0.0.0/0}
  sg-ref:
    ingress:
      - {protocol: tcp, ports: 5432, security_group: sg-app}
    egress: []
  sg-dup:
    ingress:
      - {protocol: tcp, ports: 1500, cidr: 203.0.113.0/24}
    egress: []
  sg-app: {}
interfaces:
  eni-multi:
    addresses: [198.51.100.10, "2001:db8::10"]
    security_groups: [sg-ports, sg-icmp, sg-proto, sg-ref, sg-dup]
  eni-app-1:
    addresses: [198.51.100.21, "2001:db8::21"]
    security_groups: [sg-app]
  eni-app-2:
    node: host-b
    addresses: [198.51.100.22]
    security_groups: [sg-app]
  eni-remote:
    node: host-b
    addresses: [198.51.100.30]
    security_groups: [sg-ports]
  eni-default:
    addresses: [198.51.100.40, "2001:db8::40"]
  eni-default-2:
    node: host-c
    addresses: [198.51.100.41]
  eni-vlan5:
    addresses: [198.51.100.10]
    vlan: 5
    security_groups: [sg-icmp]
)";

// An explicit default group and unknown interfaces passed.
constexpr char kPassPolicy[] = R"(version: 1
settings: {unknown_interface: pass}
security_groups:
  default:
    ingress: [{protocol: tcp, ports: 22, cidr: 192.0.2.0/24}]
    egress: []
interfaces:
  eni-x: {addresses: [198.51.100.50]}
)";

// Address families and CIDR edges, protocol numbers, ICMP -1/-1, an
// explicit default group whose egress is omitted, egress to a referenced
// group, and an address that exists only in a VLAN.
constexpr char kFamilyPolicy[] = R"(version: 1
security_groups:
  default:
    ingress:
      - {protocol: tcp, ports: 22, cidr: 192.0.2.0/24}
  sg-fam:
    ingress:
      - {protocol: tcp, ports: 80, cidr: "::/0"}
      - {protocol: tcp, ports: 443, cidr: "2001:db8::5/128"}
      - {protocol: 17, ports: 500-501, cidr: 0.0.0.0/0}
      - {protocol: icmp, icmp_type: -1, icmp_code: -1, cidr: 192.0.2.0/25}
      - {protocol: icmpv6, icmp_type: 128, cidr: "2001:db8::/32"}
    egress:
      - {protocol: tcp, ports: 443, security_group: default}
interfaces:
  eni-fam:
    addresses: [198.51.100.60, "2001:db8::60"]
    security_groups: [sg-fam]
  eni-d:
    addresses: [198.51.100.70, "2001:db8::70"]
  eni-d-far:
    node: host-b
    addresses: ["2001:db8::71"]
  eni-vlan-only:
    addresses: [198.51.100.80]
    vlan: 7
    security_groups: [sg-fam]
)";

enum class Expect { kAllow, kDeny, kUnknownDropped, kUnknownPassed };

struct Case {
  const char* description;
  Packet packet;
  Expect expect;
  // "group/direction/index" of every rule that allows it.
  std::vector<std::string> rules = {};
  const char* interface = nullptr;  // checked when set
  const char* node = "";
  const char* policy = kPolicy;
};

constexpr char kMulti[] = "198.51.100.10";
constexpr char kMulti6[] = "2001:db8::10";
constexpr char kFar[] = "203.0.113.5";
constexpr char kFar6[] = "2001:db8::99";

// Each row keeps its fields together; clang-format would give every field
// its own line.
// clang-format off
const Case kCases[] = {
    // Ports: the destination port, range edges, protocol must match.
    {"tcp at the range start", In(kMulti).From(kFar).Tcp(1000), Expect::kAllow,
     {"sg-ports/ingress/0"}, "eni-multi"},
    {"tcp at the range end", In(kMulti).From(kFar).Tcp(2000), Expect::kAllow,
     {"sg-ports/ingress/0"}},
    {"tcp below the range", In(kMulti).From(kFar).Tcp(999), Expect::kDeny, {},
     "eni-multi"},
    {"tcp above the range", In(kMulti).From(kFar).Tcp(2001), Expect::kDeny},
    {"overlapping rules of two groups both decide",
     In(kMulti).From(kFar).Tcp(1500), Expect::kAllow,
     {"sg-dup/ingress/0", "sg-ports/ingress/0"}},
    {"overlap needs the remote of both",
     In(kMulti).From("198.51.100.99").Tcp(1500), Expect::kAllow,
     {"sg-ports/ingress/0"}},
    {"port 0", In(kMulti).From("192.0.2.1").Tcp(0), Expect::kAllow,
     {"sg-ports/ingress/2"}},
    {"a /32 matches one address only", In(kMulti).From("192.0.2.2").Tcp(0),
     Expect::kDeny},
    {"port 65535", In(kMulti).From("192.0.2.1").Tcp(65535), Expect::kAllow,
     {"sg-ports/ingress/3"}},
    {"port 65534", In(kMulti).From("192.0.2.1").Tcp(65534), Expect::kDeny},
    {"port 1 is not port 0", In(kMulti).From("192.0.2.1").Tcp(1),
     Expect::kDeny},
    {"udp from the last address of a /24",
     In(kMulti).From("192.0.2.255").Udp(53), Expect::kAllow,
     {"sg-ports/ingress/1"}},
    {"udp from just past the /24", In(kMulti).From("192.0.3.0").Udp(53),
     Expect::kDeny},
    {"udp to another port", In(kMulti).From("192.0.2.1").Udp(54),
     Expect::kDeny},
    {"tcp to a udp port", In(kMulti).From("192.0.2.1").Tcp(53), Expect::kDeny},
    {"udp over IPv6 from a mixed-family list",
     In(kMulti6).From("2001:db8:53::1").Udp(53), Expect::kAllow,
     {"sg-ports/ingress/1"}, "eni-multi"},
    {"udp over IPv6 from outside the /48",
     In(kMulti6).From("2001:db8:54::1").Udp(53), Expect::kDeny},
    {"an IPv4 /0 never matches IPv6", In(kMulti6).From(kFar6).Tcp(1000),
     Expect::kDeny},

    // ICMP type and code.
    {"echo request, code 0", In(kMulti).From(kFar).Icmp(8, 0), Expect::kAllow,
     {"sg-icmp/ingress/0"}},
    {"echo request, any code", In(kMulti).From(kFar).Icmp(8, 5),
     Expect::kAllow, {"sg-icmp/ingress/0"}},
    {"echo reply is another type", In(kMulti).From(kFar).Icmp(0, 0),
     Expect::kDeny},
    {"type and code both match", In(kMulti).From(kFar).Icmp(3, 4),
     Expect::kAllow, {"sg-icmp/ingress/1"}},
    {"right type, wrong code", In(kMulti).From(kFar).Icmp(3, 3),
     Expect::kDeny},
    {"right code, wrong type", In(kMulti).From(kFar).Icmp(4, 4),
     Expect::kDeny},
    {"type 255", In(kMulti).From(kFar).Icmp(255, 255), Expect::kDeny},
    {"icmpv6 with any type", In(kMulti6).From(kFar6).Icmp(128, 0),
     Expect::kAllow, {"sg-icmp/ingress/2"}},
    {"icmpv6 error types too", In(kMulti6).From("2001:db8:1::1").Icmp(1, 3),
     Expect::kAllow, {"sg-icmp/ingress/2"}},
    {"icmpv6 from outside 2001:db8::/32", In(kMulti6).From("2001:db9::1")
                                              .Icmp(128, 0),
     Expect::kDeny},
    {"protocol 1 in IPv6 is not icmpv6",
     In(kMulti6).From(kFar6).Proto(kProtocolIcmp), Expect::kDeny},
    {"icmpv6 matched by two rules",
     In(kMulti6).From("2001:db8:ff::1").Icmp(128, 0), Expect::kAllow,
     {"sg-icmp/ingress/2", "sg-proto/ingress/1"}},

    // Protocols without ports; protocol all.
    {"ESP by number", In(kMulti).From(kFar).Proto(50), Expect::kAllow,
     {"sg-proto/ingress/0"}},
    {"AH is not ESP", In(kMulti).From(kFar).Proto(51), Expect::kDeny},
    {"an IPv4 rule for ESP does not match IPv6",
     In(kMulti6).From(kFar6).Proto(50), Expect::kDeny},
    {"all matches GRE", In(kMulti6).From("2001:db8:ff::1").Proto(47),
     Expect::kAllow, {"sg-proto/ingress/1"}},
    {"all matches any tcp port",
     In(kMulti6).From("2001:db8:ff::1").Tcp(80), Expect::kAllow,
     {"sg-proto/ingress/1"}},
    {"all matches udp port 65535",
     In(kMulti6).From("2001:db8:ff::1").Udp(65535), Expect::kAllow,
     {"sg-proto/ingress/1"}},
    {"all matches protocol 0", In(kMulti6).From("2001:db8:ff::1").Proto(0),
     Expect::kAllow, {"sg-proto/ingress/1"}},
    {"all matches protocol 255",
     In(kMulti6).From("2001:db8:ff:ffff::1").Proto(255), Expect::kAllow,
     {"sg-proto/ingress/1"}},
    {"all does not reach past its /48",
     In(kMulti6).From("2001:db8:100::1").Proto(255), Expect::kDeny},

    // Prefix lists (protocol 6 is tcp).
    {"prefix list, IPv4 entry", In(kMulti).From("203.0.113.200").Tcp(22),
     Expect::kAllow, {"sg-proto/ingress/2"}},
    {"prefix list, IPv6 entry", In(kMulti6).From("2001:db8:100:ffff::1")
                                    .Tcp(22),
     Expect::kAllow, {"sg-proto/ingress/2"}},
    {"prefix list, IPv6 past the entry",
     In(kMulti6).From("2001:db8:101::1").Tcp(22), Expect::kDeny},
    {"prefix list, IPv4 past the entry",
     In(kMulti).From("198.51.100.99").Tcp(22), Expect::kDeny},
    {"prefix list, other port", In(kMulti).From("203.0.113.200").Tcp(23),
     Expect::kDeny},

    // Referenced groups: every member, on every node, same family.
    {"from a member here", In(kMulti).From("198.51.100.21").Tcp(5432),
     Expect::kAllow, {"sg-ref/ingress/0"}},
    {"from a member on another node",
     In(kMulti).From("198.51.100.22").Tcp(5432), Expect::kAllow,
     {"sg-ref/ingress/0"}},
    {"from a member's IPv6 address", In(kMulti6).From("2001:db8::21")
                                         .Tcp(5432),
     Expect::kAllow, {"sg-ref/ingress/0"}},
    {"from an interface of another group",
     In(kMulti).From("198.51.100.30").Tcp(5432), Expect::kDeny},
    {"from next to a member", In(kMulti).From("198.51.100.23").Tcp(5432),
     Expect::kDeny},

    // Egress, and groups without rules.
    {"egress by an egress rule", Out(kMulti).To(kFar).Udp(123),
     Expect::kAllow, {"sg-proto/egress/0"}, "eni-multi"},
    {"egress to another port", Out(kMulti).To(kFar).Udp(124), Expect::kDeny},
    {"an ingress rule never allows egress", Out(kMulti).To(kFar).Tcp(1000),
     Expect::kDeny},
    {"egress omitted allows all, IPv4", Out("198.51.100.21").To(kFar).Tcp(443),
     Expect::kAllow, {"sg-app/egress/0"}, "eni-app-1"},
    {"egress omitted allows all, IPv6", Out("2001:db8::21").To(kFar6).Udp(1),
     Expect::kAllow, {"sg-app/egress/0"}},
    {"a new group has no ingress", In("198.51.100.21").From(kFar).Tcp(443),
     Expect::kDeny, {}, "eni-app-1"},

    // The implicit default group.
    {"default: from a member on another node",
     In("198.51.100.40").From("198.51.100.41").Tcp(22), Expect::kAllow,
     {"default/ingress/0"}, "eni-default"},
    {"default: any protocol from members",
     In("198.51.100.40").From("198.51.100.41").Proto(47), Expect::kAllow,
     {"default/ingress/0"}},
    {"default: not from non-members",
     In("198.51.100.40").From("198.51.100.21").Tcp(22), Expect::kDeny},
    {"default: egress to anywhere", Out("198.51.100.40").To(kFar).Tcp(25),
     Expect::kAllow, {"default/egress/0"}},
    {"default: egress to anywhere, IPv6", Out("2001:db8::40").To(kFar6)
                                              .Proto(47),
     Expect::kAllow, {"default/egress/0"}, "eni-default"},
    {"default: not from a non-member over IPv6",
     In("2001:db8::40").From("2001:db8::21").Tcp(22), Expect::kDeny},
    {"default: enforced on its own node",
     In("198.51.100.41").From("198.51.100.40").Udp(9), Expect::kAllow,
     {"default/ingress/0"}, "eni-default-2", "host-c"},

    // Which interfaces this node enforces.
    {"an interface of another node is unknown here",
     In("198.51.100.30").From(kFar).Tcp(1000), Expect::kUnknownDropped},
    {"...and enforced on its node", In("198.51.100.30").From(kFar).Tcp(1000),
     Expect::kAllow, {"sg-ports/ingress/0"}, "eni-remote", "host-b"},
    {"node-less interfaces are enforced on every node",
     In(kMulti).From(kFar).Tcp(1000), Expect::kAllow, {"sg-ports/ingress/0"},
     "eni-multi", "host-b"},
    {"an unknown address", In("198.51.100.99").From(kFar).Tcp(1000),
     Expect::kUnknownDropped},
    {"egress of another node's interface on that node",
     Out("198.51.100.22").To(kFar).Tcp(1), Expect::kAllow, {"sg-app/egress/0"},
     "eni-app-2", "host-b"},
    {"a third node's interface is unknown on host-b",
     In("198.51.100.41").From("198.51.100.40").Udp(9), Expect::kUnknownDropped,
     {}, nullptr, "host-b"},

    // VLANs are address spaces.
    {"the VLAN twin has its own groups",
     In(kMulti).Vlan(5).From(kFar).Icmp(8, 0), Expect::kAllow,
     {"sg-icmp/ingress/0"}, "eni-vlan5"},
    {"...and not the untagged interface's",
     In(kMulti).Vlan(5).From(kFar).Tcp(1000), Expect::kDeny, {}, "eni-vlan5"},
    {"another VLAN knows no such address",
     In(kMulti).Vlan(6).From(kFar).Tcp(1000), Expect::kUnknownDropped},

    // An explicit default group; unknown_interface: pass.
    {"unknown interfaces pass when configured",
     In("198.51.100.99").From(kFar).Tcp(1), Expect::kUnknownPassed, {},
     nullptr, "", kPassPolicy},
    {"an explicit default group's own rule",
     In("198.51.100.50").From("192.0.2.9").Tcp(22), Expect::kAllow,
     {"default/ingress/0"}, "eni-x", "", kPassPolicy},
    {"an explicit default group has no member rule",
     In("198.51.100.50").From("198.51.100.50").Tcp(80), Expect::kDeny, {},
     "eni-x", "", kPassPolicy},
    {"egress: [] allows nothing", Out("198.51.100.50").To(kFar).Tcp(80),
     Expect::kDeny, {}, "eni-x", "", kPassPolicy},

    // Address families and CIDR edges.
    {"::/0 matches any IPv6 remote",
     In("2001:db8::60").From("2001:db8:abcd::1").Tcp(80), Expect::kAllow,
     {"sg-fam/ingress/0"}, "eni-fam", "", kFamilyPolicy},
    {"::/0 never matches IPv4", In("198.51.100.60").From(kFar).Tcp(80),
     Expect::kDeny, {}, "eni-fam", "", kFamilyPolicy},
    {"a /128 matches its address", In("2001:db8::60").From("2001:db8::5")
                                       .Tcp(443),
     Expect::kAllow, {"sg-fam/ingress/1"}, nullptr, "", kFamilyPolicy},
    {"a /128, one address below", In("2001:db8::60").From("2001:db8::4")
                                      .Tcp(443),
     Expect::kDeny, {}, nullptr, "", kFamilyPolicy},
    {"a /128, one address above", In("2001:db8::60").From("2001:db8::6")
                                      .Tcp(443),
     Expect::kDeny, {}, nullptr, "", kFamilyPolicy},
    {"0.0.0.0/0 matches 0.0.0.0", In("198.51.100.60").From("0.0.0.0").Udp(500),
     Expect::kAllow, {"sg-fam/ingress/2"}, nullptr, "", kFamilyPolicy},
    {"0.0.0.0/0 matches 255.255.255.255",
     In("198.51.100.60").From("255.255.255.255").Udp(501), Expect::kAllow,
     {"sg-fam/ingress/2"}, nullptr, "", kFamilyPolicy},

    // Protocol 17 is udp.
    {"protocol 17 below its range", In("198.51.100.60").From(kFar).Udp(499),
     Expect::kDeny, {}, nullptr, "", kFamilyPolicy},
    {"protocol 17 above its range", In("198.51.100.60").From(kFar).Udp(502),
     Expect::kDeny, {}, nullptr, "", kFamilyPolicy},
    {"protocol 17 is not tcp", In("198.51.100.60").From(kFar).Tcp(500),
     Expect::kDeny, {}, nullptr, "", kFamilyPolicy},
    {"an IPv4 udp rule does not match IPv6",
     In("2001:db8::60").From(kFar6).Udp(500), Expect::kDeny, {}, nullptr, "",
     kFamilyPolicy},

    // ICMP -1/-1, specific ICMPv6 types, ICMP and ICMPv6 apart.
    {"icmp -1/-1: type 0 code 0", In("198.51.100.60").From("192.0.2.1")
                                      .Icmp(0, 0),
     Expect::kAllow, {"sg-fam/ingress/3"}, nullptr, "", kFamilyPolicy},
    {"icmp -1/-1: type 255 code 255, last address of the /25",
     In("198.51.100.60").From("192.0.2.127").Icmp(255, 255), Expect::kAllow,
     {"sg-fam/ingress/3"}, nullptr, "", kFamilyPolicy},
    {"icmp -1/-1: first address past the /25",
     In("198.51.100.60").From("192.0.2.128").Icmp(8, 0), Expect::kDeny, {},
     nullptr, "", kFamilyPolicy},
    {"icmpv6 type 128, code 0", In("2001:db8::60").From(kFar6).Icmp(128, 0),
     Expect::kAllow, {"sg-fam/ingress/4"}, nullptr, "", kFamilyPolicy},
    {"icmpv6 type 128, any code", In("2001:db8::60").From(kFar6).Icmp(128, 7),
     Expect::kAllow, {"sg-fam/ingress/4"}, nullptr, "", kFamilyPolicy},
    {"icmpv6 type 129 is another type",
     In("2001:db8::60").From(kFar6).Icmp(129, 0), Expect::kDeny, {}, nullptr,
     "", kFamilyPolicy},
    {"icmpv6 is not icmp, even from an icmp-allowed remote",
     In("198.51.100.60").From("192.0.2.1").Proto(kProtocolIcmpv6)
         .TypeCode(128, 0),
     Expect::kDeny, {}, nullptr, "", kFamilyPolicy},
    {"icmp in IPv6 is not icmpv6",
     In("2001:db8::60").From(kFar6).Proto(kProtocolIcmp).TypeCode(128, 0),
     Expect::kDeny, {}, nullptr, "", kFamilyPolicy},

    // An explicit default group: its own rules only, egress omitted = all.
    {"explicit default: its own ingress rule",
     In("198.51.100.70").From("192.0.2.9").Tcp(22), Expect::kAllow,
     {"default/ingress/0"}, "eni-d", "", kFamilyPolicy},
    {"explicit default: no ingress from its members",
     In("2001:db8::70").From("2001:db8::71").Tcp(22), Expect::kDeny, {},
     "eni-d", "", kFamilyPolicy},
    {"explicit default: egress omitted allows IPv4",
     Out("198.51.100.70").To(kFar).Tcp(25), Expect::kAllow,
     {"default/egress/0"}, "eni-d", "", kFamilyPolicy},
    {"explicit default: egress omitted allows IPv6",
     Out("2001:db8::70").To(kFar6).Proto(50), Expect::kAllow,
     {"default/egress/0"}, "eni-d", "", kFamilyPolicy},

    // Egress to a referenced group.
    {"egress to a member on another node, IPv6",
     Out("2001:db8::60").To("2001:db8::71").Tcp(443), Expect::kAllow,
     {"sg-fam/egress/0"}, "eni-fam", "", kFamilyPolicy},
    {"egress to a member, IPv4", Out("198.51.100.60").To("198.51.100.70")
                                     .Tcp(443),
     Expect::kAllow, {"sg-fam/egress/0"}, "eni-fam", "", kFamilyPolicy},
    {"egress to a non-member", Out("2001:db8::60").To("2001:db8::72").Tcp(443),
     Expect::kDeny, {}, "eni-fam", "", kFamilyPolicy},
    {"egress to a member on another port",
     Out("198.51.100.60").To("198.51.100.70").Tcp(80), Expect::kDeny, {},
     "eni-fam", "", kFamilyPolicy},
    {"the egress rule never allows ingress",
     In("198.51.100.60").From("198.51.100.70").Tcp(443), Expect::kDeny, {},
     "eni-fam", "", kFamilyPolicy},

    // An address that exists only in a VLAN.
    {"a VLAN-only address is unknown untagged",
     In("198.51.100.80").From(kFar).Udp(500), Expect::kUnknownDropped, {},
     nullptr, "", kFamilyPolicy},
    {"a VLAN-only address in its VLAN", In("198.51.100.80").Vlan(7).From(kFar)
                                            .Udp(500),
     Expect::kAllow, {"sg-fam/ingress/2"}, "eni-vlan-only", "", kFamilyPolicy},

    // Node filtering with the family policy.
    {"host-b enforces its interface",
     In("2001:db8::71").From("2001:db8::70").Tcp(22), Expect::kDeny, {},
     "eni-d-far", "host-b", kFamilyPolicy},
    {"host-c does not", In("2001:db8::71").From("2001:db8::70").Tcp(22),
     Expect::kUnknownDropped, {}, nullptr, "host-c", kFamilyPolicy},
};
// clang-format on

std::string RuleName(const Policy& policy, uint32_t id) {
  const RuleRef& ref = policy.rules()[id];
  return absl::StrCat(ref.group, "/", DirectionName(ref.direction), "/",
                      ref.index);
}

std::string DecisionName(Decision d) {
  switch (d) {
    case Decision::kAllowedByRule:
      return "kAllowedByRule";
    case Decision::kNoRuleMatched:
      return "kNoRuleMatched";
    case Decision::kUnknownInterfaceDropped:
      return "kUnknownInterfaceDropped";
    case Decision::kUnknownInterfacePassed:
      return "kUnknownInterfacePassed";
    case Decision::kPendingName:
      return "kPendingName";
    case Decision::kNameNotAllowed:
      return "kNameNotAllowed";
  }
  return "?";
}

std::string ExpectedDecision(Expect e) {
  switch (e) {
    case Expect::kAllow:
      return DecisionName(Decision::kAllowedByRule);
    case Expect::kDeny:
      return DecisionName(Decision::kNoRuleMatched);
    case Expect::kUnknownDropped:
      return DecisionName(Decision::kUnknownInterfaceDropped);
    case Expect::kUnknownPassed:
      return DecisionName(Decision::kUnknownInterfacePassed);
  }
  return "?";
}

TEST(ReferenceTest, SemanticsTable) {
  ASSERT_GE(std::size(kCases), 60u);
  std::map<const char*, Policy> policies;
  for (const char* yaml : {kPolicy, kPassPolicy, kFamilyPolicy}) {
    absl::StatusOr<Policy> p = LoadPolicyString(yaml);
    ASSERT_TRUE(p.ok()) << p.status();
    policies.emplace(yaml, *std::move(p));
  }
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.description);
    const Policy& policy = policies.at(c.policy);
    Reference reference(policy, c.node);
    Verdict v = reference.Evaluate(c.packet.key());
    // Names, not enum bytes, so a failure reads "kNoRuleMatched".
    EXPECT_EQ(DecisionName(v.decision), ExpectedDecision(c.expect));
    EXPECT_EQ(v.allowed,
              c.expect == Expect::kAllow || c.expect == Expect::kUnknownPassed);
    const bool known = c.expect == Expect::kAllow || c.expect == Expect::kDeny;
    EXPECT_EQ(v.interface != nullptr, known);
    if (c.interface != nullptr && v.interface != nullptr) {
      EXPECT_EQ(v.interface->name, c.interface);
    }
    std::vector<std::string> rules;
    for (uint32_t id : v.matching_rules) rules.push_back(RuleName(policy, id));
    EXPECT_EQ(rules, c.rules);
  }
}

// Union is order-free: listing the groups in another order changes nothing.
TEST(ReferenceTest, GroupOrderDoesNotMatter) {
  absl::StatusOr<Policy> a = LoadPolicyString(kPolicy);
  ASSERT_TRUE(a.ok());
  Policy b = *a;
  std::vector<std::string>& groups =
      b.interfaces.at("eni-multi").security_groups;
  std::reverse(groups.begin(), groups.end());
  Reference ra(*a), rb(b);
  for (const Case& c : kCases) {
    if (c.policy != kPolicy) continue;
    Verdict va = ra.Evaluate(c.packet.key());
    Verdict vb = rb.Evaluate(c.packet.key());
    EXPECT_EQ(va.allowed, vb.allowed) << c.description;
    EXPECT_EQ(va.matching_rules, vb.matching_rules) << c.description;
  }
}

}  // namespace
}  // namespace sgate::rules
