#include "dataplane/conntrack.h"

#include <gtest/gtest.h>

#include <vector>

namespace sgate::dataplane {
namespace {

// One packet of a conversation: its flags, its direction and the state the
// flow must be in after it.
struct Step {
  uint8_t flags;
  bool from_opener;
  FlowState expected;
};

struct Conversation {
  const char* description;
  uint8_t protocol;
  std::vector<Step> steps;  // the first step opens the flow
};

constexpr uint8_t kSyn = kTcpSyn, kAck = kTcpAck, kFin = kTcpFin,
                  kRst = kTcpRst;
constexpr bool kOpener = true, kReplier = false;

TEST(ConntrackTest, Conversations) {
  using S = FlowState;
  const Conversation cases[] = {
      {"full TCP lifetime", 6,
       {{kSyn, kOpener, S::kTcpSynSent},
        {kSyn | kAck, kReplier, S::kTcpSynReceived},
        {kAck, kOpener, S::kTcpEstablished},
        {kAck, kReplier, S::kTcpEstablished},
        {kFin | kAck, kOpener, S::kTcpClosing},
        {kAck, kReplier, S::kTcpClosing},
        {kFin | kAck, kReplier, S::kTcpClosed},
        {kAck, kOpener, S::kTcpClosed}}},
      {"retransmitted SYN stays in SYN_SENT", 6,
       {{kSyn, kOpener, S::kTcpSynSent}, {kSyn, kOpener, S::kTcpSynSent}}},
      {"SYN-ACK from the opener does not advance", 6,
       {{kSyn, kOpener, S::kTcpSynSent},
        {kSyn | kAck, kOpener, S::kTcpSynSent}}},
      {"mid-stream pickup after a restart", 6,
       {{kAck, kOpener, S::kTcpEstablished},
        {kAck, kReplier, S::kTcpEstablished}}},
      {"RST from the replier closes", 6,
       {{kSyn, kOpener, S::kTcpSynSent},
        {kRst | kAck, kReplier, S::kTcpClosed}}},
      {"RST mid-connection closes", 6,
       {{kAck, kOpener, S::kTcpEstablished}, {kRst, kOpener, S::kTcpClosed}}},
      {"a flow opened by a RST starts closed", 6,
       {{kRst, kOpener, S::kTcpClosed}}},
      {"FINs from one side only stay closing", 6,
       {{kAck, kOpener, S::kTcpEstablished},
        {kFin, kOpener, S::kTcpClosing},
        {kFin, kOpener, S::kTcpClosing}}},
      {"port reuse: a new SYN after close reopens", 6,
       {{kAck, kOpener, S::kTcpEstablished},
        {kRst, kReplier, S::kTcpClosed},
        {kSyn, kOpener, S::kTcpSynSent},
        {kSyn | kAck, kReplier, S::kTcpSynReceived}}},
      {"UDP one way, then a reply", 17,
       {{0, kOpener, S::kUdpOneWay},
        {0, kOpener, S::kUdpOneWay},
        {0, kReplier, S::kUdpStream},
        {0, kOpener, S::kUdpStream}}},
      {"ICMP", 1, {{0, kOpener, S::kIcmp}, {0, kReplier, S::kIcmp}}},
      {"ICMPv6", 58, {{0, kOpener, S::kIcmp}}},
      {"GRE is other", 47, {{0, kOpener, S::kOther}, {0, kReplier, S::kOther}}},
  };
  for (const Conversation& c : cases) {
    SCOPED_TRACE(c.description);
    TcpFinFlags fins;
    FlowState state = InitialState(c.protocol, c.steps[0].flags);
    EXPECT_EQ(state, c.steps[0].expected) << FlowStateName(state);
    for (size_t i = 1; i < c.steps.size(); ++i) {
      state = NextState(state, fins, c.steps[i].flags, c.steps[i].from_opener);
      EXPECT_EQ(state, c.steps[i].expected)
          << "step " << i << ": " << FlowStateName(state);
    }
  }
}

TEST(ConntrackTest, TimeoutsFollowTheSettings) {
  rules::Timeouts t{.tcp_established = 1000, .tcp_transitory = 20, .udp = 3,
                  .udp_stream = 4, .icmp = 5, .other = 6};
  EXPECT_EQ(IdleTimeout(FlowState::kTcpEstablished, t), 1000u);
  EXPECT_EQ(IdleTimeout(FlowState::kTcpSynSent, t), 20u);
  EXPECT_EQ(IdleTimeout(FlowState::kTcpSynReceived, t), 20u);
  EXPECT_EQ(IdleTimeout(FlowState::kTcpClosing, t), 20u);
  EXPECT_EQ(IdleTimeout(FlowState::kTcpClosed, t), kTcpClosedTimeout);
  EXPECT_EQ(IdleTimeout(FlowState::kUdpOneWay, t), 3u);
  EXPECT_EQ(IdleTimeout(FlowState::kUdpStream, t), 4u);
  EXPECT_EQ(IdleTimeout(FlowState::kIcmp, t), 5u);
  EXPECT_EQ(IdleTimeout(FlowState::kOther, t), 6u);
  // A closed connection never outlives the transitory timeout.
  t.tcp_transitory = 2;
  EXPECT_EQ(IdleTimeout(FlowState::kTcpClosed, t), 2u);
}

TEST(ConntrackTest, AwsDefaults) {
  rules::Timeouts t;
  EXPECT_EQ(IdleTimeout(FlowState::kTcpEstablished, t), 432000u);
  EXPECT_EQ(IdleTimeout(FlowState::kUdpOneWay, t), 30u);
  EXPECT_EQ(IdleTimeout(FlowState::kUdpStream, t), 180u);
}

}  // namespace
}  // namespace sgate::dataplane
