// A traffic source at a set rate, for perf/tx-retry: dpdk-testpmd's txonly
// has no rate control, and at full speed it loses most frames whatever the
// forwarder does, so no no-drop rate can be found with it.
//
//   sgate_paced_sender [EAL options] -- RATE_PPS SECONDS
//
// Sends 64-byte UDP frames 203.0.113.7:40000-40063 -> 198.51.100.10:5000
// on port 0 (one queue) at RATE_PPS for SECONDS, then prints one JSON line:
// what it sent, what its own transmit queue still refused after retrying
// until its next wake-up (frames the forwarder never received), the rate
// it achieved and the frames per wake-up (its bursts). It sleeps
// between bursts instead of polling, so that on a machine with few CPUs
// the receiver it shares a CPU with keeps it nearly alone: the receiver's
// stalls are then the short ones a retry can ride out, not a scheduler's
// time slice. Frames received on the port are freed.
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "tests/support/frame_builder.h"

namespace {

constexpr uint16_t kPort = 0;
constexpr uint16_t kRing = 1024;  // descriptors each way
// Frames per wake-up at most: a burst of this size every 100 µs is
// 10 Mpps, more than one forwarding core takes here.
constexpr uint32_t kMaxWake = 1024;
constexpr uint32_t kTxBurst = 32;
constexpr uint32_t kWakeUs = 100;  // sleep between bursts (timer slack)
constexpr uint16_t kFlows = 64;    // source ports 40000..40063

[[noreturn]] void Fail(const char* what) {
  rte_exit(EXIT_FAILURE, "sgate_paced_sender: %s\n", what);
}

}  // namespace

int main(int argc, char** argv) {
  int eal = rte_eal_init(argc, argv);
  if (eal < 0) Fail("cannot initialise EAL");
  argc -= eal;
  argv += eal;
  if (argc != 3) Fail("usage: sgate_paced_sender [EAL] -- RATE_PPS SECONDS");
  double rate = std::atof(argv[1]);
  double seconds = std::atof(argv[2]);
  if (rate <= 0 || seconds <= 0) Fail("RATE_PPS and SECONDS must be > 0");
  if (rte_eth_dev_count_avail() < 1) Fail("no port (give one --vdev)");

  rte_mempool* pool = rte_pktmbuf_pool_create(
      "sender", 4 * kRing + 2 * kMaxWake, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
      rte_socket_id());
  if (pool == nullptr) Fail("cannot allocate mbufs");
  rte_eth_conf conf{};
  if (rte_eth_dev_configure(kPort, 1, 1, &conf) != 0 ||
      rte_eth_rx_queue_setup(kPort, 0, kRing, rte_socket_id(), nullptr,
                             pool) != 0 ||
      rte_eth_tx_queue_setup(kPort, 0, kRing, rte_socket_id(), nullptr) !=
          0 ||
      rte_eth_dev_start(kPort) != 0) {
    Fail("cannot start port 0");
  }
  std::vector<std::vector<uint8_t>> frames;
  for (uint16_t f = 0; f < kFlows; ++f) {
    frames.push_back(sgate::testing::FrameBuilder()
                         .Ipv4("203.0.113.7", "198.51.100.10")
                         .Udp(40000 + f, 5000)
                         .Payload(18)  // 60 bytes, 64 with the FCS
                         .Build());
  }

  // The peer may not be there yet: a virtual link is up once both ends are.
  rte_eth_link link{};
  for (int i = 0; i < 1000 && link.link_status != RTE_ETH_LINK_UP; ++i) {
    rte_delay_us_sleep(10'000);
    rte_eth_link_get_nowait(kPort, &link);
  }
  if (link.link_status != RTE_ETH_LINK_UP) Fail("port 0 did not come up");

  const uint64_t hz = rte_get_tsc_hz();
  const uint64_t start = rte_get_tsc_cycles();
  const uint64_t end = start + static_cast<uint64_t>(seconds * hz);
  const uint64_t wake_cycles = hz / 1'000'000 * kWakeUs;
  uint64_t due = 0, sent = 0, refused = 0, received = 0, wakes = 0;
  rte_mbuf* burst[kTxBurst];
  for (uint64_t now = start; now < end; now = rte_get_tsc_cycles()) {
    // Frames due by now at the set rate. After a long oversleep the
    // schedule skips ahead rather than sending one huge burst: the rate
    // achieved (printed) is then below the rate set.
    uint64_t target =
        static_cast<uint64_t>(static_cast<double>(now - start) / hz * rate);
    if (target - due > kMaxWake) due = target - kMaxWake;
    uint32_t wake = static_cast<uint32_t>(target - due);
    due = target;
    while (wake > 0) {
      uint32_t n = std::min(wake, kTxBurst);
      if (rte_pktmbuf_alloc_bulk(pool, burst, n) != 0) break;
      for (uint32_t i = 0; i < n; ++i) {
        const std::vector<uint8_t>& f = frames[(sent + refused + i) % kFlows];
        char* data = rte_pktmbuf_append(burst[i], f.size());
        std::memcpy(data, f.data(), f.size());
      }
      // A full ring is retried until the next wake-up is due, as Pktgen
      // does: the frames go a little late rather than being lost here.
      uint16_t taken = rte_eth_tx_burst(kPort, 0, burst, n);
      while (taken < n && rte_get_tsc_cycles() < now + wake_cycles) {
        taken += rte_eth_tx_burst(kPort, 0, burst + taken, n - taken);
      }
      rte_pktmbuf_free_bulk(burst + taken, n - taken);
      sent += taken;
      refused += n - taken;
      wake -= n;
    }
    rte_mbuf* rx[kTxBurst];
    for (uint16_t n; (n = rte_eth_rx_burst(kPort, 0, rx, kTxBurst)) > 0;) {
      received += n;
      rte_pktmbuf_free_bulk(rx, n);
    }
    ++wakes;
    rte_delay_us_sleep(kWakeUs);
  }
  double elapsed = static_cast<double>(rte_get_tsc_cycles() - start) / hz;
  std::printf("{\"rate_set\": %.0f, \"sent\": %" PRIu64 ", \"refused\": %" PRIu64
              ", \"rate_sent\": %.0f, \"received\": %" PRIu64
              ", \"frames_per_wake\": %.0f}\n",
              rate, sent, refused, sent / elapsed, received,
              static_cast<double>(sent + refused) / std::max<uint64_t>(1, wakes));
  std::fflush(stdout);
  rte_eth_dev_stop(kPort);
  rte_eth_dev_close(kPort);
  rte_eal_cleanup();
  return 0;
}
