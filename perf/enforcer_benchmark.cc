// What sgate's per-packet work costs without the I/O: the captures of a
// perf/gen profile fed from memory through Enforcer::ProcessBurst with the
// profile's compiled policy, in bursts of 32 alternating inside/outside as
// a worker polls them. CPU time, so a busy shared machine disturbs it less
// than the replay harness (perf/run), which measures the whole worker.
//   sgate_enforcer_benchmark PROFILE_DIR [--no-huge] [Google Benchmark flags]
// PROFILE_DIR: what `sgate_perf_gen PROFILE RULES 1 DIR` wrote. --no-huge:
// 4 KiB pages even when hugepages are free (to measure what hugepages
// save, and under valgrind, which cannot map them).
#include <rte_eal.h>
#include <rte_malloc.h>
#include <unistd.h>

#include <benchmark/benchmark.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/compiled_table.h"
#include "dataplane/enforcer.h"
#include "dataplane/flow_accounting.h"
#include "dataplane/flow_table.h"
#include "rules/policy_loader.h"
#include "tests/support/eal_environment.h"

namespace {

using sgate::dataplane::CompiledTable;
using sgate::dataplane::Enforcer;
using sgate::dataplane::FlowAccounting;
using sgate::dataplane::FlowTable;
using sgate::dataplane::Side;
using sgate::dataplane::Verdict;

// The frames of a classic pcap file, back to back, with their offsets.
struct Capture {
  std::vector<uint8_t> bytes;
  std::vector<uint32_t> offsets, lengths;
};

Capture ReadPcap(const std::string& path) {
  Capture c;
  std::ifstream in(path, std::ios::binary);
  std::vector<char> all((std::istreambuf_iterator<char>(in)), {});
  for (size_t at = 24; at + 16 <= all.size();) {
    uint32_t length;
    std::memcpy(&length, &all[at + 8], 4);
    at += 16;
    c.offsets.push_back(static_cast<uint32_t>(c.bytes.size()));
    c.lengths.push_back(length);
    c.bytes.insert(c.bytes.end(), all.begin() + at, all.begin() + at + length);
    at += length;
  }
  return c;
}

std::string g_dir;

// One pass: bursts of 32 from each side in turn, as Worker::Run polls.
uint64_t Pass(Enforcer& enforcer, const CompiledTable& table,
              const Capture (&captures)[2]) {
  constexpr uint16_t kBurst = Enforcer::kMaxBurst;
  size_t frames = std::max(captures[0].offsets.size(),
                           captures[1].offsets.size());
  uint64_t packets = 0;
  const uint8_t* pointers[kBurst];
  uint32_t lengths[kBurst];
  Verdict verdicts[kBurst];
  for (size_t start = 0; start < frames; start += kBurst) {
    for (int side = 0; side < 2; ++side) {
      const Capture& c = captures[side];
      uint16_t n = 0;
      for (size_t i = start; i < c.offsets.size() && n < kBurst; ++i, ++n) {
        pointers[n] = c.bytes.data() + c.offsets[i];
        lengths[n] = c.lengths[i];
      }
      enforcer.ProcessBurst(pointers, lengths, n,
                            side == 0 ? Side::kInside : Side::kOutside,
                            /*now=*/100, table, verdicts);
      benchmark::DoNotOptimize(verdicts);
      packets += n;
    }
  }
  return packets;
}

// The timed passes, in a function of their own so that a cache simulator
// can count them alone: valgrind --tool=callgrind --cache-sim=yes
// --toggle-collect='*TimedPass*' (perf/README.md).
[[gnu::noinline]] uint64_t TimedPass(Enforcer& enforcer,
                                     const CompiledTable& table,
                                     const Capture (&captures)[2]) {
  return Pass(enforcer, table, captures);
}

// Established traffic: the flows are opened by a first pass, untimed.
// new_flows: every timed pass starts from an empty flow table, so every
// frame opens a flow.
void BM_Enforcer(benchmark::State& state, bool new_flows) {
  absl::StatusOr<sgate::rules::Policy> policy =
      sgate::rules::LoadPolicyFile(g_dir + "/policy.yaml");
  if (!policy.ok()) {
    state.SkipWithError(std::string(policy.status().message()).c_str());
    return;
  }
  uint32_t capacity = policy->settings.max_flows;
  auto table = CompiledTable::Build(*std::move(policy), 1, 1, {});
  if (!table.ok()) {
    state.SkipWithError(std::string(table.status().message()).c_str());
    return;
  }
  const Capture captures[2] = {ReadPcap(g_dir + "/inside-q0.pcap"),
                               ReadPcap(g_dir + "/outside-q0.pcap")};
  size_t bytes = FlowTable::MemoryFor(capacity);
  void* memory = rte_zmalloc("flows", bytes, 64);
  // As a worker has: the side arrays of caps and flow logs.
  void* side_memory =
      rte_zmalloc("flow_side", FlowAccounting::MemoryFor(capacity), 64);
  auto accounting = std::make_unique<FlowAccounting>(side_memory, capacity);
  auto flows = std::make_unique<FlowTable>(memory, capacity);
  flows->Attach(accounting.get());
  auto enforcer = std::make_unique<Enforcer>(*flows);
  if (!new_flows) Pass(*enforcer, **table, captures);
  uint64_t packets = 0;
  uint64_t created = 0, named = 0;  // flows, and flows a name admitted
  for (auto _ : state) {
    if (new_flows) {
      state.PauseTiming();
      created += flows->counters().created;
      named += enforcer->counters().names_allowed;
      enforcer.reset();
      flows = std::make_unique<FlowTable>(memory, capacity);
      accounting = std::make_unique<FlowAccounting>(side_memory, capacity);
      flows->Attach(accounting.get());
      enforcer = std::make_unique<Enforcer>(*flows);
      state.ResumeTiming();
    }
    packets += TimedPass(*enforcer, **table, captures);
  }
  const auto& counters = enforcer->counters();
  state.counters["forwarded_share"] =
      static_cast<double>(counters.forwarded) / counters.received;
  if (new_flows) {
    // New flows (and flows admitted by a name, for the domains profile) per
    // second of CPU time; the first iteration's are counted at its end.
    created += flows->counters().created;
    named += counters.names_allowed;
    state.counters["flows_per_s"] =
        benchmark::Counter(static_cast<double>(created),
                           benchmark::Counter::kIsRate);
    state.counters["named_per_s"] =
        benchmark::Counter(static_cast<double>(named),
                           benchmark::Counter::kIsRate);
    state.counters["cycles_per_flow"] = benchmark::Counter(
        static_cast<double>(created) / rte_get_tsc_hz(),
        benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  }
  state.counters["cycles_per_packet"] = benchmark::Counter(
      static_cast<double>(packets) / rte_get_tsc_hz(),
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.SetItemsProcessed(static_cast<int64_t>(packets));
  enforcer.reset();
  flows.reset();
  accounting.reset();
  rte_free(memory);
  rte_free(side_memory);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: sgate_enforcer_benchmark PROFILE_DIR "
                         "[--no-huge] [benchmark flags]\n");
    return 2;
  }
  g_dir = argv[1];
  bool no_huge = argc > 2 && std::string(argv[2]) == "--no-huge";
  if (no_huge) {  // not a Google Benchmark flag: out of its way
    for (int i = 2; i + 1 < argc; ++i) argv[i] = argv[i + 1];
    --argc;
  }
  // Hugepages when 2 GiB of them are free, as sgate runs: with 4 KiB pages
  // the flow table's TLB misses would dominate what this measures.
  const bool huge = !no_huge && sgate::testing::HugepagesFree(1024);
  std::printf("memory: %s\n", huge ? "hugepages" : "4 KiB pages (no hugepages)");
  if (!sgate::testing::InitEal({.program = "sgate-bench",
                                .memory_mb = 2048,
                                .hugepages = huge,
                                .simd512 = true})) {
    std::fprintf(stderr, "rte_eal_init failed\n");
    return 1;
  }
  benchmark::RegisterBenchmark("BM_Enforcer/established",
                               [](benchmark::State& s) { BM_Enforcer(s, false); });
  benchmark::RegisterBenchmark("BM_Enforcer/new_flows",
                               [](benchmark::State& s) { BM_Enforcer(s, true); });
  argv[1] = argv[0];
  int args = argc - 1;
  benchmark::Initialize(&args, argv + 1);
  benchmark::RunSpecifiedBenchmarks();
  rte_eal_cleanup();
  return 0;
}
