#pragma once

// Initialises DPDK's EAL once per test binary, the way DPDK's own unit
// tests do: no hugepages, no PCI, no shared config, and a file prefix of
// its own so that test binaries running in parallel never meet.
// (DPDK 22.11 refuses --in-memory together with --no-huge.)

#include <rte_eal.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace sgate::testing {

// `extra`: more EAL arguments, e.g. {"--vdev", "net_null0"}. Only the first
// call initialises; EAL cannot be initialised twice in one process.
inline bool InitEal(std::vector<std::string> extra = {}) {
  static const bool ok = [&extra] {
    std::vector<std::string> args = {
        "sgate-test",
        "--no-huge",
        "--no-pci",
        "--no-shconf",
        "-m",
        "512",
        "--log-level=lib.eal:error",
        "--file-prefix=sgate-test-" + std::to_string(getpid()),
    };
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    return rte_eal_init(static_cast<int>(argv.size()), argv.data()) >= 0;
  }();
  return ok;
}

}  // namespace sgate::testing
