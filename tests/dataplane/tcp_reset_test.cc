#include "dataplane/tcp_reset.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "dataplane/packet_parser.h"
#include "tests/support/frame_builder.h"

namespace sgate::dataplane {
namespace {

using sgate::testing::FrameBuilder;
using sgate::testing::kAck;
using sgate::testing::kRst;
using sgate::testing::kSyn;

std::vector<uint8_t> FromHex(const std::string& hex) {
  std::vector<uint8_t> out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(
        static_cast<uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

// Distinct MACs (dst ...:01, src ...:02) and the TCP sequence numbers at
// `tcp` (the TCP header's offset in the frame).
FrameBuilder& Segment(FrameBuilder& f, size_t tcp, uint32_t seq, uint32_t ack) {
  f.Poke(5, 1).Poke(11, 2);
  f.Poke16(tcp + 4, seq >> 16).Poke16(tcp + 6, seq & 0xFFFF);
  f.Poke16(tcp + 8, ack >> 16).Poke16(tcp + 10, ack & 0xFFFF);
  return f;
}

// The expected frames were computed apart from sgate's code (Python's
// struct and an RFC 1071 sum), so that a checksum bug cannot hide itself.
TEST(TcpResetTest, ExactBytesIpv4) {
  FrameBuilder f;
  f.Ipv4("198.51.100.10", "192.0.2.1")
      .Tcp(40000, 443, kAck | 0x08)
      .Payload(100);
  std::vector<uint8_t> frame = Segment(f, 34, 0x01020304, 0x0A0B0C0D).Build();
  uint32_t length = RewriteAsReset(frame.data(), frame.size());
  ASSERT_EQ(length, 54u);
  frame.resize(length);
  EXPECT_EQ(frame, FromHex("020000000002020000000001080045000028000040004006"
                           "4e91c0000201c633640a01bb9c400a0b0c0d010203685014"
                           "00000b140000"));
}

TEST(TcpResetTest, ExactBytesIpv6WithoutItsExtensionHeader) {
  // A bare SYN (no ACK): sequence 0, acknowledging the SYN.
  FrameBuilder f;
  f.Ipv6("2001:db8::10", "2001:db8:1::1")
      .Ipv6Extension(0)
      .Tcp(40000, 443, kSyn);
  std::vector<uint8_t> frame = Segment(f, 14 + 40 + 8, 0x11223344, 0).Build();
  uint32_t length = RewriteAsReset(frame.data(), frame.size());
  ASSERT_EQ(length, 14u + 40 + 20);
  frame.resize(length);
  EXPECT_EQ(frame, FromHex("02000000000202000000000186dd"
                           "600000000014064020010db800010000000000000000000120"
                           "010db800000000000000000000001001bb9c40000000001122"
                           "33455014000071ea0000"));
}

TEST(TcpResetTest, VlanTagsStay) {
  FrameBuilder plain;
  plain.Ipv4("198.51.100.10", "192.0.2.1")
      .Tcp(40000, 443, kAck | 0x08)
      .Payload(100);
  FrameBuilder tagged;
  tagged.Vlan(10)
      .Ipv4("198.51.100.10", "192.0.2.1")
      .Tcp(40000, 443, kAck | 0x08)
      .Payload(100);
  std::vector<uint8_t> a = Segment(plain, 34, 0x01020304, 0x0A0B0C0D).Build();
  std::vector<uint8_t> b = Segment(tagged, 38, 0x01020304, 0x0A0B0C0D).Build();
  a.resize(RewriteAsReset(a.data(), a.size()));
  b.resize(RewriteAsReset(b.data(), b.size()));
  a.insert(a.begin() + 12, {0x81, 0x00, 0x00, 0x0A});
  EXPECT_EQ(a, b);
}

TEST(TcpResetTest, AFinCountsOne) {
  FrameBuilder f;
  f.Ipv4("198.51.100.10", "192.0.2.1").Tcp(40000, 443, kAck | 0x01);
  std::vector<uint8_t> frame = Segment(f, 34, 100, 7).Build();
  ASSERT_EQ(RewriteAsReset(frame.data(), frame.size()), 54u);
  EXPECT_EQ(frame[38 + 3], 7);    // seq: the ack
  EXPECT_EQ(frame[42 + 3], 101);  // ack: seq + FIN
}

TEST(TcpSegmentTest, SequenceNumbersAndPayloadPastAnyHeader) {
  struct Case {
    const char* description;
    FrameBuilder frame;
    size_t tcp;  // offset of the TCP header in the frame
  };
  Case cases[] = {
      {"ipv4", FrameBuilder().Ipv4("198.51.100.10", "192.0.2.1"), 34},
      {"ipv4 options",
       FrameBuilder().Ipv4("198.51.100.10", "192.0.2.1").Ipv4Options(12), 46},
      {"ipv6", FrameBuilder().Ipv6("2001:db8::10", "2001:db8::1"), 54},
      {"ipv6 extensions",
       FrameBuilder()
           .Ipv6("2001:db8::10", "2001:db8::1")
           .Ipv6Extension(0)
           .Ipv6Extension(60, 16),
       78},
      {"vlan", FrameBuilder().Vlan(7).Ipv4("198.51.100.10", "192.0.2.1"), 38},
  };
  for (Case& c : cases) {
    c.frame.Tcp(40000, 443, kAck, /*data_offset_words=*/8).Payload(77);
    std::vector<uint8_t> frame =
        Segment(c.frame, c.tcp, 0xDEADBEEF, 42).Build();
    ParsedPacket p;
    ASSERT_EQ(ParseFrame(frame.data(), frame.size(), &p), ParseError::kNone)
        << c.description;
    TcpSegment s = TcpSegmentOf(frame.data(), p);
    EXPECT_EQ(s.seq, 0xDEADBEEFu) << c.description;
    EXPECT_EQ(s.ack, 42u) << c.description;
    EXPECT_EQ(s.flags, kAck) << c.description;
    EXPECT_EQ(s.payload, frame.data() + c.tcp + 32) << c.description;
    EXPECT_EQ(s.payload_length, 77u) << c.description;
  }
  // Ethernet padding past the datagram is not payload.
  std::vector<uint8_t> padded =
      FrameBuilder().Ipv4("198.51.100.10", "192.0.2.1").Tcp(1, 2).Build();
  padded.resize(60, 0);
  ParsedPacket p;
  ASSERT_EQ(ParseFrame(padded.data(), padded.size(), &p), ParseError::kNone);
  EXPECT_EQ(TcpSegmentOf(padded.data(), p).payload_length, 0u);
}

TEST(TcpResetTest, WhatIsNotAnswered) {
  const FrameBuilder kCases[] = {
      FrameBuilder().Ipv4("198.51.100.10", "192.0.2.1").Tcp(1, 2, kRst | kAck),
      FrameBuilder().Ipv4("198.51.100.10", "192.0.2.1").Udp(1, 2),
      FrameBuilder().Ipv4("198.51.100.10", "192.0.2.1").Icmp(8, 0),
      FrameBuilder()
          .Ipv4("198.51.100.10", "192.0.2.1")
          .Fragment(0, true, 7)
          .Tcp(1, 2)
          .Payload(40),
      FrameBuilder().Ipv4("198.51.100.10", "192.0.2.1").Tcp(1, 2).Truncate(40),
      FrameBuilder().EtherType(0x0806),
  };
  for (const FrameBuilder& f : kCases) {
    std::vector<uint8_t> frame = f.Build();
    std::vector<uint8_t> before = frame;
    EXPECT_EQ(RewriteAsReset(frame.data(), frame.size()), 0u);
    EXPECT_EQ(frame, before);
  }
}

}  // namespace
}  // namespace sgate::dataplane
