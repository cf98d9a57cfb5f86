#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "control/control_socket.h"
#include "control/etcd_client.h"
#include "dataplane/port_pair.h"

namespace sgate::control {

// sgate's own options: everything after the EAL options and "--".
//   sgate [EAL options] -- --policy FILE [--pair IN:OUT]... [--node NAME]
//         [--control PATH] [--stats-interval S] [--aws-json FILE] [--watch]
//         [--mbufs N] [--mbuf-size BYTES] [--no-rss] [--flow-log FILE]
//         [--metrics ADDR:PORT] [--dry-run]
//   sgate [EAL options] -- --etcd URL[,URL...] [--etcd-prefix P] --node NAME
//         [--cache FILE] [--etcd-cacert F --etcd-cert F --etcd-key F]
//         [--max-flows N] [the other options but --policy, --aws-json and
//         --watch]
// --watch reloads the policy when its file changes. With --etcd the policy
// comes from etcd (a fleet node, control/FLEET.md).
struct SgateOptions {
  std::string policy_path;
  // A fleet node: the policy comes from etcd (endpoints non-empty).
  EtcdOptions etcd;
  std::string cache_path;  // with --etcd: the last applied policy
  // With --etcd, the flow table's size when sgate starts before it has
  // any policy (neither etcd nor a cache); otherwise settings.max_flows.
  uint32_t max_flows = 0;  // 0: settings.max_flows's default
  // Compile and publish policies, but open no port and forward nothing
  // (fleet measurements: many nodes on one machine).
  bool dry_run = false;
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

  bool fleet() const { return !etcd.endpoints.empty(); }
};

// The smallest --mbuf-size: DPDK's headroom (128) and a 64-byte frame.
inline constexpr uint32_t kMinMbufSize = 192;

absl::StatusOr<SgateOptions> ParseSgateOptions(
    const std::vector<std::string>& args);

inline constexpr char kSgateUsage[] =
    "usage: sgate [EAL options] -- --policy FILE [--pair IN:OUT]...\n"
    "             [--node NAME] [--control PATH] [--stats-interval S]\n"
    "             [--aws-json FILE] [--watch] [--mbufs N] [--mbuf-size BYTES]\n"
    "             [--no-rss] [--flow-log FILE] [--metrics ADDR:PORT]\n"
    "             [--dry-run]\n"
    "       sgate [EAL options] -- --etcd URL[,URL...] [--etcd-prefix P]\n"
    "             --node NAME [--cache FILE] [--etcd-cacert F --etcd-cert F\n"
    "             --etcd-key F] [--max-flows N] [--pair IN:OUT]...\n"
    "             [--control PATH] [--stats-interval S] [--mbufs N]\n"
    "             [--mbuf-size BYTES] [--no-rss] [--flow-log FILE]\n"
    "             [--metrics ADDR:PORT] [--dry-run]\n";

}  // namespace sgate::control
