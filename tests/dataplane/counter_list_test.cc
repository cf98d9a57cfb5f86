#include "dataplane/counter_list.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <utility>

namespace sgate::dataplane {
namespace {

TEST(CounterListTest, NamesAreUniqueWithinASectionAndDescribed) {
  std::set<std::pair<CounterSection, std::string>> seen;
  for (const CounterInfo& c : kCounterList) {
    EXPECT_TRUE(seen.emplace(c.section, c.name).second) << c.name;
    EXPECT_NE(std::string(c.help), "") << c.name;
  }
  std::set<std::string> ports;
  for (const ObjectCounterInfo& c : kPortCounterList) {
    EXPECT_TRUE(ports.insert(c.name).second) << c.name;
  }
}

TEST(CounterListTest, EveryDropReasonIsACounter) {
  for (int r = kFirstDropReason; r < kDropReasonCount; ++r) {
    const char* name = DropReasonName(static_cast<DropReason>(r));
    size_t i = CounterIndex(CounterSection::kDrops, name);
    ASSERT_LT(i, kCounterCount) << name;
    EXPECT_EQ(kCounterList[i].kind, CounterKind::kCounter);
  }
  EXPECT_EQ(CounterIndex(CounterSection::kDrops, "none"), kCounterCount);
  // DESIGN.md §6 names the sections' keys.
  for (const char* name : {"active", "created", "expired", "insert_failed"}) {
    EXPECT_LT(CounterIndex(CounterSection::kFlows, name), kCounterCount);
  }
  EXPECT_EQ(kCounterList[CounterIndex(CounterSection::kFlows, "active")].kind,
            CounterKind::kGauge);
}

// Each worker field lands in its own slot of the sum, whatever the order
// the lists give them.
TEST(CounterListTest, WorkerSumsLandInTheirSlots) {
  EnforcerCounters packets;
  packets.received = 100;
  packets.forwarded = 90;
  packets.icmp_errors_of_flows = 3;
  packets.unknown_interface_passed = 4;
  for (int r = kFirstDropReason; r < kDropReasonCount; ++r) {
    packets.drops[r] = 1000 + r;
  }
  FlowTable::Counters flows;
  flows.active = 7;
  flows.created = 8;
  flows.expired = 9;
  flows.removed = 10;
  flows.insert_failed = 11;
  CounterValues sum{};
  AddWorkerCounters(packets, flows, sum);
  AddWorkerCounters(packets, flows, sum);  // a second worker
  auto get = [&](CounterSection s, const char* name) {
    return sum[CounterIndex(s, name)];
  };
  EXPECT_EQ(get(CounterSection::kPackets, "received"), 200u);
  EXPECT_EQ(get(CounterSection::kPackets, "forwarded"), 180u);
  EXPECT_EQ(get(CounterSection::kPackets, "icmp_errors_of_flows"), 6u);
  EXPECT_EQ(get(CounterSection::kPackets, "unknown_interface_passed"), 8u);
  for (int r = kFirstDropReason; r < kDropReasonCount; ++r) {
    EXPECT_EQ(get(CounterSection::kDrops,
                  DropReasonName(static_cast<DropReason>(r))),
              2u * (1000 + r));
  }
  EXPECT_EQ(get(CounterSection::kFlows, "active"), 14u);
  EXPECT_EQ(get(CounterSection::kFlows, "created"), 16u);
  EXPECT_EQ(get(CounterSection::kFlows, "expired"), 18u);
  EXPECT_EQ(get(CounterSection::kFlows, "removed"), 20u);
  EXPECT_EQ(get(CounterSection::kFlows, "insert_failed"), 22u);

  PortCounters port;
  port.rx_packets = 5;
  port.tx_packets = 6;
  port.rx_dropped = 7;
  port.tx_retried = 8;
  PortCounterValues ports{};
  AddPortCounters(port, ports);
  AddPortCounters(port, ports);  // a second worker
  // The device's counters, by rte_eth_stats's field names, set once.
  struct {
    uint64_t imissed = 9, rx_nombuf = 10, ierrors = 11;
  } device;
  SetDeviceCounters(device, ports);
  EXPECT_EQ(ports, (PortCounterValues{10, 12, 14, 16, 9, 10}));
  EXPECT_STREQ(kPortCounterList[4].name, "imissed");
  EXPECT_STREQ(kPortCounterList[5].name, "rx_nombuf");
}

}  // namespace
}  // namespace sgate::dataplane
