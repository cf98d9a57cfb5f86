#include "tests/support/eal_environment.h"

#include <rte_eal.h>
#include <unistd.h>

#include <fstream>

namespace sgate::testing {

bool InitEal(const EalOptions& options) {
  static const bool ok = [&options] {
    std::vector<std::string> args = {
        options.program,
        options.hugepages ? "--in-memory" : "--no-huge",
        "--no-pci",
        "-m",
        std::to_string(options.memory_mb),
        "--log-level=lib.eal:error",
        "--file-prefix=" + options.program + "-" + std::to_string(getpid()),
    };
    if (!options.hugepages) args.push_back("--no-shconf");
    if (options.simd512) args.push_back("--force-max-simd-bitwidth=512");
    args.insert(args.end(), options.extra.begin(), options.extra.end());
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    return rte_eal_init(static_cast<int>(argv.size()), argv.data()) >= 0;
  }();
  return ok;
}

bool HugepagesFree(long pages) {
  std::ifstream meminfo("/proc/meminfo");
  std::string word;
  long free_pages = 0;
  while (meminfo >> word) {
    if (word == "HugePages_Free:") meminfo >> free_pages;
  }
  return free_pages >= pages;
}

}  // namespace sgate::testing
