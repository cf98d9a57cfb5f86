#include "dataplane/enforcer.h"

#include "dataplane/reference_table.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>
#include <random>
#include <vector>

#include "tests/support/frame_builder.h"
#include "tests/support/verdicts.h"

namespace sgate::dataplane {
namespace {

using sgate::testing::FrameBuilder;
using sgate::testing::kAck;
using sgate::testing::kFin;
using sgate::testing::kRst;
using sgate::testing::kSyn;

constexpr char kWeb[] = "198.51.100.10";
constexpr char kWeb6[] = "2001:db8::10";
constexpr char kNeighbour[] = "198.51.100.1";  // in the subnet
constexpr char kFar[] = "203.0.113.5";          // outside it

rules::Rule MakeRule(int protocol, std::initializer_list<const char*> cidrs,
                     uint16_t low = 0, uint16_t high = 65535,
                     int icmp_type = rules::kIcmpAny) {
  rules::Rule rule;
  rule.protocol = protocol;
  rule.port_low = low;
  rule.port_high = high;
  rule.icmp_type = icmp_type;
  for (const char* c : cidrs) rule.cidrs.push_back(*rules::ParseCidr(c));
  return rule;
}

// sg-web: http from anywhere, ping and dns from the subnet; egress only dns
// to the subnet. One interface, eni-web.
rules::Policy WebPolicy() {
  rules::Policy policy;
  rules::SecurityGroup& web = policy.security_groups["sg-web"];
  web.name = "sg-web";
  web.egress_omitted = false;
  web.ingress = {
      MakeRule(6, {"0.0.0.0/0", "::/0"}, 80, 80),
      MakeRule(1, {"198.51.100.0/24"}, 0, 65535, 8),
      MakeRule(17, {"198.51.100.0/24"}, 53, 53),
  };
  web.egress = {MakeRule(17, {"198.51.100.0/24"}, 53, 53)};
  rules::Interface& eni = policy.interfaces["eni-web"];
  eni.name = "eni-web";
  eni.addresses = {*rules::ParseIpAddress(kWeb),
                   *rules::ParseIpAddress(kWeb6)};
  eni.security_groups = {"sg-web"};
  rules::AssignRuleIds(policy);
  return policy;
}

class EnforcerTest : public ::testing::Test {
 protected:
  explicit EnforcerTest(uint32_t capacity = 64)
      : memory_(static_cast<uint8_t*>(
            std::aligned_alloc(64, FlowTable::MemoryFor(capacity)))),
        flows_(memory_.get(), capacity),
        table_(WebPolicy(), /*node=*/"", /*generation=*/1),
        enforcer_(flows_) {}

  // From outside (ingress) or inside (egress), at time `now_`.
  Verdict In(const FrameBuilder& f) { return Send(f, Side::kOutside); }
  Verdict Out(const FrameBuilder& f) { return Send(f, Side::kInside); }
  Verdict Send(const FrameBuilder& f, Side side) {
    std::vector<uint8_t> frame = f.Build();
    return enforcer_.Process(frame.data(), frame.size(), side, now_, table_);
  }
  static FrameBuilder V4(const char* src, const char* dst) {
    FrameBuilder f;
    f.Ipv4(src, dst);
    return f;
  }
  uint64_t Drops(DropReason r) {
    return enforcer_.counters().drops[static_cast<int>(r)];
  }

  struct Free {
    void operator()(uint8_t* p) const { std::free(p); }
  };
  std::unique_ptr<uint8_t, Free> memory_;
  FlowTable flows_;
  ReferenceTable table_;
  Enforcer enforcer_;
  uint32_t now_ = 1000;
};


TEST_F(EnforcerTest, TcpHandshakeRepliesPassWithoutAnEgressRule) {
  EXPECT_FORWARD(In(V4(kFar, kWeb).Tcp(40000, 80, kSyn)));
  EXPECT_FORWARD(Out(V4(kWeb, kFar).Tcp(80, 40000, kSyn | kAck)));
  EXPECT_FORWARD(In(V4(kFar, kWeb).Tcp(40000, 80, kAck)));
  EXPECT_EQ(flows_.counters().created, 1u);
  uint32_t established = 0;
  flows_.ForEach(now_, [&](const FlowRecord& e) {
    established += e.state == FlowState::kTcpEstablished;
    EXPECT_EQ(e.rule_id, 0u);  // sg-web ingress[0]
    EXPECT_EQ(e.generation, 1u);
    EXPECT_EQ(e.packets[0], 2u);
    EXPECT_EQ(e.packets[1], 1u);
  });
  EXPECT_EQ(established, 1u);
  // One flow admitted by sg-web ingress[0] (rule 0); replies admit none.
  EXPECT_EQ(table_.rule_counters().Admitted(0), 1u);
  EXPECT_EQ(table_.rule_counters().Admitted(1), 0u);
}

TEST_F(EnforcerTest, DeniedByRulesInEitherDirection) {
  EXPECT_DROP(In(V4(kFar, kWeb).Tcp(40000, 22, kSyn)),
              DropReason::kNoRuleMatched);
  // The server may not open connections except dns to the subnet.
  EXPECT_DROP(Out(V4(kWeb, kFar).Tcp(40001, 443, kSyn)),
              DropReason::kNoRuleMatched);
  EXPECT_DROP(Out(V4(kWeb, kFar).Udp(40001, 53)), DropReason::kNoRuleMatched);
  EXPECT_EQ(flows_.counters().created, 0u);
}

TEST_F(EnforcerTest, SourcePortNeverMatters) {
  // A reply-looking packet from port 80 to a high port is a new flow that
  // the rules (destination port only) do not allow.
  EXPECT_DROP(In(V4(kFar, kWeb).Tcp(80, 40000, kAck)),
              DropReason::kNoRuleMatched);
}

TEST_F(EnforcerTest, EgressFlowAdmitsItsReplies) {
  EXPECT_FORWARD(Out(V4(kWeb, kNeighbour).Udp(33333, 53)));
  // The reply's destination port is 33333, which no ingress rule allows.
  EXPECT_FORWARD(In(V4(kNeighbour, kWeb).Udp(53, 33333)));
  // Another port of the same host is a different flow.
  EXPECT_DROP(In(V4(kNeighbour, kWeb).Udp(53, 33334)),
              DropReason::kNoRuleMatched);
}

TEST_F(EnforcerTest, PingAndItsReply) {
  EXPECT_FORWARD(In(V4(kNeighbour, kWeb).Icmp(8, 0, 0x0042'0001)));
  EXPECT_FORWARD(Out(V4(kWeb, kNeighbour).Icmp(0, 0, 0x0042'0001)));
  // Another echo id is another flow; from afar ping is not allowed.
  EXPECT_DROP(Out(V4(kWeb, kNeighbour).Icmp(0, 0, 0x0043'0001)),
              DropReason::kNoRuleMatched);
  EXPECT_DROP(In(V4(kFar, kWeb).Icmp(8, 0, 0x0042'0001)),
              DropReason::kNoRuleMatched);
  // Only type 8 is allowed: a timestamp request is not.
  EXPECT_DROP(In(V4(kNeighbour, kWeb).Icmp(13, 0)),
              DropReason::kNoRuleMatched);
}

TEST_F(EnforcerTest, IcmpErrorsFollowTheFlowTheyQuote) {
  EXPECT_FORWARD(In(V4(kFar, kWeb).Tcp(40000, 80, kSyn)));
  // A router on the way back says the client is unreachable: it quotes
  // the server's SYN-ACK. No rule allows ICMP type 3 from afar.
  FrameBuilder reply = V4(kWeb, kFar);
  reply.Tcp(80, 40000, kSyn | kAck);
  EXPECT_FORWARD(In(V4("192.0.2.1", kWeb).Icmp(3, 1).Quote(reply, 28)));
  // The server itself reports a problem with the client's packet.
  FrameBuilder request = V4(kFar, kWeb);
  request.Tcp(40000, 80, kAck);
  EXPECT_FORWARD(Out(V4(kWeb, kFar).Icmp(3, 3).Quote(request, 28)));
  EXPECT_EQ(enforcer_.counters().icmp_errors_of_flows, 2u);
  // An error quoting no flow of ours is an ordinary ICMP packet.
  FrameBuilder other = V4(kWeb, kFar);
  other.Tcp(80, 40001, kAck);
  EXPECT_DROP(In(V4("192.0.2.1", kWeb).Icmp(3, 1).Quote(other, 28)),
              DropReason::kNoRuleMatched);
}

TEST_F(EnforcerTest, LaterFragmentsFollowTheFirst) {
  EXPECT_FORWARD(In(V4(kNeighbour, kWeb).Udp(5353, 53).Payload(1000)
                        .Fragment(0, true, 77)));
  EXPECT_FORWARD(In(V4(kNeighbour, kWeb).Protocol(17).Payload(500)
                        .Fragment(1008, false, 77)));
  // A datagram whose first fragment was denied: its rest are orphans.
  EXPECT_DROP(In(V4(kFar, kWeb).Udp(5353, 53).Payload(1000)
                     .Fragment(0, true, 78)),
              DropReason::kNoRuleMatched);
  EXPECT_DROP(In(V4(kFar, kWeb).Protocol(17).Payload(500)
                     .Fragment(1008, false, 78)),
              DropReason::kOrphanFragment);
  // A later fragment with no first fragment at all.
  EXPECT_DROP(In(V4(kNeighbour, kWeb).Protocol(17).Payload(8)
                     .Fragment(8, false, 79)),
              DropReason::kOrphanFragment);
  // The memory is short-lived.
  now_ += FragmentTable::kTimeoutSeconds;
  EXPECT_DROP(In(V4(kNeighbour, kWeb).Protocol(17).Payload(500)
                     .Fragment(1008, false, 77)),
              DropReason::kOrphanFragment);
}

TEST_F(EnforcerTest, FragmentsFollowTheirFirstOnlyInTheirOwnVlan) {
  // Two interfaces with one address: untagged (eni-web) and on VLAN 10.
  rules::Policy policy = WebPolicy();
  rules::Interface& tagged = policy.interfaces["eni-web-10"];
  tagged.name = "eni-web-10";
  tagged.addresses = {*rules::ParseIpAddress(kWeb)};
  tagged.security_groups = {"sg-web"};
  tagged.vlan = 10;
  rules::AssignRuleIds(policy);
  ReferenceTable table(policy, "", 1);
  auto send = [&](const FrameBuilder& f) {
    std::vector<uint8_t> frame = f.Build();
    return enforcer_.Process(frame.data(), frame.size(), Side::kOutside,
                             now_, table);
  };
  EXPECT_FORWARD(send(V4(kNeighbour, kWeb).Vlan(10).Udp(5353, 53)
                          .Payload(1000).Fragment(0, true, 90)));
  EXPECT_FORWARD(send(V4(kNeighbour, kWeb).Vlan(10).Protocol(17).Payload(8)
                          .Fragment(1008, false, 90)));
  // The same addresses and id, untagged or on VLAN 20: no first fragment
  // was allowed there.
  EXPECT_DROP(send(V4(kNeighbour, kWeb).Protocol(17).Payload(8)
                       .Fragment(1008, false, 90)),
              DropReason::kOrphanFragment);
  EXPECT_DROP(send(V4(kNeighbour, kWeb).Vlan(20).Protocol(17).Payload(8)
                       .Fragment(1008, false, 90)),
              DropReason::kOrphanFragment);
}

TEST_F(EnforcerTest, Ipv6FragmentsAndFlows) {
  FrameBuilder first;
  first.Ipv6("2001:db8::99", kWeb6).Fragment(0, true, 5).Tcp(41000, 80, kSyn)
      .Payload(1200);
  EXPECT_FORWARD(In(first));
  FrameBuilder later;
  later.Ipv6("2001:db8::99", kWeb6).Fragment(1232, false, 5).Protocol(6)
      .Payload(100);
  EXPECT_FORWARD(In(later));
  FrameBuilder reply;
  reply.Ipv6(kWeb6, "2001:db8::99").Tcp(80, 41000, kSyn | kAck);
  EXPECT_FORWARD(Out(reply));
}

TEST_F(EnforcerTest, UnknownInterface) {
  EXPECT_DROP(In(V4(kFar, "198.51.100.99").Tcp(40000, 80, kSyn)),
              DropReason::kUnknownInterface);
  // A tagged frame belongs to another address space than the untagged
  // interface.
  EXPECT_DROP(In(V4(kFar, kWeb).Vlan(5).Tcp(40000, 80, kSyn)),
              DropReason::kUnknownInterface);
  table_.mutable_policy().settings.unknown_interface =
      rules::UnknownInterfaceAction::kPass;
  EXPECT_FORWARD(In(V4(kFar, "198.51.100.99").Tcp(40000, 80, kSyn)));
  EXPECT_EQ(enforcer_.counters().unknown_interface_passed, 1u);
  EXPECT_EQ(flows_.counters().created, 0u);  // not tracked
}

TEST_F(EnforcerTest, ArpPassesOtherFramesAreCounted) {
  EXPECT_FORWARD(In(FrameBuilder().EtherType(0x0806).Payload(28)));
  EXPECT_FORWARD(In(FrameBuilder().Ipv6("fe80::1", "ff02::1").Icmp(135, 0)
                        .Payload(24)));
  EXPECT_DROP(In(FrameBuilder().EtherType(0x88CC).Payload(40)),
              DropReason::kNonIp);
  EXPECT_DROP(In(V4(kFar, kWeb).Tcp(1, 80).Truncate(40)),
              DropReason::kTruncatedIp);
}

TEST_F(EnforcerTest, IdleTimeoutsPerState) {
  EXPECT_FORWARD(Out(V4(kWeb, kNeighbour).Udp(33333, 53)));
  now_ += 29;
  EXPECT_FORWARD(In(V4(kNeighbour, kWeb).Udp(53, 33333)));  // now a stream
  now_ += 179;
  EXPECT_FORWARD(In(V4(kNeighbour, kWeb).Udp(53, 33333)));
  now_ += 180;  // idle for udp_stream: gone
  EXPECT_DROP(In(V4(kNeighbour, kWeb).Udp(53, 33333)),
              DropReason::kNoRuleMatched);
  EXPECT_EQ(flows_.counters().expired, 1u);

  // One-way UDP lives 30 s.
  EXPECT_FORWARD(Out(V4(kWeb, kNeighbour).Udp(33334, 53)));
  now_ += 30;
  EXPECT_DROP(In(V4(kNeighbour, kWeb).Udp(53, 33334)),
              DropReason::kNoRuleMatched);
}

TEST_F(EnforcerTest, RstAndFinShortenTcpTimeouts) {
  EXPECT_FORWARD(In(V4(kFar, kWeb).Tcp(40000, 80, kAck)));  // mid-stream
  now_ += 3600;  // established: 5 days
  EXPECT_FORWARD(Out(V4(kWeb, kFar).Tcp(80, 40000, kAck)));
  EXPECT_FORWARD(Out(V4(kWeb, kFar).Tcp(80, 40000, kRst)));
  now_ += kTcpClosedTimeout;
  EXPECT_DROP(Out(V4(kWeb, kFar).Tcp(80, 40000, kAck)),
              DropReason::kNoRuleMatched);

  EXPECT_FORWARD(In(V4(kFar, kWeb).Tcp(40001, 80, kAck)));
  EXPECT_FORWARD(In(V4(kFar, kWeb).Tcp(40001, 80, kFin | kAck)));
  now_ += 59;  // one FIN: transitory (60 s)
  EXPECT_FORWARD(Out(V4(kWeb, kFar).Tcp(80, 40001, kFin | kAck)));
  now_ += kTcpClosedTimeout;
  EXPECT_DROP(Out(V4(kWeb, kFar).Tcp(80, 40001, kAck)),
              DropReason::kNoRuleMatched);
}

// Reloads: the same flows meet a new table (generation 2) without the
// http rule.
rules::Policy WithoutHttp(bool revalidate, bool open_egress) {
  rules::Policy policy = WebPolicy();
  rules::SecurityGroup& web = policy.security_groups["sg-web"];
  web.ingress.erase(web.ingress.begin());  // tcp 80 from anywhere
  if (open_egress) web.egress = {MakeRule(-1, {"0.0.0.0/0", "::/0"})};
  policy.settings.revalidate_on_change = revalidate;
  rules::AssignRuleIds(policy);
  return policy;
}

TEST_F(EnforcerTest, TrackedFlowsOutliveTheirRule) {
  EXPECT_FORWARD(In(V4(kFar, kWeb).Tcp(40000, 80, kSyn)));
  ReferenceTable reloaded(WithoutHttp(false, false), "", 2);
  std::vector<uint8_t> ack = V4(kFar, kWeb).Tcp(40000, 80, kAck).Build();
  EXPECT_FORWARD(enforcer_.Process(ack.data(), ack.size(), Side::kOutside,
                                   now_, reloaded));
  // ...while a new connection is refused.
  std::vector<uint8_t> syn = V4(kFar, kWeb).Tcp(40001, 80, kSyn).Build();
  EXPECT_DROP(enforcer_.Process(syn.data(), syn.size(), Side::kOutside, now_,
                                reloaded),
              DropReason::kNoRuleMatched);
}

// A SYN re-sent on a flow that exists (a retransmission, a replayed
// capture, a port reused after the FIN exchange) is a packet of that flow:
// the flow table decides it, the rules are not asked again. The check:
// each packet meets a table of the same generation whose rules would now
// refuse the SYN, and the `classified` counter says how many packets the
// rules decided.
TEST_F(EnforcerTest, ASynOnAnExistingFlowIsDecidedByTheFlow) {
  ReferenceTable no_http(WithoutHttp(false, false), "", /*generation=*/1);
  auto in = [&](uint8_t flags) {
    std::vector<uint8_t> f = V4(kFar, kWeb).Tcp(40000, 80, flags).Build();
    return enforcer_.Process(f.data(), f.size(), Side::kOutside, now_,
                             no_http);
  };
  auto out = [&](uint8_t flags) {
    std::vector<uint8_t> f = V4(kWeb, kFar).Tcp(80, 40000, flags).Build();
    return enforcer_.Process(f.data(), f.size(), Side::kInside, now_,
                             no_http);
  };
  auto state = [&] {
    FlowState s = FlowState::kOther;
    flows_.ForEach(now_, [&](const FlowRecord& e) { s = e.state; });
    return s;
  };
  EXPECT_FORWARD(In(V4(kFar, kWeb).Tcp(40000, 80, kSyn)));  // http allowed
  EXPECT_EQ(enforcer_.counters().classified, 1u);
  EXPECT_FORWARD(out(kSyn | kAck));
  EXPECT_FORWARD(in(kAck));
  EXPECT_EQ(state(), FlowState::kTcpEstablished);
  // Retransmitted SYNs on the established flow: forwarded by the flow.
  EXPECT_FORWARD(in(kSyn));
  EXPECT_FORWARD(in(kSyn));
  EXPECT_EQ(state(), FlowState::kTcpEstablished);
  // The FIN exchange closes it; a SYN on the closed 5-tuple starts the
  // handshake again on the same entry.
  EXPECT_FORWARD(out(kFin | kAck));
  EXPECT_FORWARD(in(kFin | kAck));
  EXPECT_FORWARD(out(kAck));
  EXPECT_EQ(state(), FlowState::kTcpClosed);
  EXPECT_FORWARD(in(kSyn));
  EXPECT_EQ(state(), FlowState::kTcpSynSent);
  EXPECT_EQ(enforcer_.counters().classified, 1u);
  EXPECT_EQ(flows_.counters().created, 1u);
  // A SYN of a new 5-tuple is classified, and these rules refuse it.
  std::vector<uint8_t> other = V4(kFar, kWeb).Tcp(40001, 80, kSyn).Build();
  EXPECT_DROP(enforcer_.Process(other.data(), other.size(), Side::kOutside,
                                now_, no_http),
              DropReason::kNoRuleMatched);
  EXPECT_EQ(enforcer_.counters().classified, 2u);
}

TEST_F(EnforcerTest, RevalidateOnChangeCutsFlowsTheRulesNoLongerAllow) {
  EXPECT_FORWARD(In(V4(kFar, kWeb).Tcp(40000, 80, kSyn)));
  EXPECT_FORWARD(Out(V4(kWeb, kNeighbour).Udp(33333, 53)));  // still allowed
  ReferenceTable reloaded(WithoutHttp(true, false), "", 2);
  // The reply direction is re-checked as the flow's opener.
  std::vector<uint8_t> reply =
      V4(kWeb, kFar).Tcp(80, 40000, kSyn | kAck).Build();
  EXPECT_DROP(enforcer_.Process(reply.data(), reply.size(), Side::kInside,
                                now_, reloaded),
              DropReason::kRevalidationDenied);
  EXPECT_EQ(flows_.counters().removed, 1u);
  std::vector<uint8_t> dns = V4(kNeighbour, kWeb).Udp(53, 33333).Build();
  EXPECT_FORWARD(enforcer_.Process(dns.data(), dns.size(), Side::kOutside,
                                   now_, reloaded));
}

TEST(UntrackedEnforcerTest, UntrackedFlowsAreCutAtOnce) {
  // With all egress open, http from anywhere is untracked (AWS).
  rules::Policy open = WithoutHttp(false, true);
  open.security_groups["sg-web"].ingress.insert(
      open.security_groups["sg-web"].ingress.begin(),
      MakeRule(6, {"0.0.0.0/0", "::/0"}, 80, 80));
  rules::AssignRuleIds(open);
  ReferenceTable before(open, "", 1);
  ReferenceTable after(WithoutHttp(false, true), "", 2);
  std::vector<uint8_t> memory(FlowTable::MemoryFor(16) + 64);
  void* aligned = memory.data() + (64 - reinterpret_cast<uintptr_t>(
                                            memory.data()) % 64) % 64;
  FlowTable flows(aligned, 16);
  Enforcer enforcer(flows);
  std::vector<uint8_t> syn = FrameBuilder().Ipv4(kFar, kWeb)
                                 .Tcp(40000, 80, kSyn).Build();
  EXPECT_TRUE(enforcer.Process(syn.data(), syn.size(), Side::kOutside, 10,
                               before).forward);
  uint32_t untracked = 0;
  flows.ForEach(10, [&](const FlowRecord& e) { untracked += e.untracked; });
  EXPECT_EQ(untracked, 1u);
  // Same generation: it flows. After the reload without its rule it is
  // cut at its next packet, even without revalidate_on_change.
  std::vector<uint8_t> ack = FrameBuilder().Ipv4(kFar, kWeb)
                                 .Tcp(40000, 80, kAck).Build();
  EXPECT_TRUE(enforcer.Process(ack.data(), ack.size(), Side::kOutside, 10,
                               before).forward);
  Verdict v = enforcer.Process(ack.data(), ack.size(), Side::kOutside, 10,
                               after);
  EXPECT_FALSE(v.forward);
  EXPECT_STREQ(DropReasonName(v.reason), "revalidation_denied");
}

TEST_F(EnforcerTest, IcmpIsRecheckedAtItsOpenersNextPacket) {
  EXPECT_FORWARD(In(V4(kNeighbour, kWeb).Icmp(8, 0, 0x0042'0001)));
  rules::Policy no_ping = WebPolicy();
  no_ping.security_groups["sg-web"].ingress.erase(
      no_ping.security_groups["sg-web"].ingress.begin() + 1);
  no_ping.settings.revalidate_on_change = true;
  rules::AssignRuleIds(no_ping);
  ReferenceTable reloaded(no_ping, "", 2);
  // The reply carries no type the rule matched: it passes...
  std::vector<uint8_t> reply =
      V4(kWeb, kNeighbour).Icmp(0, 0, 0x0042'0001).Build();
  EXPECT_FORWARD(enforcer_.Process(reply.data(), reply.size(), Side::kInside,
                                   now_, reloaded));
  // ...and the next request is re-checked and refused.
  std::vector<uint8_t> request =
      V4(kNeighbour, kWeb).Icmp(8, 0, 0x0042'0002).Build();
  EXPECT_DROP(enforcer_.Process(request.data(), request.size(),
                                Side::kOutside, now_, reloaded),
              DropReason::kRevalidationDenied);
}

class FullTableTest : public EnforcerTest {
 protected:
  FullTableTest() : EnforcerTest(2) {}
};

TEST_F(FullTableTest, NewFlowsAreDroppedExistingOnesKept) {
  EXPECT_FORWARD(In(V4(kFar, kWeb).Tcp(40000, 80, kSyn)));
  EXPECT_FORWARD(In(V4(kFar, kWeb).Tcp(40001, 80, kSyn)));
  EXPECT_DROP(In(V4(kFar, kWeb).Tcp(40002, 80, kSyn)),
              DropReason::kFlowTableFull);
  EXPECT_FORWARD(Out(V4(kWeb, kFar).Tcp(80, 40000, kSyn | kAck)));
  EXPECT_FORWARD(Out(V4(kWeb, kFar).Tcp(80, 40001, kSyn | kAck)));
  EXPECT_EQ(flows_.counters().insert_failed, 1u);
}

TEST_F(EnforcerTest, EveryPacketIsForwardedOrDroppedForOneReason) {
  In(V4(kFar, kWeb).Tcp(40000, 80, kSyn));
  In(V4(kFar, kWeb).Tcp(40000, 22, kSyn));
  In(FrameBuilder().EtherType(0x88CC));
  In(V4(kFar, "198.51.100.99").Udp(1, 2));
  Out(V4(kWeb, kFar).Tcp(80, 40000, kSyn | kAck));
  const EnforcerCounters& c = enforcer_.counters();
  uint64_t dropped = 0;
  for (uint64_t d : c.drops) dropped += d;
  EXPECT_EQ(c.received, 5u);
  EXPECT_EQ(c.forwarded, 2u);
  EXPECT_EQ(c.received, c.forwarded + dropped);
}

// ProcessBurst looks up, classifies and inserts the packets that open flows
// ahead of deciding the burst in order; the verdicts must still be those of
// the same packets sent one at a time, including a burst that opens a flow
// and carries its next packets, denied packets, and a table filling up.
TEST(EnforcerBurstTest, BurstsDecideAsPacketsOneByOne) {
  constexpr uint32_t kCapacity = 16;
  std::vector<uint8_t> memory_a(FlowTable::MemoryFor(kCapacity) + 64);
  std::vector<uint8_t> memory_b(FlowTable::MemoryFor(kCapacity) + 64);
  auto aligned = [](std::vector<uint8_t>& m) {
    return reinterpret_cast<uint8_t*>(
        (reinterpret_cast<uintptr_t>(m.data()) + 63) & ~uintptr_t{63});
  };
  FlowTable flows_a(aligned(memory_a), kCapacity);
  FlowTable flows_b(aligned(memory_b), kCapacity);
  ReferenceTable table(WebPolicy(), /*node=*/"", /*generation=*/1);
  Enforcer one_by_one(flows_a);
  Enforcer bursts(flows_b);

  std::mt19937 rng(7);
  auto pick = [&](uint32_t n) { return static_cast<uint32_t>(rng() % n); };
  const char* remotes[] = {kFar, kNeighbour};
  const uint16_t ports[] = {80, 22, 53, 40000, 40001};
  auto random_frame = [&](Side side) {
    const char* remote = remotes[pick(2)];
    FrameBuilder f;
    if (side == Side::kOutside) {
      f.Ipv4(remote, kWeb);
    } else {
      f.Ipv4(kWeb, remote);
    }
    uint16_t sport = static_cast<uint16_t>(ports[pick(5)] + pick(8));
    uint16_t dport = ports[pick(5)];
    switch (pick(4)) {
      case 0: f.Tcp(sport, dport, kSyn); break;
      case 1: f.Tcp(sport, dport, kAck); break;
      case 2: f.Udp(sport, dport); break;
      default: f.Icmp(pick(2) ? 8 : 0, 0, pick(3)); break;
    }
    return f.Build();
  };
  for (int round = 0; round < 300; ++round) {
    Side side = pick(2) ? Side::kOutside : Side::kInside;
    uint16_t count = static_cast<uint16_t>(1 + pick(Enforcer::kMaxBurst));
    std::vector<std::vector<uint8_t>> frames;
    for (uint16_t i = 0; i < count; ++i) {
      // Often repeat an earlier frame of the burst: a flow and its next
      // packets in one burst.
      frames.push_back(i > 0 && pick(3) == 0 ? frames[pick(i)]
                                             : random_frame(side));
    }
    std::vector<const uint8_t*> pointers;
    std::vector<uint32_t> lengths;
    for (const auto& f : frames) {
      pointers.push_back(f.data());
      lengths.push_back(static_cast<uint32_t>(f.size()));
    }
    uint32_t now = 1000 + round;
    Verdict verdicts[Enforcer::kMaxBurst];
    bursts.ProcessBurst(pointers.data(), lengths.data(), count, side, now,
                        table, verdicts);
    for (uint16_t i = 0; i < count; ++i) {
      Verdict v = one_by_one.Process(pointers[i], lengths[i], side, now, table);
      ASSERT_EQ(v.forward, verdicts[i].forward) << "round " << round
                                                << " packet " << i;
      ASSERT_EQ(v.reason, verdicts[i].reason) << "round " << round
                                              << " packet " << i;
    }
    ASSERT_EQ(flows_a.counters().created, flows_b.counters().created);
  }
  EXPECT_GT(flows_b.counters().insert_failed, 0u);  // the table did fill
  EXPECT_GT(bursts.counters().forwarded, 0u);
  EXPECT_GT(bursts.counters().drops[static_cast<int>(
                DropReason::kNoRuleMatched)], 0u);
}

}  // namespace
}  // namespace sgate::dataplane
