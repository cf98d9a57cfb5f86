#include "dataplane/port.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "tests/support/eal_environment.h"

namespace sgate::dataplane {
namespace {

using ::testing::HasSubstr;

class PortTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // Port 0: net_null, 1024 queues. Port 1: net_ring, no RSS.
    ASSERT_TRUE(sgate::testing::InitEal(
        {.extra = {"--vdev", "net_null0", "--vdev", "net_ring0"}}));
    pool_ = rte_pktmbuf_pool_create("port_test", 4096, 0, 0,
                                    RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
    ASSERT_NE(pool_, nullptr);
  }
  static rte_mempool* pool_;
};
rte_mempool* PortTest::pool_ = nullptr;

TEST_F(PortTest, StartsAndForwards) {
  ASSERT_TRUE(SetUpPort({.port_id = 0, .queues = 1, .pool = pool_}).ok());
  EXPECT_EQ(PortName(0), "net_null0");
  rte_mbuf* burst[8];
  // net_null fabricates packets on receive and swallows them on transmit.
  uint16_t n = rte_eth_rx_burst(0, 0, burst, 8);
  EXPECT_GT(n, 0);
  uint16_t sent = rte_eth_tx_burst(0, 0, burst, n);
  EXPECT_EQ(sent, n);
  rte_eth_dev_stop(0);
}

TEST_F(PortTest, TooFewQueuesNamesTheLimit) {
  absl::Status status =
      SetUpPort({.port_id = 0, .queues = 2000, .pool = pool_});
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("net_null0) has 1024 queue pairs, but 2000 workers"));
}

TEST_F(PortTest, SeveralWorkersNeedRss) {
  absl::Status status = SetUpPort({.port_id = 1, .queues = 2, .pool = pool_});
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("port 1 (net_ring0) offers no RSS"));
}

TEST_F(PortTest, MissingPort) {
  absl::Status status = SetUpPort({.port_id = 9, .queues = 1, .pool = pool_});
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("port 9 does not exist (2 ports"));
}

}  // namespace
}  // namespace sgate::dataplane
