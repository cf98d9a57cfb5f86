#pragma once

#include <cstdint>

namespace sgate::dataplane {

// Every reason sgate drops a packet for, listed once:
// X(enumerator, "stable name", "help"). Each dropped packet is counted under
// exactly one, so received = forwarded + the sum of drops (DESIGN.md §6).
// The names are the keys of "drops" in `sgatectl stats --json` and DPDK
// telemetry. The parser's errors come first: ParseFrame returns them
// (ParseError is this enum).
#define SGATE_DROP_REASONS(X)                                                 \
  X(kTruncatedEthernet, "truncated_ethernet",                                 \
    "frames shorter than an Ethernet header and its VLAN tags")               \
  X(kTooManyVlanTags, "too_many_vlan_tags",                                   \
    "frames with more than two VLAN tags")                                    \
  X(kNonIp, "non_ip", "frames of an EtherType other than IPv4, IPv6 and ARP") \
  X(kTruncatedIp, "truncated_ip",                                             \
    "packets shorter than the IP header they announce")                       \
  X(kBadIpHeader, "bad_ip_header",                                            \
    "IP headers of a wrong version or with impossible lengths")               \
  X(kBadIpv6Extension, "bad_ipv6_extension",                                  \
    "IPv6 extension chains truncated or longer than sgate walks")             \
  X(kTruncatedL4, "truncated_l4",                                             \
    "packets or first fragments without a full TCP, UDP or ICMP header")      \
  X(kBadTcpHeader, "bad_tcp_header",                                          \
    "TCP headers whose data offset is under 5 words or past the packet")      \
  X(kUnknownInterface, "unknown_interface",                                   \
    "packets whose inside address belongs to no interface enforced here")    \
  X(kNoRuleMatched, "no_rule_matched",                                        \
    "packets of new flows that no rule of their interface allows")           \
  X(kFlowTableFull, "flow_table_full",                                        \
    "packets of allowed new flows that found no room in the flow table")      \
  X(kOrphanFragment, "orphan_fragment",                                       \
    "later fragments whose first fragment was never seen")                    \
  X(kRevalidationDenied, "revalidation_denied",                               \
    "packets of flows the reloaded rules no longer allow")                    \
  X(kTxFull, "tx_full", "frames the transmit queue refused")                 \
  X(kInterfaceFlowCap, "interface_flow_cap",                                  \
    "packets of allowed new flows of an interface at its max_flows")          \
  X(kSpoofedSource, "spoofed_source",                                         \
    "frames from the inside sent with an interface's address from a MAC "     \
    "not its own (settings.anti_spoofing)")                                    \
  X(kNoPolicy, "no_policy",                                                   \
    "frames that arrived before sgate had any policy to enforce")             \
  X(kDomainNotAllowed, "domain_not_allowed",                                  \
    "packets of flows whose client asked for a name no rule admits, or for "  \
    "none (not TLS or HTTP, no server_name, no Host)")                        \
  X(kDomainUndecided, "domain_undecided",                                     \
    "packets of flows whose name was not known within 4 KiB, 8 segments "     \
    "and 2 s of client payload")

enum class DropReason : uint8_t {
  kNone = 0,  // not dropped: what ParseFrame returns for a good frame
#define SGATE_DROP_ENUMERATOR(enumerator, name, help) enumerator,
  SGATE_DROP_REASONS(SGATE_DROP_ENUMERATOR)
#undef SGATE_DROP_ENUMERATOR
  kCount,
};

// Reasons are numbered from 1 (0 is kNone, no drop).
inline constexpr int kFirstDropReason = 1;
inline constexpr int kDropReasonCount = static_cast<int>(DropReason::kCount);

// The stable name ("no_rule_matched", ...); "none" for kNone.
const char* DropReasonName(DropReason reason);
// One line for an operator: what was dropped.
const char* DropReasonHelp(DropReason reason);

}  // namespace sgate::dataplane
