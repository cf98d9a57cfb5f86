// The Enforcer's operations (DESIGN.md §8) with a FlowAccounting attached,
// as every worker has: per-interface flow caps, anti-spoofing of frames
// from the inside, and the flow-log records it queues.
#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/enforcer.h"
#include "dataplane/flow_accounting.h"
#include "dataplane/reference_table.h"
#include "rules/policy_loader.h"
#include "tests/support/client_hello.h"
#include "tests/support/frame_builder.h"
#include "tests/support/verdicts.h"

namespace sgate::dataplane {
namespace {

using sgate::testing::FrameBuilder;
using sgate::testing::kAck;
using sgate::testing::kSyn;

constexpr char kA[] = "198.51.100.10";   // eni-a: capped at 3 flows
constexpr char kB[] = "198.51.100.11";   // eni-b: no cap
constexpr char kC[] = "198.51.100.12";   // eni-c: no macs
constexpr char kA6[] = "2001:db8::10";
constexpr char kFar[] = "203.0.113.5";
constexpr char kMacA[] = "02:00:00:00:00:0a";
constexpr char kMacB[] = "02:00:00:00:00:0b";

std::string Policy(bool anti_spoofing) {
  return std::string(R"(version: 1
settings:
  anti_spoofing: )") + (anti_spoofing ? "true" : "false") + R"(
  flow_logs: {path: /unused, interval: 60}
security_groups:
  sg-web:
    ingress:
      - {protocol: tcp, ports: 80, cidr: [0.0.0.0/0, "::/0"]}
      - {protocol: udp, ports: 53, cidr: 0.0.0.0/0}
interfaces:
  eni-a:
    addresses: [198.51.100.10, "2001:db8::10"]
    security_groups: [sg-web]
    macs: ["02:00:00:00:00:0a"]
    max_flows: 3
  eni-b:
    addresses: [198.51.100.11]
    security_groups: [sg-web]
    macs: ["02:00:00:00:00:0b"]
  eni-c:
    addresses: [198.51.100.12]
    security_groups: [sg-web]
)";
}

rules::Policy Load(const std::string& yaml) {
  absl::StatusOr<rules::Policy> policy = rules::LoadPolicyString(yaml, "p");
  EXPECT_TRUE(policy.ok()) << policy.status();
  return *std::move(policy);
}

struct Free {
  void operator()(void* p) const { std::free(p); }
};

class EnforcerOperationsTest : public ::testing::Test {
 protected:
  static constexpr uint32_t kCapacity = 64;
  EnforcerOperationsTest()
      : flow_memory_(std::aligned_alloc(64, FlowTable::MemoryFor(kCapacity))),
        side_memory_(
            std::aligned_alloc(64, FlowAccounting::MemoryFor(kCapacity))),
        flows_(flow_memory_.get(), kCapacity),
        accounting_(std::make_unique<FlowAccounting>(side_memory_.get(),
                                                     kCapacity)),
        enforcer_(flows_) {
    flows_.Attach(accounting_.get());
    UsePolicy(Policy(/*anti_spoofing=*/true));
  }

  void UsePolicy(const std::string& yaml) {
    table_ = std::make_unique<ReferenceTable>(Load(yaml), "", ++generation_);
  }
  Verdict In(const FrameBuilder& f) { return Send(f, Side::kOutside); }
  Verdict Out(const FrameBuilder& f) { return Send(f, Side::kInside); }
  Verdict Send(const FrameBuilder& f, Side side) {
    std::vector<uint8_t> frame = f.Build();
    return enforcer_.Process(frame.data(), frame.size(), side, now_, *table_);
  }
  static FrameBuilder V4(const char* src, const char* dst) {
    FrameBuilder f;
    f.Ipv4(src, dst);
    return f;
  }
  // A SYN to port 80 of `server` from kFar's `sport`.
  Verdict Connect(const char* server, uint16_t sport) {
    return In(V4(kFar, server).Tcp(sport, 80, kSyn));
  }
  uint64_t Drops(DropReason r) const {
    return enforcer_.counters().drops[static_cast<int>(r)];
  }
  uint16_t SlotOf(const char* interface) const {
    const std::vector<std::string>& names = table_->interface_names();
    for (uint32_t id = 0; id < names.size(); ++id) {
      if (names[id] == interface) return table_->interfaces().SlotOf(id);
    }
    return kNoSlot;
  }
  const InterfaceCounters& CountersOf(const char* interface) const {
    return accounting_->counters(SlotOf(interface));
  }
  // Everything queued for the flow-log writer.
  std::vector<FlowLogRecord> Drain() {
    std::vector<FlowLogRecord> all(FlowAccounting::kQueueSize);
    all.resize(accounting_->Drain(all.data(), all.size()));
    return all;
  }
  // Asks for a flush and serves it as the worker loop would.
  void Flush() {
    accounting_->RequestFlush();
    for (int i = 0; i < 100 && !accounting_->FlushServed(); ++i) {
      accounting_->ServeFlush(flows_);
    }
    ASSERT_TRUE(accounting_->FlushServed());
  }

  std::unique_ptr<void, Free> flow_memory_;
  std::unique_ptr<void, Free> side_memory_;
  FlowTable flows_;
  std::unique_ptr<FlowAccounting> accounting_;  // ~1 MiB: not on the stack
  Enforcer enforcer_;
  std::unique_ptr<ReferenceTable> table_;
  uint32_t generation_ = 0;
  uint32_t now_ = 1000;
};


TEST(InterfaceTableTest, WorkersShareACapRoundedUp) {
  EXPECT_EQ(InterfaceTable::Share(10, 1), 10u);
  EXPECT_EQ(InterfaceTable::Share(10, 2), 5u);
  EXPECT_EQ(InterfaceTable::Share(3, 2), 2u);
  EXPECT_EQ(InterfaceTable::Share(1, 4), 1u);  // never 0
}

TEST(InterfaceTableTest, LimitsFollowTheSlots) {
  rules::Policy policy = Load(Policy(true));
  std::vector<std::string> names = {"eni-a", "eni-b", "eni-c"};
  InterfaceTable table(policy, names, {7, 2, kNoSlot}, /*workers=*/2);
  EXPECT_TRUE(table.anti_spoofing());
  EXPECT_EQ(table.SlotOf(0), 7u);
  EXPECT_EQ(table.SlotOf(2), kNoSlot);
  EXPECT_EQ(table.SlotOf(99), kNoSlot);  // no such id
  EXPECT_EQ(table.limits(7).flow_cap, 2u);  // 3 over two workers
  EXPECT_EQ(table.limits(2).flow_cap, UINT32_MAX);
  EXPECT_TRUE(table.limits(7).SendsFrom(0x02000000000a));
  EXPECT_FALSE(table.limits(7).SendsFrom(0x02000000000b));
  // No MACs listed, or no interface at all: not checked.
  EXPECT_TRUE(table.limits(kNoSlot).SendsFrom(0x02000000000b));
  EXPECT_TRUE(table.limits(5).SendsFrom(0x02000000000b));
}

TEST_F(EnforcerOperationsTest, CapRefusesNewFlowsOfThatInterfaceOnly) {
  for (uint16_t port = 40000; port < 40003; ++port) {
    EXPECT_FORWARD(Connect(kA, port));
  }
  EXPECT_EQ(CountersOf("eni-a").flows, 3u);
  EXPECT_DROP(Connect(kA, 40003), DropReason::kInterfaceFlowCap);
  FrameBuilder v6;
  v6.Ipv6("2001:db8:ff::5", kA6).Tcp(40004, 80, kSyn);
  EXPECT_DROP(In(v6), DropReason::kInterfaceFlowCap);  // either family
  EXPECT_EQ(CountersOf("eni-a").interface_flow_cap, 2u);
  EXPECT_EQ(Drops(DropReason::kInterfaceFlowCap), 2u);
  // Its existing flows go on; other interfaces open flows freely.
  EXPECT_FORWARD(In(V4(kFar, kA).Tcp(40000, 80, kAck)));
  for (uint16_t port = 40000; port < 40010; ++port) {
    EXPECT_FORWARD(Connect(kB, port));
  }
  EXPECT_EQ(CountersOf("eni-b").flows, 10u);
  EXPECT_EQ(CountersOf("eni-b").interface_flow_cap, 0u);
}

TEST_F(EnforcerOperationsTest, AFlowThatGoesMakesRoomUnderTheCap) {
  for (uint16_t port = 40000; port < 40003; ++port) Connect(kA, port);
  EXPECT_DROP(Connect(kA, 40003), DropReason::kInterfaceFlowCap);
  // The SYN_SENT flows time out (tcp_transitory, 60 s); expiry frees them.
  now_ += 61;
  flows_.ExpireSome(now_, kCapacity);
  EXPECT_EQ(CountersOf("eni-a").flows, 0u);
  EXPECT_FORWARD(Connect(kA, 40003));
  EXPECT_EQ(CountersOf("eni-a").flows, 1u);
  // Found expired by a lookup rather than the sweep: counted down too.
  now_ += 61;
  EXPECT_FORWARD(Connect(kA, 40003));
  EXPECT_EQ(CountersOf("eni-a").flows, 1u);
  EXPECT_EQ(flows_.counters().active, 1u);
}

TEST_F(EnforcerOperationsTest, CapCountsSurviveAReloadThatRenumbers) {
  for (uint16_t port = 40000; port < 40003; ++port) Connect(kA, port);
  const uint16_t slot = SlotOf("eni-a");
  // A new interface sorts first: every table id moves by one. The control
  // thread keeps each interface's slot (control/interface_slots.h).
  std::string yaml = Policy(true);
  yaml += "  eni-0:\n    addresses: [198.51.100.9]\n";
  UsePolicy(yaml);
  const std::vector<std::string>& names = table_->interface_names();
  ASSERT_EQ(names[0], "eni-0");
  std::vector<uint16_t> slots;
  for (const std::string& name : names) {
    slots.push_back(name == "eni-0" ? 3 : name == "eni-a" ? slot
                                      : name == "eni-b"   ? 1
                                                          : 2);
  }
  table_->set_interfaces(
      InterfaceTable(table_->policy(), names, slots, /*workers=*/1));
  EXPECT_EQ(SlotOf("eni-a"), slot);
  EXPECT_DROP(Connect(kA, 40003), DropReason::kInterfaceFlowCap);
  EXPECT_EQ(CountersOf("eni-a").flows, 3u);
}

TEST_F(EnforcerOperationsTest, SpoofedSourcesFromTheInsideAreDropped) {
  // eni-a's address from eni-b's MAC: opening a flow, or on a flow eni-a
  // already has.
  EXPECT_DROP(Out(V4(kA, kFar).SourceMac(kMacB).Udp(5353, 53)),
              DropReason::kSpoofedSource);
  EXPECT_FORWARD(Connect(kA, 40000));
  EXPECT_FORWARD(Out(V4(kA, kFar).SourceMac(kMacA).Tcp(80, 40000, kSyn | kAck)));
  EXPECT_DROP(Out(V4(kA, kFar).SourceMac(kMacB).Tcp(80, 40000, kAck)),
              DropReason::kSpoofedSource);
  EXPECT_EQ(CountersOf("eni-a").spoofed_source, 2u);
  EXPECT_EQ(Drops(DropReason::kSpoofedSource), 2u);
  // Its own MAC, and an interface without macs: pass.
  EXPECT_FORWARD(Out(V4(kA, kFar).SourceMac(kMacA).Udp(5353, 53)));
  EXPECT_FORWARD(Out(V4(kC, kFar).SourceMac(kMacB).Udp(5353, 53)));
  // From outside, a source MAC means nothing here.
  EXPECT_FORWARD(In(V4(kFar, kA).SourceMac(kMacB).Tcp(40001, 80, kSyn)));
  // An address no interface owns is unknown_interface, not spoofed.
  EXPECT_DROP(Out(V4("198.51.100.99", kFar).SourceMac(kMacB).Udp(1, 53)),
              DropReason::kUnknownInterface);
}

TEST_F(EnforcerOperationsTest, AntiSpoofingIsOffByDefault) {
  UsePolicy(Policy(/*anti_spoofing=*/false));
  EXPECT_FORWARD(Out(V4(kA, kFar).SourceMac(kMacB).Udp(5353, 53)));
  EXPECT_EQ(Drops(DropReason::kSpoofedSource), 0u);
}

// An Ethernet/IPv4 ARP packet from `sender` (reply) sent from `mac`.
FrameBuilder Arp(const char* sender, const char* mac) {
  FrameBuilder f;
  f.EtherType(0x0806).Payload(28).SourceMac(mac);
  const size_t arp = 14;
  f.Poke16(arp, 1).Poke16(arp + 2, 0x0800).Poke(arp + 4, 6).Poke(arp + 5, 4);
  f.Poke16(arp + 6, 2);
  in_addr a;
  inet_pton(AF_INET, sender, &a);
  const auto* bytes = reinterpret_cast<const uint8_t*>(&a);
  for (int i = 0; i < 4; ++i) f.Poke(arp + 14 + i, bytes[i]);
  return f;
}

TEST_F(EnforcerOperationsTest, ArpAndNeighbourDiscoveryAreCheckedToo) {
  EXPECT_FORWARD(Out(Arp(kA, kMacA)));
  EXPECT_DROP(Out(Arp(kA, kMacB)), DropReason::kSpoofedSource);
  EXPECT_FORWARD(Out(Arp("198.51.100.99", kMacB)));  // no interface's
  // Neighbour advertisement from eni-a's address, then from its link-local
  // address (which no interface lists): hosts need both.
  FrameBuilder na;
  na.Ipv6(kA6, "ff02::1").Icmp(136, 0).SourceMac(kMacA);
  EXPECT_FORWARD(Out(na));
  na.SourceMac(kMacB);
  EXPECT_DROP(Out(na), DropReason::kSpoofedSource);
  FrameBuilder link_local;
  link_local.Ipv6("fe80::a", "ff02::1").Icmp(135, 0).SourceMac(kMacA);
  EXPECT_FORWARD(Out(link_local));
  EXPECT_EQ(CountersOf("eni-a").spoofed_source, 2u);
}

TEST_F(EnforcerOperationsTest, FlowRecordsCountIpBytesPerDirection) {
  EXPECT_FORWARD(Connect(kA, 40000));  // 40 bytes of IP
  EXPECT_FORWARD(Out(V4(kA, kFar).SourceMac(kMacA).Tcp(80, 40000, kSyn | kAck)));
  EXPECT_FORWARD(In(V4(kFar, kA).Tcp(40000, 80, kAck).Payload(100)));
  Flush();
  std::vector<FlowLogRecord> records = Drain();
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].kind, FlowLogKind::kAccept);
  EXPECT_TRUE(records[0].ingress);
  EXPECT_EQ(records[0].packets, 2u);
  EXPECT_EQ(records[0].bytes, 40u + 140u);
  EXPECT_EQ(records[0].slot, SlotOf("eni-a"));
  EXPECT_EQ(records[0].start, 1000u);
  EXPECT_EQ(records[0].end, 1000u);
  EXPECT_FALSE(records[1].ingress);
  EXPECT_EQ(records[1].packets, 1u);
  EXPECT_EQ(records[1].bytes, 40u);
  EXPECT_EQ(records[2].kind, FlowLogKind::kIntervalEnd);
  // The next interval reports only what came after.
  now_ = 1010;
  EXPECT_FORWARD(In(V4(kFar, kA).Tcp(40000, 80, kAck)));
  Flush();
  records = Drain();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].packets, 1u);
  EXPECT_EQ(records[0].start, 1000u);  // when the interval began
  EXPECT_EQ(records[0].end, 1010u);
  // A quiet interval: only its end.
  Flush();
  EXPECT_EQ(Drain().size(), 1u);
}

// The flow entry counts in 16 bits and carries over into its cold fields
// (FlowTable::Count): flow logs report the whole count, in every interval.
TEST_F(EnforcerOperationsTest, RecordsCountPastTheEntrysNarrowCounters) {
  std::vector<uint8_t> frame =
      V4(kA, kFar).SourceMac(kMacA).Udp(5353, 53).Build();
  auto send = [&](int packets) {
    for (int i = 0; i < packets; ++i) {
      ASSERT_TRUE(enforcer_.Process(frame.data(), frame.size(), Side::kInside,
                                    now_, *table_).forward);
    }
  };
  send(70000);
  Flush();
  std::vector<FlowLogRecord> records = Drain();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].packets, 70000u);
  EXPECT_EQ(records[0].bytes, 70000u * 28);
  now_ += 10;
  send(70000);
  Flush();
  records = Drain();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].packets, 70000u);
  EXPECT_EQ(records[0].bytes, 70000u * 28);
  send(3);
  now_ += 31;  // udp timeout: the flow goes with its last packets
  flows_.ExpireSome(now_, kCapacity);
  records = Drain();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].packets, 3u);
  EXPECT_EQ(records[0].bytes, 3u * 28);
}

TEST_F(EnforcerOperationsTest, AFlowThatGoesReportsItsLastPackets) {
  EXPECT_FORWARD(Out(V4(kA, kFar).SourceMac(kMacA).Udp(5353, 53)));
  now_ += 31;  // udp timeout
  flows_.ExpireSome(now_, kCapacity);
  std::vector<FlowLogRecord> records = Drain();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].kind, FlowLogKind::kAccept);
  EXPECT_FALSE(records[0].ingress);
  EXPECT_EQ(records[0].bytes, 28u);
  EXPECT_EQ(records[0].key.local_port, 5353);
}

TEST_F(EnforcerOperationsTest, RejectedPacketsAggregateByTuple) {
  for (int i = 0; i < 3; ++i) {
    EXPECT_DROP(In(V4(kFar, kB).Tcp(40000, 22, kSyn)),
                DropReason::kNoRuleMatched);
  }
  EXPECT_DROP(In(V4(kFar, kB).Tcp(40001, 22, kSyn)),
              DropReason::kNoRuleMatched);
  for (uint16_t port = 40000; port < 40004; ++port) Connect(kA, port);
  EXPECT_TRUE(Drain().empty());  // held in the worker until the flush
  Flush();
  uint32_t rejects = 0, capped = 0;
  for (const FlowLogRecord& r : Drain()) {
    if (r.kind != FlowLogKind::kReject) continue;
    ++rejects;
    EXPECT_TRUE(r.ingress);
    if (r.slot == SlotOf("eni-a")) {
      ++capped;
      EXPECT_EQ(r.key.remote_port, 40003);
      EXPECT_EQ(r.packets, 1u);
    } else {
      EXPECT_EQ(r.slot, SlotOf("eni-b"));
      EXPECT_EQ(r.packets, r.key.remote_port == 40000 ? 3u : 1u);
      EXPECT_EQ(r.bytes, 40u * r.packets);
    }
  }
  EXPECT_EQ(rejects, 3u);
  EXPECT_EQ(capped, 1u);
}

TEST_F(EnforcerOperationsTest, AFlowRevalidatedOutLeavesTheCountAndIsLogged) {
  auto policy = [](bool http) {
    return std::string(R"(version: 1
settings:
  revalidate_on_change: true
  flow_logs: {path: /unused}
security_groups:
  sg-web:
    ingress:
      - {protocol: tcp, ports: 22, cidr: 0.0.0.0/0})") +
           (http ? "\n      - {protocol: tcp, ports: 80, cidr: 0.0.0.0/0}"
                 : "") +
           R"(
interfaces:
  eni-a: {addresses: [198.51.100.10], security_groups: [sg-web], max_flows: 1}
)";
  };
  UsePolicy(policy(true));
  EXPECT_FORWARD(Connect(kA, 40000));
  EXPECT_DROP(Connect(kA, 40001), DropReason::kInterfaceFlowCap);
  UsePolicy(policy(false));  // port 80 no longer allowed
  EXPECT_DROP(In(V4(kFar, kA).Tcp(40000, 80, kAck)),
              DropReason::kRevalidationDenied);
  EXPECT_EQ(CountersOf("eni-a").flows, 0u);
  EXPECT_FORWARD(In(V4(kFar, kA).Tcp(40002, 22, kSyn)));  // room again
  Flush();
  uint32_t accepted = 0, rejected = 0;
  for (const FlowLogRecord& r : Drain()) {
    if (r.kind == FlowLogKind::kAccept) ++accepted;
    if (r.kind == FlowLogKind::kReject && r.key.remote_port == 40000) {
      ++rejected;
      EXPECT_EQ(r.packets, 1u);
    }
  }
  EXPECT_EQ(accepted, 2u);  // the removed flow's SYN, the ssh SYN
  EXPECT_EQ(rejected, 1u);
}

// A connection its name denies: the handshake passed and is the flow's
// (ACCEPT); the packets dropped from then on are REJECT records.
TEST_F(EnforcerOperationsTest, PacketsOfAFlowDeniedByNameAreLoggedAsReject) {
  UsePolicy(R"(version: 1
settings:
  flow_logs: {path: /unused}
  domain_reject: drop
security_groups:
  sg-app:
    egress:
      - {protocol: tcp, ports: 443, cidr: 0.0.0.0/0, domains: [ok.example]}
interfaces:
  eni-app: {addresses: [198.51.100.10], security_groups: [sg-app]}
)");
  const char* app = "198.51.100.10";
  EXPECT_FORWARD(Out(V4(app, kFar).Tcp(40000, 443, kSyn).Sequence(100)));
  EXPECT_FORWARD(
      In(V4(kFar, app).Tcp(443, 40000, kSyn | kAck).Sequence(500, 101)));
  EXPECT_FORWARD(Out(V4(app, kFar).Tcp(40000, 443, kAck).Sequence(101, 501)));
  const std::vector<uint8_t> hello =
      sgate::testing::ClientHelloBuilder().ServerName("no.example").Build();
  for (int i = 0; i < 2; ++i) {  // the ClientHello, and again
    EXPECT_DROP(Out(V4(app, kFar)
                        .Tcp(40000, 443, kAck)
                        .Sequence(101, 501)
                        .Data(hello)),
                DropReason::kDomainNotAllowed);
  }
  Flush();
  uint32_t accept_packets = 0, reject_packets = 0, rejects = 0;
  for (const FlowLogRecord& r : Drain()) {
    if (r.kind == FlowLogKind::kAccept) accept_packets += r.packets;
    if (r.kind == FlowLogKind::kReject) {
      ++rejects;
      reject_packets += r.packets;
      EXPECT_FALSE(r.ingress);
      EXPECT_EQ(r.slot, SlotOf("eni-app"));
      EXPECT_EQ(r.key.remote_port, 443);
      EXPECT_EQ(r.bytes, 2 * (40 + hello.size()));
    }
  }
  EXPECT_EQ(accept_packets, 3u);  // SYN, SYN-ACK, ACK
  EXPECT_EQ(rejects, 1u);
  EXPECT_EQ(reject_packets, 2u);
}

TEST_F(EnforcerOperationsTest, NoRecordsWhileFlowLogsAreOff) {
  UsePolicy(R"(version: 1
security_groups:
  sg-web:
    ingress: [{protocol: tcp, ports: 80, cidr: 0.0.0.0/0}]
interfaces:
  eni-a: {addresses: [198.51.100.10], security_groups: [sg-web]}
)");
  EXPECT_DROP(In(V4(kFar, kA).Tcp(40000, 22, kSyn)),
              DropReason::kNoRuleMatched);
  EXPECT_FORWARD(Connect(kA, 40000));
  now_ += 61;
  flows_.ExpireSome(now_, kCapacity);
  EXPECT_TRUE(Drain().empty());
}

TEST_F(EnforcerOperationsTest, AFullQueueLosesRecordsAndCountsThem) {
  // Closed flows queue their last packets whatever the queue holds; past
  // its size they are lost, and counted against their interface.
  const uint32_t flows = kCapacity;
  uint32_t opened = 0;
  for (uint32_t round = 0; opened < FlowAccounting::kQueueSize + 10; ++round) {
    for (uint32_t i = 0; i < flows; ++i) {
      opened += Out(V4(kC, kFar).Udp(static_cast<uint16_t>(i), 53)).forward;
    }
    now_ += 31;
    flows_.ExpireSome(now_, kCapacity);
  }
  EXPECT_EQ(CountersOf("eni-c").flow_log_records_lost,
            opened - FlowAccounting::kQueueSize);
  EXPECT_EQ(Drain().size(), FlowAccounting::kQueueSize);
}

}  // namespace
}  // namespace sgate::dataplane
