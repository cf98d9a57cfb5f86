// The Enforcer with rules that have domains (README.md, "Domain rules"):
// flows pending a name, decided by the ClientHello's server_name or the
// HTTP Host, reassembled from segments in any order, bounded, reset. Each
// test runs against the reference table and the compiled one (rte_acl +
// Hyperscan, hence the eal suite).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "dataplane/compiled_table.h"
#include "dataplane/enforcer.h"
#include "dataplane/reference_table.h"
#include "rules/policy_loader.h"
#include "tests/support/client_hello.h"
#include "tests/support/eal_environment.h"
#include "tests/support/frame_builder.h"

namespace sgate::dataplane {
namespace {

using sgate::testing::ClientHelloBuilder;
using sgate::testing::FrameBuilder;
using sgate::testing::kAck;
using sgate::testing::kFin;
using sgate::testing::kRst;
using sgate::testing::kSyn;

constexpr char kApp[] = "198.51.100.10";  // the protected client
constexpr char kServer[] = "192.0.2.1";   // a server on the internet
constexpr char kAdmin[] = "203.0.113.5";  // reachable by address (ssh)
constexpr uint8_t kPsh = 0x08;

// sg-app: https to two names, http to one, ssh by address.
std::string AppPolicy(const std::string& settings = "") {
  return "version: 1\n" + settings +
         "security_groups:\n  sg-app:\n    egress:\n"
         "      - {protocol: tcp, ports: 443, cidr: 0.0.0.0/0,\n"
         "         domains: [api.github.com, \"*.amazonaws.com\"]}\n"
         "      - {protocol: tcp, ports: 80, cidr: 0.0.0.0/0,"
         " domains: [deb.debian.org]}\n"
         "      - {protocol: tcp, ports: 22, cidr: 203.0.113.0/24}\n"
         "interfaces:\n  eni-app: {addresses: [198.51.100.10],"
         " security_groups: [sg-app]}\n";
}

template <typename Table>
std::unique_ptr<Table> MakeTable(const std::string& yaml, uint32_t generation);

template <>
std::unique_ptr<ReferenceTable> MakeTable(const std::string& yaml,
                                          uint32_t generation) {
  return std::make_unique<ReferenceTable>(*rules::LoadPolicyString(yaml), "",
                                          generation);
}

template <>
std::unique_ptr<CompiledTable> MakeTable(const std::string& yaml,
                                         uint32_t generation) {
  EXPECT_TRUE(sgate::testing::InitEal());
  absl::StatusOr<std::unique_ptr<CompiledTable>> table = CompiledTable::Build(
      *rules::LoadPolicyString(yaml), generation, /*workers=*/1, {});
  EXPECT_TRUE(table.ok()) << table.status();
  return *std::move(table);
}

std::vector<uint8_t> Bytes(const std::string& s) {
  return std::vector<uint8_t>(s.begin(), s.end());
}

template <typename Table>
class EnforcerDomainsTest : public ::testing::Test {
 protected:
  static constexpr uint32_t kCapacity = 256;
  static constexpr uint32_t kClientIsn = 1000;  // SYN's sequence number
  static constexpr uint32_t kServerIsn = 5000;

  EnforcerDomainsTest()
      : memory_(static_cast<uint8_t*>(
            std::aligned_alloc(64, FlowTable::MemoryFor(kCapacity)))),
        flows_(memory_.get(), kCapacity),
        enforcer_(std::make_unique<Enforcer>(flows_)) {
    Load(AppPolicy(), 1);
  }

  void Load(const std::string& yaml, uint32_t generation) {
    table_ = MakeTable<Table>(yaml, generation);
  }

  // Client (inside) to server, from port `sport`, with `data` starting at
  // stream offset `offset` (the stream starts after the SYN).
  Verdict Out(uint16_t dport, uint8_t flags, uint32_t offset = 0,
              const std::vector<uint8_t>& data = {},
              const char* server = kServer, uint16_t sport = 40000) {
    FrameBuilder f;
    f.Ipv4(kApp, server).Tcp(sport, dport, flags);
    f.Sequence(kClientIsn + 1 + offset, kServerIsn + 1).Data(data);
    return Send(f, Side::kInside);
  }
  Verdict In(uint16_t sport, uint8_t flags,
             const std::vector<uint8_t>& data = {},
             const char* server = kServer, uint16_t dport = 40000) {
    FrameBuilder f;
    f.Ipv4(server, kApp).Tcp(sport, dport, flags);
    f.Sequence(kServerIsn + 1, kClientIsn + 1).Data(data);
    return Send(f, Side::kOutside);
  }
  Verdict Send(const FrameBuilder& f, Side side) {
    std::vector<uint8_t> frame = f.Build();
    return enforcer_->Process(frame.data(), frame.size(), side, now_, *table_);
  }
  // SYN, SYN-ACK, ACK of a connection to port `dport`: all pass.
  void Handshake(uint16_t dport, const char* server = kServer) {
    FrameBuilder syn;
    syn.Ipv4(kApp, server).Tcp(40000, dport, kSyn).Sequence(kClientIsn);
    EXPECT_TRUE(Send(syn, Side::kInside).forward);
    FrameBuilder syn_ack;
    syn_ack.Ipv4(server, kApp)
        .Tcp(dport, 40000, kSyn | kAck)
        .Sequence(kServerIsn, kClientIsn + 1);
    EXPECT_TRUE(Send(syn_ack, Side::kOutside).forward);
    EXPECT_TRUE(Out(dport, kAck, 0, {}, server).forward);
  }

  // The entry of the flow to `server`.
  const FlowEntry* Flow(const char* server = kServer) {
    const rules::IpAddress remote = *rules::ParseIpAddress(server);
    const FlowEntry* found = nullptr;
    flows_.ForEach(now_, [&](const FlowRecord& r) {
      if (r.key.remote == remote.bytes) {
        found = flows_.Lookup(r.key, FlowTable::Hash(r.key), now_);
      }
    });
    return found;
  }
  uint64_t Drops(DropReason r) const {
    return enforcer_->counters().drops[static_cast<int>(r)];
  }
  uint32_t RuleId(uint32_t index) const {
    return table_->policy().security_groups.at("sg-app").egress.at(index).id;
  }
  uint64_t NamesMatched(uint32_t rule, uint32_t domain) const {
    return table_->name_counters().Admitted(
        table_->policy().rule(RuleId(rule)).first_domain_id + domain);
  }

  struct Free {
    void operator()(uint8_t* p) const { std::free(p); }
  };
  std::unique_ptr<uint8_t, Free> memory_;
  FlowTable flows_;
  std::unique_ptr<Enforcer> enforcer_;
  std::unique_ptr<Table> table_;
  uint32_t now_ = 1000;
};

using Tables = ::testing::Types<ReferenceTable, CompiledTable>;
TYPED_TEST_SUITE(EnforcerDomainsTest, Tables);

#define EXPECT_DROP(v, r, want_reset)                              \
  do {                                                             \
    Verdict verdict_ = (v);                                        \
    EXPECT_FALSE(verdict_.forward);                                \
    EXPECT_EQ(DropReasonName(verdict_.reason), DropReasonName(r)); \
    EXPECT_EQ(this->enforcer_->resets() == 1, want_reset);         \
  } while (0)

TYPED_TEST(EnforcerDomainsTest, TheHandshakePassesPending) {
  this->Handshake(443);
  const FlowEntry* f = this->Flow();
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->name_check, NameCheck::kPending);
  EXPECT_EQ(f->state, FlowState::kTcpEstablished);
  // Admitted once a name decides, not before.
  EXPECT_EQ(this->table_->rule_counters().Admitted(this->RuleId(0)), 0u);
}

TYPED_TEST(EnforcerDomainsTest, AnAllowedServerNameMakesAnOrdinaryFlow) {
  this->Handshake(443);
  std::vector<uint8_t> hello =
      ClientHelloBuilder().ServerName("S3.amazonaws.com").Grease().Build();
  EXPECT_TRUE(this->Out(443, kAck | kPsh, 0, hello).forward);
  const FlowEntry* f = this->Flow();
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->name_check, NameCheck::kNone);
  EXPECT_TRUE(f->named);
  EXPECT_EQ(this->flows_.Record(*f).rule_id, this->RuleId(0));
  EXPECT_EQ(this->table_->rule_counters().Admitted(this->RuleId(0)), 1u);
  EXPECT_EQ(this->NamesMatched(0, 1), 1u);  // *.amazonaws.com
  EXPECT_EQ(this->NamesMatched(0, 0), 0u);
  EXPECT_EQ(this->enforcer_->counters().names_allowed, 1u);
  EXPECT_EQ(this->enforcer_->names().Find(this->flows_.IndexOf(f), f->key),
            "s3.amazonaws.com");
  // The rest of the connection is an established flow.
  EXPECT_TRUE(this->In(443, kAck | kPsh, Bytes("server hello")).forward);
  EXPECT_TRUE(this->Out(443, kAck | kPsh, hello.size(), Bytes("data")).forward);
}

TYPED_TEST(EnforcerDomainsTest, ADeniedNameIsDroppedAndItsClientReset) {
  this->Handshake(443);
  std::vector<uint8_t> hello =
      ClientHelloBuilder().ServerName("evil.example").Build();
  EXPECT_DROP(this->Out(443, kAck | kPsh, 0, hello),
              DropReason::kDomainNotAllowed, true);
  const FlowEntry* f = this->Flow();
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->name_check, NameCheck::kNotAllowed);
  EXPECT_EQ(this->enforcer_->counters().names_denied, 1u);
  EXPECT_EQ(this->enforcer_->names().Find(this->flows_.IndexOf(f), f->key),
            "evil.example");
  // Everything after is dropped; the client is reset, the server is not,
  // and a RST is never answered.
  EXPECT_DROP(this->Out(443, kAck | kPsh, 0, hello),
              DropReason::kDomainNotAllowed, true);
  EXPECT_DROP(this->In(443, kAck), DropReason::kDomainNotAllowed, false);
  EXPECT_DROP(this->Out(443, kRst, hello.size()), DropReason::kDomainNotAllowed,
              false);
  EXPECT_EQ(this->Drops(DropReason::kDomainNotAllowed), 4u);
  EXPECT_EQ(this->table_->rule_counters().Admitted(this->RuleId(0)), 0u);
  // Denied flows linger only as a closed connection would, then a new
  // connection on the same ports starts over.
  this->now_ += kTcpClosedTimeout;
  this->Handshake(443);
  EXPECT_EQ(this->Flow()->name_check, NameCheck::kPending);
}

TYPED_TEST(EnforcerDomainsTest, DomainRejectDropOnlyDrops) {
  this->Load(AppPolicy("settings: {domain_reject: drop}\n"), 1);
  this->Handshake(443);
  EXPECT_DROP(
      this->Out(443, kAck | kPsh, 0,
                ClientHelloBuilder().ServerName("evil.example").Build()),
      DropReason::kDomainNotAllowed, false);
}

TYPED_TEST(EnforcerDomainsTest, ARuleByAddressNeedsNoName) {
  // ssh to 203.0.113.0/24: an ordinary flow from its SYN.
  this->Handshake(22, kAdmin);
  const FlowEntry* f = this->Flow(kAdmin);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->name_check, NameCheck::kNone);
  EXPECT_TRUE(
      this->Out(22, kAck | kPsh, 0, Bytes("SSH-2.0-OpenSSH\r\n"), kAdmin)
          .forward);
  // Ports no rule names: denied from the SYN, as ever.
  FrameBuilder syn;
  syn.Ipv4(kApp, kServer).Tcp(40001, 8443, kSyn);
  EXPECT_DROP(this->Send(syn, Side::kInside), DropReason::kNoRuleMatched,
              false);
}

TYPED_TEST(EnforcerDomainsTest, HttpHost) {
  this->Handshake(80);
  EXPECT_TRUE(this->Out(80, kAck | kPsh, 0,
                        Bytes("GET /debian/ HTTP/1.1\r\nHost: deb.debian.org"
                              "\r\nAccept: */*\r\n\r\n"))
                  .forward);
  EXPECT_EQ(this->Flow()->name_check, NameCheck::kNone);
  EXPECT_EQ(this->flows_.Record(*this->Flow()).rule_id, this->RuleId(1));
  // The https rule's name on port 80 is no http name.
  this->Handshake(80, "192.0.2.2");
  EXPECT_DROP(this->Out(80, kAck | kPsh, 0,
                        Bytes("GET / HTTP/1.1\r\nHost: api.github.com\r\n\r\n"),
                        "192.0.2.2"),
              DropReason::kDomainNotAllowed, true);
}

TYPED_TEST(EnforcerDomainsTest, WhatIsNeitherTlsNorHttp) {
  this->Handshake(443);
  EXPECT_DROP(this->Out(443, kAck | kPsh, 0, Bytes("SSH-2.0-OpenSSH_9.2\r\n")),
              DropReason::kDomainNotAllowed, true);
  // A server that speaks first: dropped, not reset (it is no client), and
  // its client is reset at its next packet.
  this->Handshake(443, "192.0.2.2");
  EXPECT_DROP(
      this->In(443, kAck | kPsh, Bytes("220 smtp ready\r\n"), "192.0.2.2"),
      DropReason::kDomainNotAllowed, false);
  EXPECT_DROP(this->Out(443, kAck, 0, {}, "192.0.2.2"),
              DropReason::kDomainNotAllowed, true);
  // A ClientHello without server_name.
  this->Handshake(443, "192.0.2.3");
  EXPECT_DROP(
      this->Out(443, kAck | kPsh, 0,
                ClientHelloBuilder().NoServerName().Build(), "192.0.2.3"),
      DropReason::kDomainNotAllowed, true);
}

TYPED_TEST(EnforcerDomainsTest, ASplitClientHelloIsReassembled) {
  std::vector<uint8_t> hello = ClientHelloBuilder()
                                   .ServerName("api.github.com")
                                   .KeyShareBytes(1216)
                                   .ServerNameLast()
                                   .Build();
  ASSERT_GT(hello.size(), 1300u);
  this->Handshake(443);
  // Three segments in order: the first two pass, the last decides.
  size_t third = hello.size() / 3;
  auto part = [&](size_t from, size_t to) {
    return std::vector<uint8_t>(hello.begin() + from, hello.begin() + to);
  };
  EXPECT_TRUE(this->Out(443, kAck, 0, part(0, third)).forward);
  EXPECT_TRUE(this->Out(443, kAck, third, part(third, 2 * third)).forward);
  EXPECT_EQ(this->Flow()->name_check, NameCheck::kPending);
  EXPECT_TRUE(
      this->Out(443, kAck | kPsh, 2 * third, part(2 * third, hello.size()))
          .forward);
  EXPECT_EQ(this->Flow()->name_check, NameCheck::kNone);
  EXPECT_EQ(this->enforcer_->pending_buffers_in_use(), 0u);
  EXPECT_EQ(this->enforcer_->counters().names_reassembled, 1u);
}

TYPED_TEST(EnforcerDomainsTest, OutOfOrderAndRetransmittedSegments) {
  std::vector<uint8_t> hello = ClientHelloBuilder()
                                   .ServerName("api.github.com")
                                   .KeyShareBytes(1216)
                                   .Build();
  this->Handshake(443);
  size_t cut1 = 500, cut2 = 1000;
  auto part = [&](size_t from, size_t to) {
    return std::vector<uint8_t>(hello.begin() + from, hello.begin() + to);
  };
  // The last segment first, the middle one twice, overlapping the last,
  // then the first: decided when the start arrives.
  EXPECT_TRUE(this->Out(443, kAck, cut2, part(cut2, hello.size())).forward);
  EXPECT_TRUE(this->Out(443, kAck, cut1, part(cut1, cut2)).forward);
  EXPECT_TRUE(this->Out(443, kAck, cut1, part(cut1, cut2 + 100)).forward);
  EXPECT_EQ(this->Flow()->name_check, NameCheck::kPending);
  EXPECT_TRUE(this->Out(443, kAck, 0, part(0, cut1)).forward);
  EXPECT_EQ(this->Flow()->name_check, NameCheck::kNone);
  EXPECT_EQ(this->enforcer_->pending_buffers_in_use(), 0u);
}

TYPED_TEST(EnforcerDomainsTest, AnySegmentationDecidesTheSameName) {
  // Random cuts of a split ClientHello, sent in random order with random
  // repeats (at most kMaxSegments in all): always the same decision, and
  // every buffer back when done.
  std::vector<uint8_t> hello = ClientHelloBuilder()
                                   .ServerName("x.y.amazonaws.com")
                                   .KeyShareBytes(1216)
                                   .ServerNameLast()
                                   .Grease()
                                   .Build();
  std::mt19937 rng(15);
  for (int trial = 0; trial < 200; ++trial) {
    const uint16_t port = static_cast<uint16_t>(20000 + trial);
    FrameBuilder syn;
    syn.Ipv4(kApp, kServer).Tcp(port, 443, kSyn).Sequence(this->kClientIsn);
    ASSERT_TRUE(this->Send(syn, Side::kInside).forward);
    // 2 to 5 pieces, then up to 8 segments drawn from them, each piece at
    // least once, the first piece last (so nothing decides early).
    int pieces = 2 + static_cast<int>(rng() % 4);
    std::vector<size_t> cuts = {0, hello.size()};
    while (static_cast<int>(cuts.size()) < pieces + 1) {
      cuts.push_back(1 + rng() % (hello.size() - 1));
      std::sort(cuts.begin(), cuts.end());
      cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
    }
    std::vector<int> order;
    for (int i = 1; i < pieces; ++i) order.push_back(i);
    while (order.size() + 1 < PendingNames::kMaxSegments && rng() % 2) {
      order.push_back(1 + static_cast<int>(rng() % (pieces - 1)));
    }
    std::shuffle(order.begin(), order.end(), rng);
    order.push_back(0);
    for (int piece : order) {
      std::vector<uint8_t> bytes(hello.begin() + cuts[piece],
                                 hello.begin() + cuts[piece + 1]);
      EXPECT_TRUE(this->Out(443, kAck, cuts[piece], bytes, kServer, port)
                      .forward)
          << "trial " << trial;
    }
    std::optional<FlowRecord> f;
    this->flows_.ForEach(this->now_, [&](const FlowRecord& r) {
      if (r.key.local_port == port) f = r;
    });
    ASSERT_TRUE(f.has_value());
    EXPECT_EQ(f->name_check, NameCheck::kNone) << "trial " << trial;
    EXPECT_EQ(f->rule_id, this->RuleId(0));
  }
  EXPECT_EQ(this->enforcer_->pending_buffers_in_use(), 0u);
  EXPECT_EQ(this->enforcer_->counters().names_allowed, 200u);
}

TYPED_TEST(EnforcerDomainsTest, ARetransmissionThatChangesBytesIsRefused) {
  // Show sgate one name and the server another: the second copy of the
  // bytes disagrees with the first.
  std::vector<uint8_t> good =
      ClientHelloBuilder().ServerName("api.github.com").Build();
  std::vector<uint8_t> evil =
      ClientHelloBuilder().ServerName("api.github.org").Build();
  ASSERT_EQ(good.size(), evil.size());
  this->Handshake(443);
  // Out of order: all but the first 30 bytes, then the whole, whose
  // server_name differs.
  EXPECT_TRUE(this->Out(443, kAck, 30,
                        std::vector<uint8_t>(good.begin() + 30, good.end()))
                  .forward);
  EXPECT_DROP(this->Out(443, kAck, 0, evil), DropReason::kDomainNotAllowed,
              true);
  // And the other way round: the retransmission differs from the first.
  this->Handshake(443, "192.0.2.2");
  EXPECT_TRUE(this->Out(443, kAck, 30,
                        std::vector<uint8_t>(evil.begin() + 30, evil.end()),
                        "192.0.2.2")
                  .forward);
  EXPECT_DROP(this->Out(443, kAck, 0, good, "192.0.2.2"),
              DropReason::kDomainNotAllowed, true);
}

TYPED_TEST(EnforcerDomainsTest, BoundsMakeAFlowUndecided) {
  // Segments: nine tiny ones of a request header that never ends.
  this->Handshake(80);
  std::string line = "GET / HTTP/1.1\r\nX-Long: ";
  uint32_t offset = 0;
  for (int i = 0; i < 8; ++i) {
    std::vector<uint8_t> piece = Bytes(i == 0 ? line : "aaaa");
    EXPECT_TRUE(this->Out(80, kAck, offset, piece).forward) << i;
    offset += piece.size();
  }
  EXPECT_DROP(this->Out(80, kAck, offset, Bytes("aaaa")),
              DropReason::kDomainUndecided, true);
  EXPECT_EQ(this->Flow()->name_check, NameCheck::kUndecided);
  // Time: two seconds after the first kept segment.
  this->Handshake(80, "192.0.2.2");
  EXPECT_TRUE(this->Out(80, kAck, 0, Bytes(line), "192.0.2.2").forward);
  this->now_ += PendingNames::kMaxSeconds + 1;
  EXPECT_DROP(this->Out(80, kAck, line.size(), Bytes("a"), "192.0.2.2"),
              DropReason::kDomainUndecided, true);
  // Bytes: a header past 4 KiB, in segments of 1,400.
  this->Handshake(80, "192.0.2.3");
  std::string big = line + std::string(5000, 'b');
  Verdict last;
  for (size_t at = 0; at < big.size(); at += 1400) {
    last = this->Out(
        80, kAck, at,
        Bytes(big.substr(at, std::min<size_t>(1400, big.size() - at))),
        "192.0.2.3");
    if (!last.forward) break;
  }
  EXPECT_DROP(last, DropReason::kDomainUndecided, true);
  EXPECT_EQ(this->enforcer_->pending_buffers_in_use(), 0u);
}

TYPED_TEST(EnforcerDomainsTest, PickedUpWithoutItsSyn) {
  // After a restart: the first packet sgate sees carries the ClientHello.
  EXPECT_TRUE(
      this->Out(443, kAck | kPsh, 0,
                ClientHelloBuilder().ServerName("api.github.com").Build())
          .forward);
  EXPECT_EQ(this->Flow()->name_check, NameCheck::kNone);
  // Mid-stream data is no ClientHello: denied.
  EXPECT_DROP(this->Out(443, kAck | kPsh, 9000, Bytes("\x17\x03\x03\x00\x10"),
                        "192.0.2.2"),
              DropReason::kDomainNotAllowed, true);
}

TYPED_TEST(EnforcerDomainsTest, DataInTheSyn) {
  // TCP Fast Open: the ClientHello rides the SYN.
  FrameBuilder syn;
  syn.Ipv4(kApp, kServer)
      .Tcp(40000, 443, kSyn)
      .Sequence(this->kClientIsn)
      .Data(ClientHelloBuilder().ServerName("api.github.com").Build());
  EXPECT_TRUE(this->Send(syn, Side::kInside).forward);
  EXPECT_EQ(this->Flow()->name_check, NameCheck::kNone);
}

TYPED_TEST(EnforcerDomainsTest, TheRulesInForceDecide) {
  this->Handshake(443);
  // Generation 2 keeps the rule but not the name.
  this->Load(
      "version: 1\nsecurity_groups:\n  sg-app:\n    egress:\n"
      "      - {protocol: tcp, ports: 443, cidr: 0.0.0.0/0, domains: [x.org]}\n"
      "interfaces:\n  eni-app: {addresses: [198.51.100.10],"
      " security_groups: [sg-app]}\n",
      2);
  EXPECT_DROP(
      this->Out(443, kAck | kPsh, 0,
                ClientHelloBuilder().ServerName("api.github.com").Build()),
      DropReason::kDomainNotAllowed, true);
  // Generation 3 allows https by address: pending flows become ordinary.
  this->Handshake(443, "192.0.2.2");
  this->Load(
      "version: 1\nsecurity_groups:\n  sg-app:\n    egress:\n"
      "      - {protocol: tcp, ports: 443, cidr: 192.0.2.0/24}\n"
      "interfaces:\n  eni-app: {addresses: [198.51.100.10],"
      " security_groups: [sg-app]}\n",
      3);
  EXPECT_TRUE(
      this->Out(443, kAck | kPsh, 0, Bytes("GET / HTTP/1.1\r\n"), "192.0.2.2")
          .forward);
  EXPECT_EQ(this->Flow("192.0.2.2")->name_check, NameCheck::kNone);
  EXPECT_FALSE(this->Flow("192.0.2.2")->named);
}

TYPED_TEST(EnforcerDomainsTest, RevalidationRechecksTheName) {
  const std::string settings = "settings: {revalidate_on_change: true}\n";
  this->Load(AppPolicy(settings), 1);
  this->Handshake(443);
  EXPECT_TRUE(
      this->Out(443, kAck | kPsh, 0,
                ClientHelloBuilder().ServerName("api.github.com").Build())
          .forward);
  // The same names: the flow stays.
  this->Load(AppPolicy(settings), 2);
  EXPECT_TRUE(this->In(443, kAck).forward);
  // Its name removed: cut.
  this->Load("version: 1\n" + settings +
                 "security_groups:\n  sg-app:\n    egress:\n"
                 "      - {protocol: tcp, ports: 443, cidr: 0.0.0.0/0, "
                 "domains: [x.org]}\n"
                 "interfaces:\n  eni-app: {addresses: [198.51.100.10],"
                 " security_groups: [sg-app]}\n",
             3);
  EXPECT_DROP(this->In(443, kAck), DropReason::kRevalidationDenied, false);
}

TYPED_TEST(EnforcerDomainsTest,
           AFlowAdmittedByAddressIsCutWhenOnlyNamesRemain) {
  const std::string settings = "settings: {revalidate_on_change: true}\n";
  this->Load("version: 1\n" + settings +
                 "security_groups:\n  sg-app:\n    egress:\n"
                 "      - {protocol: tcp, ports: 443, cidr: 0.0.0.0/0}\n"
                 "interfaces:\n  eni-app: {addresses: [198.51.100.10],"
                 " security_groups: [sg-app]}\n",
             1);
  this->Handshake(443);
  this->Load(AppPolicy(settings), 2);
  // It never asked for a name that a rule admits.
  EXPECT_DROP(this->Out(443, kAck, 0), DropReason::kRevalidationDenied, false);
}

}  // namespace
}  // namespace sgate::dataplane
