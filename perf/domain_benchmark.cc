// What deciding a name costs (issue 15): a ClientHello scanned for its
// server_name (dataplane/server_name.h) and the name matched by the
// Hyperscan table (rules/domain_table.h), on the policy of a perf/gen
// domains profile, in a loop over every rule's name.
//   sgate_domain_benchmark PROFILE_DIR [Google Benchmark flags]
// PROFILE_DIR: what `sgate_perf_gen domains RULES 1 DIR` wrote.
#include <benchmark/benchmark.h>
#include <rte_cycles.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/server_name.h"
#include "rules/domain_table.h"
#include "rules/policy_loader.h"
#include "tests/support/client_hello.h"
#include "tests/support/eal_environment.h"

namespace {

using sgate::dataplane::NameScan;
using sgate::dataplane::ScanServerName;
using sgate::dataplane::ServerName;

std::string g_dir;

struct Fixture {
  sgate::rules::Policy policy;
  std::unique_ptr<sgate::rules::DomainTable> table;
  sgate::rules::PacketKey packet;  // out of the first server, https
  std::vector<std::string> names;  // one each rule admits
  std::vector<std::vector<uint8_t>> hellos;
};

// The policy's names (www.<suffix> for a wildcard) and their ClientHellos:
// a TLS 1.3 client's with GREASE and an x25519 key share (~330 bytes), or
// with `pq`, an X25519Kyber768 share as well (~1.5 KiB).
std::unique_ptr<Fixture> Load(bool pq) {
  auto f = std::make_unique<Fixture>();
  absl::StatusOr<sgate::rules::Policy> policy =
      sgate::rules::LoadPolicyFile(g_dir + "/policy.yaml");
  if (!policy.ok()) return nullptr;
  f->policy = *std::move(policy);
  auto table = sgate::rules::DomainTable::Build(f->policy, "", 1);
  if (!table.ok()) return nullptr;
  f->table = *std::move(table);
  f->packet.direction = sgate::rules::Direction::kEgress;
  f->packet.local = f->policy.interfaces.begin()->second.addresses[0];
  f->packet.remote = *sgate::rules::ParseIpAddress("192.0.2.1");
  f->packet.protocol = sgate::rules::kProtocolTcp;
  f->packet.dst_port = 443;
  for (uint32_t d = 0; d < f->policy.domain_rules().size(); ++d) {
    std::string name = f->policy.domain(d);
    if (name[0] == '*') name = "www" + name.substr(1);
    f->names.push_back(name);
    f->hellos.push_back(sgate::testing::ClientHelloBuilder()
                            .ServerName(name)
                            .Grease()
                            .KeyShareBytes(pq ? 1216 + 32 : 32)
                            .Build());
  }
  return f;
}

void SetCycles(benchmark::State& state, int64_t per_iteration) {
  state.counters["cycles"] = benchmark::Counter(
      static_cast<double>(state.iterations() * per_iteration) /
          rte_get_tsc_hz(),
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.SetItemsProcessed(state.iterations() * per_iteration);
}

// ScanServerName alone.
void BM_ScanClientHello(benchmark::State& state, bool pq) {
  std::unique_ptr<Fixture> f = Load(pq);
  if (!f) return state.SkipWithError("cannot load the profile's policy");
  size_t found = 0;
  for (auto _ : state) {
    for (const std::vector<uint8_t>& hello : f->hellos) {
      ServerName name;
      found +=
          ScanServerName(hello.data(), hello.size(), &name) == NameScan::kFound;
      benchmark::DoNotOptimize(name);
    }
  }
  if (found != state.iterations() * f->hellos.size()) {
    state.SkipWithError("a ClientHello named nothing");
  }
  SetCycles(state, f->hellos.size());
}

// DomainTable::MatchHostName alone, as the dataplane calls it (one
// Hyperscan scan and the rule checks).
void BM_MatchName(benchmark::State& state) {
  std::unique_ptr<Fixture> f = Load(false);
  if (!f) return state.SkipWithError("cannot load the profile's policy");
  size_t allowed = 0;
  for (auto _ : state) {
    for (const std::string& name : f->names) {
      allowed += f->table->MatchHostName(f->packet, name, 0).allowed;
    }
  }
  if (allowed != state.iterations() * f->names.size()) {
    state.SkipWithError("a name was not allowed");
  }
  SetCycles(state, f->names.size());
}

// Both: what a pending flow's ClientHello costs to decide.
void BM_DecideClientHello(benchmark::State& state, bool pq) {
  std::unique_ptr<Fixture> f = Load(pq);
  if (!f) return state.SkipWithError("cannot load the profile's policy");
  size_t allowed = 0;
  for (auto _ : state) {
    for (const std::vector<uint8_t>& hello : f->hellos) {
      ServerName name;
      ScanServerName(hello.data(), hello.size(), &name);
      allowed += f->table->MatchHostName(f->packet, name.view(), 0).allowed;
    }
  }
  if (allowed != state.iterations() * f->hellos.size()) {
    state.SkipWithError("a name was not allowed");
  }
  SetCycles(state, f->hellos.size());
  state.counters["patterns"] = f->table->stats().patterns;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: sgate_domain_benchmark PROFILE_DIR "
                 "[benchmark flags]\n");
    return 2;
  }
  g_dir = argv[1];
  // EAL only for rte_get_tsc_hz: cycles are TSC cycles, as elsewhere in
  // perf/.
  if (!sgate::testing::InitEal({.program = "sgate-domain-bench"})) {
    std::fprintf(stderr, "rte_eal_init failed\n");
    return 1;
  }
  benchmark::RegisterBenchmark(
      "BM_ScanClientHello/x25519",
      [](benchmark::State& s) { BM_ScanClientHello(s, false); });
  benchmark::RegisterBenchmark(
      "BM_ScanClientHello/pq",
      [](benchmark::State& s) { BM_ScanClientHello(s, true); });
  benchmark::RegisterBenchmark("BM_MatchName", BM_MatchName);
  benchmark::RegisterBenchmark(
      "BM_DecideClientHello/x25519",
      [](benchmark::State& s) { BM_DecideClientHello(s, false); });
  benchmark::RegisterBenchmark(
      "BM_DecideClientHello/pq",
      [](benchmark::State& s) { BM_DecideClientHello(s, true); });
  argv[1] = argv[0];
  int args = argc - 1;
  benchmark::Initialize(&args, argv + 1);
  benchmark::RunSpecifiedBenchmarks();
  return 0;
}
