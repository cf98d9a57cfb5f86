// Writes a replay profile for perf/run: one capture per port and queue, and
// the policy the traffic is meant for.
//   sgate_perf_gen PROFILE RULES QUEUES OUTDIR
// OUTDIR gets outside-qK.pcap (frames arriving from outside: clients to the
// protected servers), inside-qK.pcap (frames the servers send) for K in
// [0, QUEUES), and policy.yaml with about RULES rules. A flow's frames all
// go to queue (flow % QUEUES) on both ports, as symmetric RSS would send
// them, so each worker sees whole conversations.
//
// Profiles (documentation addresses only; frames are the smallest the
// headers allow, 64 bytes on the wire for IPv4, unless stated):
//   est-1k, est-100k, est-1m  established flows, half TCP to port 80, half
//                             UDP to port 53: a request from outside and a
//                             reply from inside per flow and pass
//   ipv6-est-100k             the same over IPv6 (78/66-byte TCP/UDP frames)
//   new-flows                 every frame of the first pass opens a new
//                             allowed flow: UDP to port 53 from outside, UDP
//                             to 192.0.2.0/24 port 123 from inside
//   deny-mix                  est-1k interleaved frame by frame with frames
//                             no rule allows (tcp 23 in, udp 25 out): 50%
//   imix                      est-1k with frame sizes 64/570/1518 in 7:4:1
//   conversations-1k, -100k, -1m
//                             whole TCP connections to port 80, ten frames
//                             each: SYN, SYN-ACK, ACK, data both ways (a
//                             server greeting, a request, a response), an
//                             ACK, FIN-ACK from each side, the last ACK.
//                             Replayed forever, so every pass re-sends the
//                             handshake on a flow that exists (closed by
//                             the last pass's FINs: port reuse)
//   conversations-mixed-1k, -100k, -1m
//                             the same flows, one in two such a TCP
//                             connection, one in four a UDP exchange (five
//                             queries to port 53 and their answers), one
//                             in four a ping (five echo requests and
//                             replies): TCP, UDP and ICMP flows side by side
//
// Conversations are laid out step-major, as a capture of many concurrent
// connections is: a pass holds the first frame of every flow, then the
// second of every flow, and so on, each step in an order of its own (a
// pseudo-random permutation of the flows), since connections do not talk
// in the order they opened. Each direction carries five frames per flow,
// the client's in outside-q*.pcap, the server's in inside-q*.pcap; the two
// ports replay in step, the server's capture lagging by an eighth of a
// step, so that a server's frame reaches sgate a long round trip after the
// client's it answers (and, for about 1 % of them, after the client's next
// one too: reordering a real capture has as well). No two frames of a flow
// come close together and none in the order flows were created: at 100 k
// flows and more, a flow's state has left the caches by its next frame.
// (The est profiles send every flow's request and reply in the same pair
// of bursts and in the order the flows were created.)
//   domains                   new TLS connections out of the servers to
//                             names of rules with domains (issue 15): SYN,
//                             ACK and a ClientHello (GREASE, x25519; ~330
//                             bytes) inside, SYN-ACK, an ACK and 64 bytes
//                             of ServerHello outside, three frames a side
//                             per connection so that bursts of the two
//                             sides hold the same connections
//
// The policy: 16 server interfaces (198.51.100.1-16, 2001:db8:1::1-16)
// share every group. sg-perf-0 holds the rules the profile's traffic
// matches; filler rules (tcp/udp ports 10000-60000, remotes of /8 to /32,
// ClassBench-like) bring the total to RULES, 1,000 per group, so the
// traffic is classified against all of them and matches none of them.
// For domains, RULES egress rules (tcp 443 to 0.0.0.0/0) each name one
// domain, half exact (api-N.example.com), half wildcard
// (*.zone-N.example.net); connection f asks for rule f % RULES's name
// (www.zone-N.example.net for a wildcard), so every one is allowed.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "tests/support/client_hello.h"
#include "tests/support/frame_builder.h"
#include "tests/support/pcap_writer.h"

namespace {

using sgate::testing::FrameBuilder;
using sgate::testing::PcapWriter;

constexpr int kServers = 16;
constexpr int kRulesPerGroup = 1000;  // AWS's hard limit per group

struct Profile {
  const char* name;
  int flows;
  bool ipv6 = false;
  bool new_flows = false;
  bool deny_mix = false;
  bool imix = false;
  // Conversations (below): kConversationSteps frames per flow each way.
  bool conversations = false;
  bool mixed = false;  // TCP, UDP and ICMP conversations
  bool domains = false;  // new TLS connections to rules with domains
};

constexpr int kConversationSteps = 5;  // frames per flow in each direction

const Profile kProfiles[] = {
    {"est-1k", 1000},
    {"est-100k", 100'000},
    {"est-1m", 1'000'000},
    {"ipv6-est-100k", 100'000, true},
    {"new-flows", 1'000'000, false, true},
    {"deny-mix", 1000, false, false, true},
    {"imix", 1000, false, false, false, true},
    {"conversations-1k", 1000, false, false, false, false, true},
    {"conversations-100k", 100'000, false, false, false, false, true},
    {"conversations-1m", 1'000'000, false, false, false, false, true},
    {"conversations-mixed-1k", 1000, false, false, false, false, true, true},
    {"conversations-mixed-100k", 100'000, false, false, false, false, true,
     true},
    {"conversations-mixed-1m", 1'000'000, false, false, false, false, true,
     true},
    {"domains", 100'000, false, false, false, false, false, false, true},
};

std::string Server(const Profile& p, int f) {
  int host = 1 + f % kServers;
  return p.ipv6 ? "2001:db8:1::" + std::to_string(host)
                : "198.51.100." + std::to_string(host);
}

// Client f: 254 addresses (IPv4) or 4096 (IPv6) times consecutive ports,
// so every flow number is a distinct 5-tuple.
std::string Client(const Profile& p, int f) {
  if (p.ipv6) {
    char host[8];
    std::snprintf(host, sizeof(host), "%x", 1 + f % 4096);
    return std::string("2001:db8:2::") + host;
  }
  return "203.0.113." + std::to_string(1 + f % 254);
}
uint16_t ClientPort(const Profile& p, int f) {
  return static_cast<uint16_t>(1024 + f / (p.ipv6 ? 4096 : 254));
}

FrameBuilder Ip(const Profile& p, const std::string& src,
                const std::string& dst) {
  FrameBuilder b;
  return p.ipv6 ? b.Ipv6(src, dst) : b.Ipv4(src, dst);
}

// Pads to `wire_bytes` on the wire (the 4-byte FCS is not in the capture).
std::vector<uint8_t> Sized(FrameBuilder b, size_t wire_bytes) {
  std::vector<uint8_t> frame = b.Build();
  if (frame.size() + 4 < wire_bytes) frame.resize(wire_bytes - 4, 0);
  return frame;
}

size_t WireSize(const Profile& p, int f) {
  if (!p.imix) return 64;
  int slot = f % 12;  // 7:4:1
  return slot < 7 ? 64 : slot < 11 ? 570 : 1518;
}

// Flow f's frame from outside and the frame its server sends back.
std::vector<uint8_t> Request(const Profile& p, int f) {
  FrameBuilder b = Ip(p, Client(p, f), Server(p, f));
  if (p.new_flows || f % 2 == 1) {
    b.Udp(ClientPort(p, f), 53);
  } else {
    b.Tcp(ClientPort(p, f), 80, sgate::testing::kAck);
  }
  return Sized(b, WireSize(p, f));
}
std::vector<uint8_t> Reply(const Profile& p, int f) {
  if (p.new_flows) {
    // A new egress flow per frame: the server asks 192.0.2.0/24 for time.
    FrameBuilder b = Ip(p, Server(p, f), "192.0.2." + std::to_string(1 + f % 254));
    return Sized(b.Udp(ClientPort(p, f), 123), 64);
  }
  FrameBuilder b = Ip(p, Server(p, f), Client(p, f));
  if (f % 2 == 1) {
    b.Udp(53, ClientPort(p, f));
  } else {
    b.Tcp(80, ClientPort(p, f), sgate::testing::kAck);
  }
  return Sized(b, WireSize(p, f));
}
// Frames no rule allows, for deny-mix.
std::vector<uint8_t> DeniedIn(const Profile& p, int f) {
  return Sized(Ip(p, Client(p, f), Server(p, f)).Tcp(ClientPort(p, f), 23,
                                                     sgate::testing::kSyn),
               64);
}
std::vector<uint8_t> DeniedOut(const Profile& p, int f) {
  return Sized(Ip(p, Server(p, f), Client(p, f)).Udp(ClientPort(p, f), 25),
               64);
}

// Conversations. TCP flags beyond the frame builder's: PSH marks data.
constexpr uint8_t kPsh = 0x08;
constexpr uint16_t kEchoRequest = 8, kEchoReply = 0;
enum class ConversationKind { kTcp, kUdp, kPing };

ConversationKind KindOf(const Profile& p, int f) {
  if (!p.mixed || f % 4 < 2) return ConversationKind::kTcp;
  return f % 4 == 2 ? ConversationKind::kUdp : ConversationKind::kPing;
}

// Frame `step` (0-4) of flow f's conversation, from the client (outside)
// or from the server (inside). In time order, a TCP connection is
// c0 SYN, s0 SYN-ACK, c1 ACK, s1 greeting, c2 request, s2 response,
// c3 ACK, s3 FIN (the server closes), c4 FIN-ACK, s4 the last ACK. Data
// frames carry 6 bytes, which still fit the 64-byte minimum frame.
std::vector<uint8_t> ConversationFrame(const Profile& p, int f, int step,
                                       bool from_client) {
  using sgate::testing::kAck;
  using sgate::testing::kFin;
  using sgate::testing::kSyn;
  FrameBuilder b = from_client ? Ip(p, Client(p, f), Server(p, f))
                               : Ip(p, Server(p, f), Client(p, f));
  uint16_t client_port = ClientPort(p, f);
  switch (KindOf(p, f)) {
    case ConversationKind::kTcp: {
      static constexpr uint8_t kClient[kConversationSteps] = {
          kSyn, kAck, kPsh | kAck, kAck, kFin | kAck};
      static constexpr uint8_t kServer[kConversationSteps] = {
          kSyn | kAck, kPsh | kAck, kPsh | kAck, kFin | kAck, kAck};
      uint8_t flags = (from_client ? kClient : kServer)[step];
      if (from_client) {
        b.Tcp(client_port, 80, flags);
      } else {
        b.Tcp(80, client_port, flags);
      }
      if (flags & kPsh) b.Payload(6);
      break;
    }
    case ConversationKind::kUdp:
      if (from_client) {
        b.Udp(client_port, 53);
      } else {
        b.Udp(53, client_port);
      }
      break;
    case ConversationKind::kPing:
      // The echo id tells the client's pings apart, as ports do.
      b.Icmp(from_client ? kEchoRequest : kEchoReply, 0,
             uint32_t{client_port} << 16 | static_cast<uint32_t>(step));
      break;
  }
  return Sized(b, 64);
}

// Writes queue q's two captures of a conversations profile: flows f with
// f % queues == q, step-major, each step in its own order, the server's
// capture lagging by an eighth of a step.
void WriteConversations(const Profile& p, int q, int queues,
                        PcapWriter& outside, PcapWriter& inside) {
  int flows = (p.flows - q + queues - 1) / queues;
  int64_t frames = int64_t{flows} * kConversationSteps;
  int64_t lag = flows / 8;
  // Step s visits flow (j * kStride[s] + s) mod flows at its j-th frame: a
  // permutation, the strides being primes that divide no flow count here.
  static constexpr int64_t kStride[kConversationSteps] = {1, 7919, 104729,
                                                          1299709, 15485863};
  auto frame = [&](int64_t n, bool from_client) {
    int step = static_cast<int>(n / flows);
    int64_t j = n % flows;
    int64_t stride = std::gcd(kStride[step], int64_t{flows}) == 1
                         ? kStride[step] : 1;
    int f = static_cast<int>((j * stride + step) % flows) * queues + q;
    return ConversationFrame(p, f, step, from_client);
  };
  for (int64_t n = 0; n < frames; ++n) {
    outside.Write(frame(n, true));
    inside.Write(frame((n - lag + frames) % frames, false));
  }
}

// The domains profile: rule r's name, and the name connection f asks for.
std::string RuleDomain(int r) {
  return r % 2 == 0 ? "api-" + std::to_string(r) + ".example.com"
                    : "*.zone-" + std::to_string(r) + ".example.net";
}
std::string AskedName(int rules, int f) {
  std::string domain = RuleDomain(f % rules);
  return domain[0] == '*' ? "www" + domain.substr(1) : domain;
}

// Connection f of the domains profile: the server (inside) opens it to
// 192.0.2.0/24 or 203.0.113.0/24 port 443 from a port of its own.
constexpr uint32_t kClientIsn = 1000, kServerIsn = 9000;
std::string DomainsRemote(int f) {
  return (f % 2 ? "203.0.113." : "192.0.2.") + std::to_string(1 + f / 2 % 254);
}
uint16_t DomainsPort(int f) { return static_cast<uint16_t>(1024 + f / 508); }
std::vector<std::vector<uint8_t>> DomainsInside(const Profile& p, int rules,
                                                int f) {
  using sgate::testing::kAck;
  using sgate::testing::kSyn;
  auto frame = [&](uint8_t flags, uint32_t seq, std::vector<uint8_t> data) {
    FrameBuilder b = Ip(p, Server(p, f), DomainsRemote(f));
    b.Tcp(DomainsPort(f), 443, flags).Sequence(seq, kServerIsn + 1).Data(data);
    return Sized(b, 64);
  };
  std::vector<uint8_t> hello = sgate::testing::ClientHelloBuilder()
                                   .ServerName(AskedName(rules, f))
                                   .Grease()
                                   .Build();
  return {frame(kSyn, kClientIsn, {}), frame(kAck, kClientIsn + 1, {}),
          frame(kAck | 0x08, kClientIsn + 1, hello)};
}
std::vector<std::vector<uint8_t>> DomainsOutside(const Profile& p, int f) {
  using sgate::testing::kAck;
  using sgate::testing::kSyn;
  auto frame = [&](uint8_t flags, uint32_t seq, uint32_t ack, size_t data) {
    FrameBuilder b = Ip(p, DomainsRemote(f), Server(p, f));
    b.Tcp(443, DomainsPort(f), flags).Sequence(seq, ack).Payload(data);
    return Sized(b, 64);
  };
  return {frame(kSyn | kAck, kServerIsn, kClientIsn + 1, 0),
          frame(kAck, kServerIsn + 1, kClientIsn + 400, 0),
          frame(kAck | 0x08, kServerIsn + 1, kClientIsn + 400, 64)};
}

void WriteDomainsPolicy(const Profile& p, int rules, const std::string& path) {
  std::ofstream out(path);
  out << "# Generated by perf/gen for profile " << p.name << ": " << rules
      << " egress rules with domains.\nversion: 1\nsettings:\n  max_flows: "
      << std::max(262144, 4 * p.flows)
      << "\n  max_rules_per_group: " << kRulesPerGroup
      << "\n  max_groups_per_interface: 16\nsecurity_groups:\n";
  int groups = (rules + kRulesPerGroup - 1) / kRulesPerGroup;
  for (int g = 0; g < groups; ++g) {
    out << "  sg-names-" << g << ":\n    egress:\n";
    const int end = std::min(rules, (g + 1) * kRulesPerGroup);
    for (int r = g * kRulesPerGroup; r < end; ++r) {
      out << "      - {protocol: tcp, ports: 443, cidr: 0.0.0.0/0, domains: [\""
          << RuleDomain(r) << "\"]}\n";
    }
  }
  out << "interfaces:\n";
  for (int s = 0; s < kServers; ++s) {
    out << "  eni-" << s << ":\n    addresses: [\"" << Server(p, s)
        << "\"]\n    security_groups: [";
    for (int g = 0; g < groups; ++g) out << (g ? ", " : "") << "sg-names-" << g;
    out << "]\n";
  }
}

// A ClassBench-like filler rule that none of the profiles' frames match:
// destination ports from 10000 up, remotes of /8 to /32.
std::string FillerRule(std::mt19937& rng, bool ipv6) {
  std::uniform_int_distribution<uint32_t> any;
  std::string proto = any(rng) % 2 ? "tcp" : "udp";
  uint32_t low = 10000 + any(rng) % 50000;
  std::string ports;
  switch (any(rng) % 3) {
    case 0: ports = std::to_string(low); break;              // exact
    case 1: ports = std::to_string(low) + "-60000"; break;   // open-ended
    default:
      ports = std::to_string(low) + "-" + std::to_string(low + any(rng) % 500);
  }
  std::string cidr;
  if (ipv6) {
    // Prefixes of 2001:db8::/32 on 16-bit boundaries, /32 to /128.
    int length = 32 + 16 * static_cast<int>(any(rng) % 7);
    cidr = "2001:db8";
    for (int bits = 32; bits < 128; bits += 16) {
      char group[8];
      std::snprintf(group, sizeof(group), ":%x",
                    bits < length ? any(rng) & 0xFFFF : 0);
      cidr += group;
    }
    cidr += "/" + std::to_string(length);
  } else {
    int length = 8 + any(rng) % 25;
    uint32_t address = any(rng) & (length == 32 ? ~0u : ~(~0u >> length));
    cidr = std::to_string(address >> 24) + "." +
           std::to_string(address >> 16 & 255) + "." +
           std::to_string(address >> 8 & 255) + "." +
           std::to_string(address & 255) + "/" + std::to_string(length);
  }
  return "{protocol: " + proto + ", ports: \"" + ports + "\", cidr: \"" +
         cidr + "\"}";
}

void WritePolicy(const Profile& p, int rules, const std::string& path) {
  std::ofstream out(path);
  // The rules the traffic matches: from the clients' /24 (/48), and the
  // servers' time queries. deny-mix's tcp 23 in and udp 25 out match none.
  std::vector<std::string> ingress, egress;
  if (p.ipv6) {
    ingress = {"{protocol: tcp, ports: 80, cidr: \"2001:db8:2::/48\"}",
               "{protocol: udp, ports: 53, cidr: \"2001:db8:2::/48\"}"};
  } else {
    ingress = {"{protocol: tcp, ports: 80, cidr: 203.0.113.0/24}",
               "{protocol: udp, ports: 53, cidr: 203.0.113.0/24}"};
  }
  if (p.mixed) ingress.push_back(
      "{protocol: icmp, icmp_type: 8, cidr: 203.0.113.0/24}");
  egress = {"{protocol: udp, ports: 123, cidr: 192.0.2.0/24}"};
  int groups = std::max(1, (rules + kRulesPerGroup - 1) / kRulesPerGroup);
  // Flows per worker table: new-flows opens two per request pair.
  int max_flows = std::max(262144, 4 * p.flows);
  out << "# Generated by perf/gen for profile " << p.name << ": about "
      << rules << " rules.\nversion: 1\nsettings:\n  max_flows: " << max_flows
      << "\n  max_rules_per_group: " << kRulesPerGroup
      << "\n  max_groups_per_interface: 16\nsecurity_groups:\n";
  std::mt19937 rng(20261123);
  int left = rules - static_cast<int>(ingress.size() + egress.size());
  for (int g = 0; g < groups; ++g) {
    std::vector<std::string> in = g == 0 ? ingress : std::vector<std::string>{};
    std::vector<std::string> eg = g == 0 ? egress : std::vector<std::string>{};
    // Fillers, half each way, up to the group's share.
    while (left > 0 && static_cast<int>(in.size() + eg.size()) < kRulesPerGroup) {
      bool ingress_side = in.size() <= eg.size();
      (ingress_side ? in : eg).push_back(FillerRule(rng, p.ipv6));
      --left;
    }
    out << "  sg-perf-" << g << ":\n    ingress:\n";
    for (const std::string& r : in) out << "      - " << r << "\n";
    out << "    egress:\n";
    for (const std::string& r : eg) out << "      - " << r << "\n";
  }
  out << "interfaces:\n";
  for (int s = 0; s < kServers; ++s) {
    out << "  eni-" << s << ":\n    addresses: [\"" << Server(p, s)
        << "\"]\n    security_groups: [";
    for (int g = 0; g < groups; ++g) out << (g ? ", " : "") << "sg-perf-" << g;
    out << "]\n";
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: sgate_perf_gen PROFILE RULES QUEUES OUTDIR\n"
                         "profiles:");
    for (const Profile& p : kProfiles) std::fprintf(stderr, " %s", p.name);
    std::fprintf(stderr, "\n");
    return 2;
  }
  const Profile* profile = nullptr;
  for (const Profile& p : kProfiles) {
    if (std::string(argv[1]) == p.name) profile = &p;
  }
  int rules = std::atoi(argv[2]);
  int queues = std::atoi(argv[3]);
  std::string dir = argv[4];
  if (profile == nullptr || rules < 3 || rules > 16 * kRulesPerGroup ||
      queues < 1 || queues > 16) {
    std::fprintf(stderr, "sgate_perf_gen: unknown profile '%s', or RULES not "
                         "in 3..16000, or QUEUES not in 1..16\n", argv[1]);
    return 2;
  }
  const Profile& p = *profile;
  std::vector<std::unique_ptr<PcapWriter>> outside, inside;
  for (int q = 0; q < queues; ++q) {
    std::string suffix = "-q" + std::to_string(q) + ".pcap";
    outside.push_back(std::make_unique<PcapWriter>(dir + "/outside" + suffix));
    inside.push_back(std::make_unique<PcapWriter>(dir + "/inside" + suffix));
    if (!outside.back()->ok() || !inside.back()->ok()) {
      std::fprintf(stderr, "sgate_perf_gen: cannot write in %s\n", dir.c_str());
      return 1;
    }
  }
  for (int q = 0; p.conversations && q < queues; ++q) {
    WriteConversations(p, q, queues, *outside[q], *inside[q]);
  }
  for (int f = 0; !p.conversations && f < p.flows; ++f) {
    int q = f % queues;
    if (p.domains) {
      for (const auto& frame : DomainsInside(p, rules, f)) {
        inside[q]->Write(frame);
      }
      for (const auto& frame : DomainsOutside(p, f)) outside[q]->Write(frame);
      continue;
    }
    outside[q]->Write(Request(p, f));
    inside[q]->Write(Reply(p, f));
    if (p.deny_mix) {
      outside[q]->Write(DeniedIn(p, f));
      inside[q]->Write(DeniedOut(p, f));
      }
  }
  if (p.domains) {
    WriteDomainsPolicy(p, rules, dir + "/policy.yaml");
  } else {
    WritePolicy(p, rules, dir + "/policy.yaml");
  }
  // perf/run sizes the mbuf pools from this: replay ports keep every frame.
  int frames_per_flow =
      p.conversations ? 2 * kConversationSteps
      : p.domains     ? 6
      : p.deny_mix    ? 4
                      : 2;
  std::printf("frames %lld flows %d\n",
              static_cast<long long>(p.flows) * frames_per_flow, p.flows);
  return 0;
}
