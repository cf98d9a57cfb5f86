// Micro-benchmarks of the compiled classifier (issue 3), each beside its
// baselines in the same run:
//   BM_Classify/<family>/<entries>/<impl>: cost per packet of a burst of 32,
//     in ns and in TSC cycles, for 10 .. 60,000 expanded rules: the mean
//     over CPU time (cpu_cycles_per_pkt), over wall time, and the median
//     iteration (median_cycles_per_pkt), which other work on a shared
//     machine disturbs least.
//     impl: table (RuleTable, auto method), avx2 (RuleTable, AVX2),
//     naive_acl (rte_acl built the naive way: members expanded, scalar
//     method), linear (a plain scan over the expanded rules).
//   BM_Build/<case>/<impl>: build time and memory of the scale cases, and
//     of a tiny policy (the fixed cost).
// perf/micro runs them and writes perf/RESULTS.md.

#include <benchmark/benchmark.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "rules/policy.h"
#include "rules/reference.h"
#include "rules/rule_compiler.h"
#include "perf/vpc/vpc_policy.h"
#include "rules/rule_table.h"
#include "tests/support/eal_environment.h"

namespace sgate::rules {
namespace {

// Burst size of the dataplane (issue 3 asks for bursts of 32).
constexpr uint32_t kBurst = 32;
// Packets per benchmark iteration: 128 bursts, enough to average over many
// rules' worth of keys while the keys (~200 KiB) stay in L2.
constexpr uint32_t kPackets = 4096;

IpAddress V6(uint64_t high, uint64_t low) {
  std::array<uint8_t, 16> b{};
  for (int i = 0; i < 8; ++i) {
    b[i] = static_cast<uint8_t>(high >> (56 - 8 * i));
    b[8 + i] = static_cast<uint8_t>(low >> (56 - 8 * i));
  }
  return IpAddress::V6(b);
}

// ClassBench-style (acl1-like) rules: prefixes mostly long, ports a mix of
// exact, well-known ranges, random ranges and wildcards, mostly tcp/udp.
class RuleMaker {
 public:
  explicit RuleMaker(uint64_t seed) : rng_(seed) {}

  int Int(int low, int high) {
    return std::uniform_int_distribution<int>(low, high)(rng_);
  }
  uint64_t U64() { return rng_(); }

  Cidr Prefix(Family f) {
    int r = Int(0, 99);
    if (f == Family::kIPv4) {
      int len = r < 30 ? 32 : r < 60 ? Int(24, 31) : r < 85 ? Int(16, 23)
                : r < 99 ? Int(8, 15) : 0;
      return MakeCidr(IpAddress::V4(static_cast<uint32_t>(U64())), len);
    }
    int len = r < 30 ? 128 : r < 60 ? Int(64, 127) : r < 85 ? Int(48, 63)
              : r < 99 ? Int(32, 47) : 0;
    return MakeCidr(V6(0x20010db800000000ull | (U64() >> 32), U64()), len);
  }

  Rule Make(Family f) {
    Rule rule;
    int p = Int(0, 99);
    rule.protocol = p < 70 ? kProtocolTcp : p < 90 ? kProtocolUdp
                    : p < 95 ? (f == Family::kIPv4 ? kProtocolIcmp
                                                   : kProtocolIcmpv6)
                             : kProtocolAll;
    if (HasPorts(rule.protocol)) {
      int k = Int(0, 99);
      if (k < 40) {
        rule.port_low = rule.port_high = static_cast<uint16_t>(Int(1, 65535));
      } else if (k < 60) {
        rule.port_low = 1024;
      } else if (k < 75) {
        int a = Int(0, 65535), b = Int(0, 65535);
        rule.port_low = static_cast<uint16_t>(std::min(a, b));
        rule.port_high = static_cast<uint16_t>(std::max(a, b));
      }  // else all ports
    }
    if (HasIcmpFields(rule.protocol) && Int(0, 1)) {
      rule.icmp_type = Int(0, 15);
      if (Int(0, 1)) rule.icmp_code = Int(0, 3);
    }
    rule.remote_kind = RemoteKind::kCidr;
    rule.cidrs = {Prefix(f)};
    // A wide-open rule would match every packet and make the hit/miss mix
    // meaningless: /0 only with one protocol and port.
    if (rule.cidrs[0].prefix_length == 0) {
      if (!HasPorts(rule.protocol)) rule.protocol = kProtocolTcp;
      rule.port_high = rule.port_low = static_cast<uint16_t>(Int(1, 65535));
    }
    return rule;
  }

 private:
  std::mt19937_64 rng_;
};

Rule AllowAllEgress() {
  Rule rule;
  rule.cidrs = {MakeCidr(IpAddress::V4(0), 0), MakeCidr(V6(0, 0), 0)};
  return rule;
}

const IpAddress kLocal4 = IpAddress::V4(0xC0000201);  // 192.0.2.1
const IpAddress kLocal6 = V6(0x20010db800000000ull, 1);

// One interface, one group of `entries` ingress rules of one family.
Policy FlatPolicy(Family f, int entries) {
  Policy p;
  RuleMaker maker(entries * 7 + static_cast<int>(f));
  SecurityGroup g;
  g.name = "sg-bench";
  for (int i = 0; i < entries; ++i) g.ingress.push_back(maker.Make(f));
  g.egress.push_back(AllowAllEgress());
  p.security_groups[g.name] = g;
  Interface itf;
  itf.name = "eni-bench";
  itf.addresses = {kLocal4, kLocal6};
  itf.security_groups = {g.name};
  p.interfaces[itf.name] = itf;
  AssignRuleIds(p);
  return p;
}

// Half the packets aim inside a random rule (prefix, port range, protocol),
// half are random: both the hit and the miss paths are measured.
std::vector<PacketKey> Packets(const Policy& p, Family f) {
  RuleMaker r(42);
  std::vector<PacketKey> keys(kPackets);
  const std::vector<Rule>& rules = p.security_groups.begin()->second.ingress;
  for (PacketKey& k : keys) {
    k.direction = Direction::kIngress;
    k.local = f == Family::kIPv4 ? kLocal4 : kLocal6;
    const Rule& rule = rules[r.Int(0, static_cast<int>(rules.size()) - 1)];
    bool hit = r.Int(0, 1);
    Cidr c = hit ? rule.cidrs[0] : r.Prefix(f);
    k.remote = c.address;
    for (int bit = c.prefix_length; bit < k.remote.bit_width(); ++bit) {
      if (r.Int(0, 1)) k.remote.bytes[bit / 8] |= 0x80 >> (bit % 8);
    }
    k.protocol = static_cast<uint8_t>(
        hit && rule.protocol >= 0 ? rule.protocol : r.Int(0, 1) ? 6 : 17);
    k.dst_port = static_cast<uint16_t>(
        hit ? r.Int(rule.port_low, rule.port_high) : r.Int(0, 65535));
  }
  return keys;
}

// The plain baseline: every expanded rule of the interface's lanes in turn,
// first match wins (the flat policies reference no group).
class LinearScan {
 public:
  LinearScan(const Policy& policy, Family f) {
    absl::StatusOr<CompiledRules> rules = CompileRules(policy, {});
    absl::StatusOr<CompiledAddresses> addresses =
        rules.ok() ? CompileAddresses(policy, *rules, "")
                   : absl::StatusOr<CompiledAddresses>(rules.status());
    if (!addresses.ok()) return;
    const int fi = static_cast<int>(f);
    for (const MatchEntry& e : rules->Entries(f, Direction::kIngress)) {
      Entry x;
      x.rule_id = e.rule_id;
      x.lane = e.lane;
      x.protocol = e.protocol;
      x.low = e.port_low;
      x.high = e.port_high;
      Words(e.remote.address, x.address);
      IpAddress mask;  // all zero: the prefix's bits are set below
      for (int bit = 0; bit < e.remote.prefix_length; ++bit) {
        mask.bytes[bit / 8] |= 0x80 >> (bit % 8);
      }
      Words(mask, x.mask);
      entries_.push_back(x);
    }
    for (const CompiledInterface& i : addresses->interfaces) {
      std::vector<int> lanes;
      for (uint32_t g : i.groups) {
        const LaneRange& r = rules->lanes_of_group[fi][0][g];
        for (uint32_t l = r.first; l < r.first + r.count; ++l) {
          lanes.push_back(static_cast<int>(l));
        }
      }
      for (const IpAddress& a : i.addresses) locals_.push_back({a, lanes});
    }
  }

  void Classify(const PacketKey* keys, uint32_t n, Classification* out) const {
    for (uint32_t i = 0; i < n; ++i) {
      const PacketKey& k = keys[i];
      out[i] = {Decision::kUnknownInterfaceDropped, 0,
                Classification::kNoInterface};
      const std::vector<int>* lanes = nullptr;
      for (const auto& [address, l] : locals_) {
        if (address == k.local) lanes = &l;
      }
      if (lanes == nullptr) continue;
      uint64_t remote[2];
      Words(k.remote, remote);
      uint16_t port = PortField(k.protocol, k.dst_port, k.icmp_type,
                                k.icmp_code);
      out[i].decision = Decision::kNoRuleMatched;
      for (const Entry& e : entries_) {
        if (std::find(lanes->begin(), lanes->end(), e.lane) != lanes->end() &&
            (e.protocol < 0 || e.protocol == k.protocol) && port >= e.low &&
            port <= e.high && ((remote[0] ^ e.address[0]) & e.mask[0]) == 0 &&
            ((remote[1] ^ e.address[1]) & e.mask[1]) == 0) {
          out[i].decision = Decision::kAllowedByRule;
          out[i].rule_id = e.rule_id;
          break;
        }
      }
    }
  }

 private:
  struct Entry {
    uint64_t address[2];
    uint64_t mask[2];
    uint32_t rule_id;
    int32_t lane;
    int16_t protocol;
    uint16_t low;
    uint16_t high;
  };
  static void Words(const IpAddress& a, uint64_t out[2]) {
    std::memcpy(&out[0], a.bytes.data(), 8);
    std::memcpy(&out[1], a.bytes.data() + 8, 8);
  }
  std::vector<Entry> entries_;
  std::vector<std::pair<IpAddress, std::vector<int>>> locals_;
};

double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + ts.tv_nsec * 1e-9;
}

enum class Impl { kTable, kScan, kAvx2, kNaiveAcl, kLinear };
const char* ImplName(Impl i) {
  switch (i) {
    case Impl::kTable: return "table";
    case Impl::kScan: return "scan";
    case Impl::kAvx2: return "avx2";
    case Impl::kNaiveAcl: return "naive_acl";
    case Impl::kLinear: return "linear";
  }
  return "?";
}

RuleTableOptions Options(Impl impl) {
  RuleTableOptions o;
  if (impl == Impl::kScan) o.scan_lane_limit = UINT32_MAX;
  if (impl == Impl::kAvx2) o.acl_method = AclMethod::kAvx2;
  if (impl == Impl::kNaiveAcl) {
    o.acl_method = AclMethod::kScalar;
    o.compile.expand_group_members = true;
  }
  return o;
}

// Times `classify(first_key, out)` on bursts of kBurst over `keys`
// (kPackets of them) and sets the counters perf/results.py reads.
template <typename ClassifyFn>
void TimeClassify(benchmark::State& state, const std::vector<PacketKey>& keys,
                  ClassifyFn classify) {
  std::vector<Classification> out(kBurst);
  // Hit ratio, once, outside the timed loop.
  uint64_t allowed = 0;
  for (uint32_t off = 0; off < kPackets; off += kBurst) {
    classify(&keys[off], out.data());
    for (const Classification& c : out) {
      allowed += c.decision == Decision::kAllowedByRule;
    }
  }
  uint64_t cycles = 0;
  std::vector<uint64_t> per_iteration;  // TSC cycles of each iteration
  per_iteration.reserve(1 << 16);
  auto start = std::chrono::steady_clock::now();
  double cpu_start = ThreadCpuSeconds();
  for (auto _ : state) {
    uint64_t t0 = rte_rdtsc();
    for (uint32_t off = 0; off < kPackets; off += kBurst) {
      classify(&keys[off], out.data());
      benchmark::DoNotOptimize(out.data());
    }
    uint64_t t = rte_rdtsc() - t0;
    cycles += t;
    per_iteration.push_back(t);
  }
  double cpu = ThreadCpuSeconds() - cpu_start;
  double seconds = std::chrono::duration<double>(
                       std::chrono::steady_clock::now() - start).count();
  double packets = static_cast<double>(state.iterations()) * kPackets;
  state.SetItemsProcessed(static_cast<int64_t>(packets));
  // TSC cycles over wall time include time the shared machine gave to
  // others; the CPU-time figures (thread CPU time × TSC rate) do not.
  state.counters["tsc_cycles_per_pkt"] = static_cast<double>(cycles) / packets;
  // The median iteration (4,096 packets, ~0.3 ms): on a shared machine
  // the mean swings with what else runs (a few iterations take 2-5x the
  // usual time); the median is stable to a few percent across runs, so it
  // is the figure for comparing two builds of the code.
  if (!per_iteration.empty()) {
    auto middle = per_iteration.begin() + per_iteration.size() / 2;
    std::nth_element(per_iteration.begin(), middle, per_iteration.end());
    state.counters["median_cycles_per_pkt"] =
        static_cast<double>(*middle) / kPackets;
  }
  state.counters["wall_ns_per_pkt"] = seconds * 1e9 / packets;
  state.counters["cpu_ns_per_pkt"] = cpu * 1e9 / packets;
  state.counters["cpu_cycles_per_pkt"] =
      cpu * static_cast<double>(rte_get_tsc_hz()) / packets;
  state.counters["hit_ratio"] = static_cast<double>(allowed) / kPackets;
}

void BM_Classify(benchmark::State& state, Family f, int entries, Impl impl) {
  Policy policy = FlatPolicy(f, entries);
  std::vector<PacketKey> keys = Packets(policy, f);
  std::unique_ptr<RuleTable> table;
  std::unique_ptr<LinearScan> linear;
  if (impl == Impl::kLinear) {
    linear = std::make_unique<LinearScan>(policy, f);
  } else {
    absl::StatusOr<std::unique_ptr<RuleTable>> t =
        RuleTable::Build(policy, Options(impl));
    if (!t.ok()) {
      state.SkipWithError(t.status().ToString().c_str());
      return;
    }
    table = std::move(*t);
    state.counters["acl_rules"] =
        table->stats().AclRules(f, Direction::kIngress);
  }
  TimeClassify(state, keys, [&](const PacketKey* k, Classification* out) {
    if (linear) {
      linear->Classify(k, kBurst, out);
    } else {
      table->Classify(k, kBurst, out);
    }
  });
  state.counters["entries"] = entries;
  state.SetLabel(table ? std::string(AclMethodName(table->stats().acl_method))
                       : "scan");
}

// The VPC shapes (perf/vpc): one table per shape and scan limit, built on
// first use and kept for both families (a vpc-50k build takes seconds);
// freed before EAL goes (main).
std::map<std::pair<std::string, uint32_t>, std::unique_ptr<RuleTable>>
    vpc_tables;

const RuleTable* VpcTable(const std::string& shape_name, uint32_t scan_limit,
                          std::string* error) {
  auto& tables = vpc_tables;
  auto it = tables.find({shape_name, scan_limit});
  if (it != tables.end()) return it->second.get();
  absl::StatusOr<Policy> policy =
      perf::FinalizedVpcPolicy(*perf::VpcShapeNamed(shape_name));
  if (!policy.ok()) {
    *error = policy.status().ToString();
    return nullptr;
  }
  RuleTableOptions options;
  options.scan_lane_limit = scan_limit;
  absl::StatusOr<std::unique_ptr<RuleTable>> table =
      RuleTable::Build(*policy, options);
  if (!table.ok()) {
    *error = table.status().ToString();
    return nullptr;
  }
  return (tables[{shape_name, scan_limit}] = *std::move(table)).get();
}

void BM_ClassifyVpc(benchmark::State& state, const std::string& shape,
                    Family f, uint32_t scan_limit) {
  std::string error;
  const RuleTable* table = VpcTable(shape, scan_limit, &error);
  if (table == nullptr) {
    state.SkipWithError(error.c_str());
    return;
  }
  absl::StatusOr<Policy> policy =
      perf::FinalizedVpcPolicy(*perf::VpcShapeNamed(shape));
  std::vector<PacketKey> keys =
      perf::VpcPackets(*policy, f, kPackets, 42 + static_cast<int>(f));
  TimeClassify(state, keys, [&](const PacketKey* k, Classification* out) {
    table->Classify(k, kBurst, out);
  });
  const RuleTableStats& st = table->stats();
  const int fi = static_cast<int>(f);
  state.counters["acl_rules"] = st.acl[fi][0].rules + st.acl[fi][1].rules;
  state.counters["keys_per_packet"] =
      (st.lanes_per_interface[fi][0] + st.lanes_per_interface[fi][1]) / 2;
  state.SetLabel(std::string(AclMethodName(st.acl_method)));
}

// The classifier designs compared at the VPC shapes (rules/README.md):
// every lane in rte_acl, every lane scanned, and the default mix.
struct VpcDesign {
  const char* name;
  uint32_t scan_lane_limit;
};
std::vector<VpcDesign> VpcDesigns() {
  return {{"acl", 0},
          {"scan", UINT32_MAX},
          {"hybrid", RuleTableOptions::kDefaultScanLaneLimit}};
}

// What a timed build follows: nothing (a first build), the same rules
// with every interface moved between groups (another members seed), or
// one IPv4 ingress CIDR of one group changed.
enum class VpcReload { kNone, kMembers, kOneRule };
const char* VpcReloadName(VpcReload r) {
  switch (r) {
    case VpcReload::kNone: return "first";
    case VpcReload::kMembers: return "members";
    case VpcReload::kOneRule: return "one_rule";
  }
  return "?";
}

void SetBuildCounters(benchmark::State& state, const RuleTableStats& st) {
  uint32_t rules = 0;
  uint32_t scanned = 0;
  for (const auto& per_family : st.acl) {
    for (const AclContextStats& c : per_family) {
      rules += c.rules;
      scanned += c.scanned_rules;
    }
  }
  state.counters["acl_rules"] = rules;
  state.counters["scanned_rules"] = scanned;
  state.counters["groups"] = st.groups;
  state.counters["member_classes"] = st.member_classes;
  state.counters["build_ms"] = st.build_seconds * 1e3;
  state.counters["compile_ms"] = (st.rules_seconds + st.addresses_seconds) * 1e3;
  state.counters["acl_ms"] = st.acl_seconds * 1e3;
  state.counters["addresses_ms"] =
      (st.addresses_seconds + st.hosts_seconds) * 1e3;
  state.counters["contexts_built"] = st.ContextsBuilt();
  state.counters["contexts_reused"] = st.ContextsReused();
  state.counters["memory_MiB"] =
      static_cast<double>(st.memory_bytes()) / (1 << 20);
  state.SetLabel(std::string(AclMethodName(st.acl_method)));
}

void BM_BuildVpc(benchmark::State& state, const std::string& shape_name,
                 uint32_t scan_limit, VpcReload reload) {
  perf::VpcShape shape = *perf::VpcShapeNamed(shape_name);
  absl::StatusOr<Policy> first = perf::FinalizedVpcPolicy(shape);
  if (reload == VpcReload::kMembers) shape.members_seed += 1;
  absl::StatusOr<Policy> policy = perf::FinalizedVpcPolicy(shape);
  if (!first.ok() || !policy.ok()) {
    state.SkipWithError(first.ok() ? policy.status().ToString().c_str()
                                   : first.status().ToString().c_str());
    return;
  }
  if (reload == VpcReload::kOneRule) {
    for (auto& [name, group] : policy->security_groups) {
      for (Rule& rule : group.ingress) {
        if (rule.remote_kind == RemoteKind::kCidr &&
            rule.cidrs[0].address.family == Family::kIPv4 &&
            rule.cidrs[0].prefix_length == 32) {
          rule.cidrs[0].address.bytes[3] ^= 1;
          goto edited;
        }
      }
    }
  edited:;
  }
  RuleTableOptions options;
  options.scan_lane_limit = scan_limit;
  std::unique_ptr<RuleTable> previous;
  if (reload != VpcReload::kNone) {
    absl::StatusOr<std::unique_ptr<RuleTable>> t =
        RuleTable::Build(*first, options);
    if (!t.ok()) {
      state.SkipWithError(t.status().ToString().c_str());
      return;
    }
    previous = *std::move(t);
  }
  RuleTableStats stats;
  for (auto _ : state) {
    absl::StatusOr<std::unique_ptr<RuleTable>> t =
        RuleTable::Build(*policy, options, previous.get());
    if (!t.ok()) {
      state.SkipWithError(t.status().ToString().c_str());
      return;
    }
    stats = (*t)->stats();
  }
  SetBuildCounters(state, stats);
}

// Scale case 1: 1,000 interfaces × 5 groups × 60 ingress rules. The groups
// of an interface come from a pool, and `distinct_sets` says how many
// different 5-group combinations the 1,000 interfaces use (a real VPC has
// few tiers). The rule side holds each group's rules once whatever the
// sets (rules/README.md); the sets only shape the address side.
Policy InterfacesPolicy(int distinct_sets) {
  Policy p;
  RuleMaker maker(1);
  const int pool = distinct_sets * 5 < 100 ? distinct_sets * 5 : 100;
  for (int g = 0; g < pool; ++g) {
    SecurityGroup group;
    group.name = absl::StrCat("sg-", g);
    for (int i = 0; i < 60; ++i) group.ingress.push_back(maker.Make(Family::kIPv4));
    group.egress.push_back(AllowAllEgress());
    p.security_groups[group.name] = group;
  }
  std::vector<std::vector<std::string>> sets;
  std::mt19937_64 rng(2);
  // Distinct 5-group combinations: set s takes groups s, s+k1, ... mod pool.
  for (int s = 0; s < distinct_sets; ++s) {
    std::vector<std::string> set;
    for (int k = 0; k < 5; ++k) {
      set.push_back(absl::StrCat("sg-", (s + k * (1 + s / pool)) % pool));
    }
    std::sort(set.begin(), set.end());
    set.erase(std::unique(set.begin(), set.end()), set.end());
    sets.push_back(set);
  }
  for (int i = 0; i < 1000; ++i) {
    Interface itf;
    itf.name = absl::StrCat("eni-", 10000 + i);
    itf.addresses = {IpAddress::V4(0xC6330000u + static_cast<uint32_t>(i))};
    itf.security_groups = sets[i % distinct_sets];
    p.interfaces[itf.name] = itf;
  }
  AssignRuleIds(p);
  return p;
}

// Scale case 2: 200 groups each allowing from another group of 500
// members (100,000 member interfaces on other nodes, 200 local servers).
Policy ReferencesPolicy() {
  Policy p;
  for (int g = 0; g < 200; ++g) {
    SecurityGroup server;
    server.name = absl::StrCat("sg-server-", 1000 + g);
    Rule rule;
    rule.protocol = kProtocolTcp;
    rule.port_low = rule.port_high = static_cast<uint16_t>(5000 + g);
    rule.remote_kind = RemoteKind::kSecurityGroup;
    rule.remote_name = absl::StrCat("sg-client-", 1000 + g);
    server.ingress.push_back(rule);
    server.egress.push_back(AllowAllEgress());
    p.security_groups[server.name] = server;
    SecurityGroup client;
    client.name = rule.remote_name;
    client.egress.push_back(AllowAllEgress());
    p.security_groups[client.name] = client;
    Interface s;
    s.name = absl::StrCat("eni-server-", 1000 + g);
    s.addresses = {IpAddress::V4(0xC0000000u + static_cast<uint32_t>(g))};
    s.security_groups = {server.name};
    p.interfaces[s.name] = s;
    for (int m = 0; m < 500; ++m) {
      Interface c;
      c.name = absl::StrCat("eni-client-", 1000 + g, "-", 1000 + m);
      c.node = "elsewhere";
      c.addresses = {IpAddress::V4(0x0A000000u +
                                   static_cast<uint32_t>(g * 500 + m))};
      c.security_groups = {client.name};
      p.interfaces[c.name] = c;
    }
  }
  AssignRuleIds(p);
  return p;
}

// Scale case 3: a ClassBench-style set of 10,000 rules on one interface.
Policy ClassBenchPolicy() { return FlatPolicy(Family::kIPv4, 10000); }

// The fixed cost of a table (FIB and ACL set-up), which a live reload of a
// small policy pays: 10 rules on one interface.
Policy TinyPolicy() { return FlatPolicy(Family::kIPv4, 10); }

void BM_Build(benchmark::State& state, const Policy* policy, Impl impl) {
  RuleTableStats stats;
  for (auto _ : state) {
    absl::StatusOr<std::unique_ptr<RuleTable>> t =
        RuleTable::Build(*policy, Options(impl));
    if (!t.ok()) {
      state.SkipWithError(t.status().ToString().c_str());
      return;
    }
    stats = (*t)->stats();
  }
  SetBuildCounters(state, stats);
}

}  // namespace
}  // namespace sgate::rules

int main(int argc, char** argv) {
  using namespace sgate::rules;
  // EAL first, as every DPDK program: no hugepages or PCI needed for
  // rte_acl; 512-bit SIMD allowed so that AVX-512 methods can be
  // chosen; 4 GiB because the naive baselines are big.
  if (!sgate::testing::InitEal(
          {.program = "sgate-perf", .memory_mb = 4096, .simd512 = true})) {
    std::fprintf(stderr, "rte_eal_init failed\n");
    return 1;
  }
  std::printf("tsc_hz %llu\n",
              static_cast<unsigned long long>(rte_get_tsc_hz()));

  for (Family f : {Family::kIPv4, Family::kIPv6}) {
    for (int entries : {10, 100, 1000, 10000, 60000}) {
      for (Impl impl : {Impl::kTable, Impl::kScan, Impl::kAvx2,
                        Impl::kNaiveAcl, Impl::kLinear}) {
        std::string name = absl::StrCat("BM_Classify/", FamilyName(f), "/",
                                        entries, "/", ImplName(impl));
        auto* b = benchmark::RegisterBenchmark(
            name.c_str(), [=](benchmark::State& s) {
              BM_Classify(s, f, entries, impl);
            });
        // A linear scan of 60,000 rules takes ~1 s per iteration: cap it.
        if (impl == Impl::kLinear && entries >= 10000) b->Iterations(2);
        b->Unit(benchmark::kMicrosecond);
      }
    }
  }

  // The VPC shapes, each design (VpcDesigns) on the same table cache.
  for (const char* shape : {"vpc-15k", "vpc-50k"}) {
    for (Family f : {Family::kIPv4, Family::kIPv6}) {
      for (const VpcDesign& design : VpcDesigns()) {
        std::string name = absl::StrCat("BM_ClassifyVpc/", shape, "/",
                                        FamilyName(f), "/", design.name);
        std::string shape_name = shape;
        uint32_t limit = design.scan_lane_limit;
        benchmark::RegisterBenchmark(name.c_str(), [=](benchmark::State& s) {
          BM_ClassifyVpc(s, shape_name, f, limit);
        })->Unit(benchmark::kMicrosecond);
      }
    }
  }
  for (const char* shape : {"vpc-15k", "vpc-50k"}) {
    for (const VpcDesign& design : VpcDesigns()) {
      std::string name = absl::StrCat("BM_BuildVpc/", shape, "/", design.name);
      std::string shape_name = shape;
      uint32_t limit = design.scan_lane_limit;
      benchmark::RegisterBenchmark(name.c_str(), [=](benchmark::State& s) {
        BM_BuildVpc(s, shape_name, limit, VpcReload::kNone);
      })->Iterations(1)->Unit(benchmark::kMillisecond);
    }
    for (VpcReload reload : {VpcReload::kMembers, VpcReload::kOneRule}) {
      std::string name =
          absl::StrCat("BM_ReloadVpc/", shape, "/", VpcReloadName(reload));
      std::string shape_name = shape;
      benchmark::RegisterBenchmark(name.c_str(), [=](benchmark::State& s) {
        BM_BuildVpc(s, shape_name, RuleTableOptions::kDefaultScanLaneLimit,
                    reload);
      })->Iterations(1)->Unit(benchmark::kMillisecond);
    }
  }

  static const Policy kTiers = InterfacesPolicy(20);
  static const Policy kReferences = ReferencesPolicy();
  static const Policy kClassBench = ClassBenchPolicy();
  static const Policy kTiny = TinyPolicy();
  struct Case {
    const char* name;
    const Policy* policy;
    std::vector<Impl> impls;
  };
  for (const Case& c : std::vector<Case>{
           {"interfaces_1000x5x60_20sets", &kTiers,
            {Impl::kTable, Impl::kNaiveAcl}},
           {"references_200x500", &kReferences,
            {Impl::kTable, Impl::kNaiveAcl}},
           {"classbench_10000", &kClassBench,
            {Impl::kTable, Impl::kNaiveAcl}},
           {"tiny_10", &kTiny, {Impl::kTable}}}) {
    for (Impl impl : c.impls) {
      std::string name = absl::StrCat("BM_Build/", c.name, "/", ImplName(impl));
      const Policy* policy = c.policy;
      benchmark::RegisterBenchmark(name.c_str(),
                                   [=](benchmark::State& s) {
                                     BM_Build(s, policy, impl);
                                   })
          ->Iterations(1)
          ->Unit(benchmark::kMillisecond);
    }
  }

  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  vpc_tables.clear();
  rte_eal_cleanup();
  return 0;
}
