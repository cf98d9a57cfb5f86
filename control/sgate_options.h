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
//         [--mbufs N] [--mbuf-size BYTES] [--no-rss] [--flow-log FILE]
//         [--metrics ADDR:PORT]
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
  // Each mbuf's data room, headroom included (dpdk-testpmd's --mbuf-size);
  // 0: DPDK's default (2 KiB and headroom). Replays of small frames use
  // small mbufs, so that captures of millions of frames fit in memory.
  uint32_t mbuf_size = 0;
  // The ports' queues are already split by connection (one capture per
  // queue, a memif peer with one queue per flow set), so sgate needs no
  // RSS to run several workers.
  bool no_rss = false;
  // Flow logs to this file whatever the policy says (its
  // settings.flow_logs.path, if any, is overridden); absolute.
  std::optional<std::string> flow_log_path;
  // Serve Prometheus /metrics here.
  std::optional<std::string> metrics_address;
};

// The smallest --mbuf-size: DPDK's headroom (128) and a 64-byte frame.
inline constexpr uint32_t kMinMbufSize = 192;

absl::StatusOr<SgateOptions> ParseSgateOptions(
    const std::vector<std::string>& args);

inline constexpr char kSgateUsage[] =
    "usage: sgate [EAL options] -- --policy FILE [--pair IN:OUT]...\n"
    "             [--node NAME] [--control PATH] [--stats-interval S]\n"
    "             [--aws-json FILE] [--watch] [--mbufs N] [--mbuf-size BYTES]\n"
    "             [--no-rss] [--flow-log FILE] [--metrics ADDR:PORT]\n";

}  // namespace sgate::control
