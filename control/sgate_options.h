#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "control/control_socket.h"
#include "dataplane/port_pair.h"

namespace sgate::control {

// sgate's own options: everything after the EAL options and "--".
//   sgate [EAL options] -- --policy FILE [--pair IN:OUT]... [--node NAME]
//         [--control PATH] [--stats-interval S] [--aws-json FILE] [--watch]
//         [--mbufs N] [--no-rss]
// --watch reloads the policy when its file changes.
struct SgateOptions {
  std::string policy_path;
  std::optional<std::string> aws_json_path;
  std::vector<dataplane::PortPairIds> pairs;  // default {0:1}
  std::string node;
  std::string control_path = kDefaultControlPath;
  uint32_t stats_interval_ms = 0;  // 0: no periodic stats
  bool watch = false;
  // Mbufs in the pool; 0: enough for every descriptor. A replay port
  // (net_pcap infinite_rx) keeps its whole capture in mbufs of this pool.
  uint32_t mbufs = 0;
  // The ports' queues are already split by connection (one capture per
  // queue, a memif peer with one queue per flow set), so sgate needs no
  // RSS to run several workers.
  bool no_rss = false;
};

absl::StatusOr<SgateOptions> ParseSgateOptions(
    const std::vector<std::string>& args);

inline constexpr char kSgateUsage[] =
    "usage: sgate [EAL options] -- --policy FILE [--pair IN:OUT]...\n"
    "             [--node NAME] [--control PATH] [--stats-interval S]\n"
    "             [--aws-json FILE] [--watch] [--mbufs N] [--no-rss]\n";

}  // namespace sgate::control
