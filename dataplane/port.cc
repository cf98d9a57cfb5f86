#include "dataplane/port.h"

#include <rte_ethdev.h>

#include <string_view>

#include "absl/strings/str_cat.h"

namespace sgate::dataplane {
namespace {

// The 40-byte Toeplitz key 0x6d5a repeated: with it the RSS hash of
// (src, dst, sport, dport) equals that of (dst, src, dport, sport), which
// is what makes RSS symmetric (Woo and Park, "Scalable TCP Session
// Monitoring with Symmetric Receive-side Scaling", 2012).
uint8_t kSymmetricRssKey[40] = {
    0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
    0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
    0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
    0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
};

absl::Status DpdkError(uint16_t port, absl::string_view what, int rc) {
  return absl::InternalError(absl::StrCat("port ", port, " (", PortName(port),
                                          "): ", what, ": ",
                                          rte_strerror(-rc)));
}

}  // namespace

std::string PortName(uint16_t port_id) {
  char name[RTE_ETH_NAME_MAX_LEN];
  if (rte_eth_dev_get_name_by_port(port_id, name) != 0) return "?";
  return name;
}

absl::Status SetUpPort(const PortConfig& config) {
  uint16_t port = config.port_id;
  if (!rte_eth_dev_is_valid_port(port)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "port ", port, " does not exist (", rte_eth_dev_count_avail(),
        " ports found: check the -a/--vdev EAL options)"));
  }
  rte_eth_dev_info info;
  if (int rc = rte_eth_dev_info_get(port, &info); rc != 0) {
    return DpdkError(port, "cannot read device info", rc);
  }
  if (config.queues > info.max_rx_queues ||
      config.queues > info.max_tx_queues) {
    return absl::InvalidArgumentError(absl::StrCat(
        "port ", port, " (", PortName(port), ") has ",
        std::min(info.max_rx_queues, info.max_tx_queues),
        " queue pairs, but ", config.queues,
        " workers need one each (net_af_packet: add qpairs=N to --vdev)"));
  }

  rte_eth_conf conf{};
  uint64_t wanted = RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP;
  // net_af_packet spreads frames over its queues with the kernel's packet
  // fanout hash, which is symmetric already (the flow dissector orders the
  // addresses and ports before hashing): nothing to configure.
  bool kernel_fanout =
      std::string_view(info.driver_name) == "net_af_packet";
  if (config.queues > 1 && config.rss && !kernel_fanout) {
    if ((info.flow_type_rss_offloads & wanted) == 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "port ", port, " (", PortName(port),
          ") offers no RSS over IP/TCP/UDP, so it cannot spread flows over ",
          config.queues, " workers (--no-rss if its queues are split by "
          "connection already)"));
    }
    conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
    conf.rx_adv_conf.rss_conf.rss_hf = info.flow_type_rss_offloads & wanted;
    if (info.hash_key_size == sizeof(kSymmetricRssKey)) {
      conf.rx_adv_conf.rss_conf.rss_key = kSymmetricRssKey;
      conf.rx_adv_conf.rss_conf.rss_key_len = sizeof(kSymmetricRssKey);
    }
  }
  if (int rc = rte_eth_dev_configure(port, config.queues, config.queues, &conf);
      rc != 0) {
    return DpdkError(port, "configure failed", rc);
  }
  uint16_t rx_descriptors = config.rx_descriptors;
  uint16_t tx_descriptors = config.tx_descriptors;
  if (int rc = rte_eth_dev_adjust_nb_rx_tx_desc(port, &rx_descriptors,
                                                &tx_descriptors);
      rc != 0) {
    return DpdkError(port, "descriptor counts refused", rc);
  }
  int socket = rte_eth_dev_socket_id(port);
  for (uint16_t q = 0; q < config.queues; ++q) {
    if (int rc = rte_eth_rx_queue_setup(port, q, rx_descriptors, socket,
                                        nullptr, config.pool);
        rc != 0) {
      return DpdkError(port, absl::StrCat("rx queue ", q, " set-up failed"),
                       rc);
    }
    if (int rc = rte_eth_tx_queue_setup(port, q, tx_descriptors, socket,
                                        nullptr);
        rc != 0) {
      return DpdkError(port, absl::StrCat("tx queue ", q, " set-up failed"),
                       rc);
    }
  }
  if (int rc = rte_eth_dev_start(port); rc != 0) {
    return DpdkError(port, "start failed", rc);
  }
  // Virtual devices without a MAC filter report -ENOTSUP: they already see
  // every frame, which is all promiscuous mode is for.
  if (int rc = rte_eth_promiscuous_enable(port); rc != 0 && rc != -ENOTSUP) {
    return DpdkError(port, "cannot enable promiscuous mode", rc);
  }
  return absl::OkStatus();
}

}  // namespace sgate::dataplane
