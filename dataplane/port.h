#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"

struct rte_mempool;

namespace sgate::dataplane {

// Port set-up: one rx/tx queue pair per worker on every port (DESIGN.md §1).
struct PortConfig {
  uint16_t port_id = 0;
  uint16_t queues = 1;  // one per worker lcore
  // Spread connections over the queues with RSS. Off when the device's
  // queues are split by connection already (a capture per queue).
  bool rss = true;
  // 1024 descriptors: deep enough to absorb a scheduling hiccup of the
  // polling core at 10+ Mpps (~100 µs), small enough to stay in L2/LLC.
  uint16_t rx_descriptors = 1024;
  uint16_t tx_descriptors = 1024;
  rte_mempool* pool = nullptr;
};

// Configures and starts the port, in promiscuous mode (sgate is a bump in
// the wire: it forwards frames for any MAC). With several queues it asks
// for RSS with a symmetric key, so both directions of a connection land on
// the same worker and each worker's flow table sees whole conversations.
// A device that cannot give what is asked (too few queues, no RSS) is an
// error naming the port and the limit.
absl::Status SetUpPort(const PortConfig& config);

// The port's name (e.g. "net_af_packet0") for messages.
std::string PortName(uint16_t port_id);

}  // namespace sgate::dataplane
