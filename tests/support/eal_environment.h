#pragma once

#include <string>
#include <vector>

namespace sgate::testing {

// How a test or benchmark brings up DPDK's EAL: the way DPDK's own unit
// tests do, without hugepages, PCI or shared config and with a file prefix
// of its own (the program name and the pid), so that binaries running in
// parallel never meet. (DPDK 22.11 refuses --in-memory with --no-huge.)
struct EalOptions {
  std::string program = "sgate-test";
  int memory_mb = 512;
  // Hugepages instead of --no-huge (--in-memory: no files left behind), as
  // sgate runs; the benchmarks use them when enough are free.
  bool hugepages = false;
  // --force-max-simd-bitwidth=512, so that rte_acl may pick AVX-512.
  bool simd512 = false;
  std::vector<std::string> extra = {};  // e.g. {"--vdev", "net_null0"}
};

// Initialises EAL once per process (EAL cannot be initialised twice): later
// calls return the first call's result whatever their options.
bool InitEal(const EalOptions& options = {});

// Whether at least `pages` hugepages are free (/proc/meminfo).
bool HugepagesFree(long pages);

}  // namespace sgate::testing
