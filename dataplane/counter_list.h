#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <iterator>

#include "dataplane/drop_reason.h"
#include "dataplane/flow_table.h"

namespace sgate::dataplane {

// Every counter sgate reports, described once. A worker keeps its own
// counters as plain structs (plain increments, no atomics); the control
// thread sums them into CounterValues, in kCounterList order, and every
// report — the stats JSON, `sgatectl stats`, DPDK telemetry, the exit
// totals — is derived from kCounterList and those values. Adding a counter
// is one line in its X list (and the increment).

enum class CounterSection : uint8_t {
  kPackets,   // top level of the stats: received, forwarded, ...
  kDrops,     // "drops": one per DropReason
  kFlows,     // "flows": the flow tables
  kFlowLogs,  // "flow_logs": the control thread's flow-log writer
};
enum class CounterKind : uint8_t {
  kCounter,  // only grows
  kGauge,    // goes up and down (flows active)
};

// The per-worker packet counters besides drops: X(member, kind, "help"),
// the member also being the stable JSON name.
#define SGATE_PACKET_COUNTERS(X)                                            \
  X(received, kCounter, "frames received on the ports of every pair")       \
  X(forwarded, kCounter, "frames sent on to the peer port")                 \
  X(icmp_errors_of_flows, kCounter,                                         \
    "ICMP errors passed because they quote a tracked flow")                 \
  X(unknown_interface_passed, kCounter,                                     \
    "packets for no enforced interface, passed (unknown_interface: pass)")   \
  X(classified, kCounter,                                                   \
    "packets the rules decided: no tracked flow of theirs, or its re-check " \
    "after a reload (a packet of a tracked flow is not looked up)")          \
  X(names_allowed, kCounter,                                                \
    "flows pending a name that their TLS server_name or HTTP Host admitted") \
  X(names_denied, kCounter,                                                 \
    "flows pending a name, denied by it or for want of one")                \
  X(names_reassembled, kCounter,                                            \
    "flows pending a name whose request was reassembled from segments")     \
  X(resets_sent, kCounter,                                                  \
    "TCP resets sent to the clients of flows denied by name")

// The flow-log writer's counters (control/flow_log_writer.h), kept by the
// control thread rather than summed over the workers: X(member, kind,
// "help").
#define SGATE_FLOW_LOG_COUNTERS(X)                                          \
  X(intervals, kCounter, "aggregation intervals written")                   \
  X(records, kCounter, "ACCEPT and REJECT records written")                  \
  X(nodata_records, kCounter,                                               \
    "NODATA records: an interface without traffic in an interval")          \
  X(skipdata_records, kCounter,                                             \
    "SKIPDATA records: an interface whose records were skipped")            \
  X(records_skipped, kCounter,                                              \
    "records not written: a worker's queue to the writer was full, or the " \
    "file was at max_size_mb")                                              \
  X(bytes_written, kCounter, "bytes written to flow log files")             \
  X(reopens, kCounter, "flow log files reopened (SIGUSR1, a new path)")     \
  X(write_errors, kCounter, "flow log writes or opens that failed")

// Per-worker packet counters, on a cache line of their own so that the
// control thread's reads never share a line another worker writes.
struct alignas(64) EnforcerCounters {
#define SGATE_COUNTER_MEMBER(member, kind, help) uint64_t member = 0;
  SGATE_PACKET_COUNTERS(SGATE_COUNTER_MEMBER)
#undef SGATE_COUNTER_MEMBER
  uint64_t drops[kDropReasonCount] = {};  // by DropReason; [0] unused
};

struct CounterInfo {
  const char* name;  // stable: the key within its section
  CounterSection section;
  CounterKind kind;
  const char* help;
};

namespace internal {
constexpr auto MakeCounterList() {
  constexpr size_t kPackets = 0
#define SGATE_COUNT_ONE(...) +1
      SGATE_PACKET_COUNTERS(SGATE_COUNT_ONE);
  constexpr size_t kFlows = 0 SGATE_FLOW_COUNTERS(SGATE_COUNT_ONE);
  constexpr size_t kFlowLogs = 0 SGATE_FLOW_LOG_COUNTERS(SGATE_COUNT_ONE);
#undef SGATE_COUNT_ONE
  constexpr size_t kDrops = kDropReasonCount - kFirstDropReason;
  std::array<CounterInfo, kPackets + kDrops + kFlows + kFlowLogs> list{};
  size_t i = 0;
#define SGATE_PACKET_INFO(member, kind, help) \
  list[i++] = {#member, CounterSection::kPackets, CounterKind::kind, help};
  SGATE_PACKET_COUNTERS(SGATE_PACKET_INFO)
#undef SGATE_PACKET_INFO
#define SGATE_DROP_INFO(enumerator, name, help) \
  list[i++] = {name, CounterSection::kDrops, CounterKind::kCounter, help};
  SGATE_DROP_REASONS(SGATE_DROP_INFO)
#undef SGATE_DROP_INFO
#define SGATE_FLOW_INFO(member, kind, help) \
  list[i++] = {#member, CounterSection::kFlows, CounterKind::kind, help};
  SGATE_FLOW_COUNTERS(SGATE_FLOW_INFO)
#undef SGATE_FLOW_INFO
#define SGATE_FLOW_LOG_INFO(member, kind, help) \
  list[i++] = {#member, CounterSection::kFlowLogs, CounterKind::kind, help};
  SGATE_FLOW_LOG_COUNTERS(SGATE_FLOW_LOG_INFO)
#undef SGATE_FLOW_LOG_INFO
  return list;
}
}  // namespace internal

// Packets, then drops (in DropReason order), then flows, then flow logs.
inline constexpr auto kCounterList = internal::MakeCounterList();
inline constexpr size_t kCounterCount = kCounterList.size();
using CounterValues = std::array<uint64_t, kCounterCount>;
// Reports open one object per section: a section's counters are adjacent.
static_assert([] {
  for (size_t i = 1; i < kCounterCount; ++i) {
    if (kCounterList[i].section < kCounterList[i - 1].section) return false;
  }
  return true;
}());

// Adds one worker's counters to `sum`, in kCounterList order (the flow-log
// section is the control thread's: left as it is).
inline void AddWorkerCounters(const EnforcerCounters& packets,
                              const FlowTable::Counters& flows,
                              CounterValues& sum) {
  size_t i = 0;
#define SGATE_ADD_PACKETS(member, kind, help) sum[i++] += packets.member;
  SGATE_PACKET_COUNTERS(SGATE_ADD_PACKETS)
#undef SGATE_ADD_PACKETS
  for (int r = kFirstDropReason; r < kDropReasonCount; ++r) {
    sum[i++] += packets.drops[r];
  }
#define SGATE_ADD_FLOWS(member, kind, help) sum[i++] += flows.member;
  SGATE_FLOW_COUNTERS(SGATE_ADD_FLOWS)
#undef SGATE_ADD_FLOWS
}

// The index of counter `name` of `section` in kCounterList, or
// kCounterCount. For tests and tools that want one value.
constexpr size_t CounterIndex(CounterSection section, const char* name) {
  for (size_t i = 0; i < kCounterCount; ++i) {
    if (kCounterList[i].section != section) continue;
    const char* a = kCounterList[i].name;
    const char* b = name;
    while (*a != '\0' && *a == *b) ++a, ++b;
    if (*a == *b) return i;
  }
  return kCounterCount;
}

// Per-port counters of one worker: X(member, kind, "help").
#define SGATE_PORT_COUNTERS(X)                                              \
  X(rx_packets, kCounter, "frames received on the port")                    \
  X(tx_packets, kCounter, "frames sent on the port")                        \
  X(rx_dropped, kCounter, "frames received on the port and dropped")        \
  X(tx_retried, kCounter,                                                   \
    "frames the port's transmit queue refused at first and took on a "      \
    "retry (Worker::kTxRetries)")

// Per-port counters of the device itself (rte_eth_stats, the member being
// the field's name), read by the control thread: frames lost before sgate
// polled them, which no worker sees.
#define SGATE_DEVICE_COUNTERS(X)                                            \
  X(imissed, kCounter,                                                      \
    "frames the device dropped because its receive queue was full")         \
  X(rx_nombuf, kCounter,                                                    \
    "frames the device dropped for want of an mbuf")

struct PortCounters {
#define SGATE_COUNTER_MEMBER(member, kind, help) uint64_t member = 0;
  SGATE_PORT_COUNTERS(SGATE_COUNTER_MEMBER)
#undef SGATE_COUNTER_MEMBER
};

// A counter kept per port or per interface (no sections).
struct ObjectCounterInfo {
  const char* name;
  CounterKind kind;
  const char* help;
};
#define SGATE_OBJECT_COUNTER_INFO(member, kind, help) \
  {#member, CounterKind::kind, help},
// The workers' counters, then the device's.
inline constexpr ObjectCounterInfo kPortCounterList[] = {
    SGATE_PORT_COUNTERS(SGATE_OBJECT_COUNTER_INFO)
    SGATE_DEVICE_COUNTERS(SGATE_OBJECT_COUNTER_INFO)
};
inline constexpr size_t kPortCounterCount = std::size(kPortCounterList);
inline constexpr size_t kDeviceCounterCount = 0
#define SGATE_COUNT_ONE(...) +1
    SGATE_DEVICE_COUNTERS(SGATE_COUNT_ONE);
#undef SGATE_COUNT_ONE
using PortCounterValues = std::array<uint64_t, kPortCounterCount>;

inline void AddPortCounters(const PortCounters& port, PortCounterValues& sum) {
  size_t i = 0;
#define SGATE_ADD_MEMBER(member, kind, help) sum[i++] += port.member;
  SGATE_PORT_COUNTERS(SGATE_ADD_MEMBER)
#undef SGATE_ADD_MEMBER
}

// Sets the device's counters in `sum` from `stats` (an rte_eth_stats, or
// anything with those fields).
template <typename DeviceStats>
void SetDeviceCounters(const DeviceStats& stats, PortCounterValues& sum) {
  size_t i = kPortCounterCount - kDeviceCounterCount;
#define SGATE_SET_MEMBER(member, kind, help) sum[i++] = stats.member;
  SGATE_DEVICE_COUNTERS(SGATE_SET_MEMBER)
#undef SGATE_SET_MEMBER
}

}  // namespace sgate::dataplane

namespace sgate::dataplane {

// Per-interface counters of one worker, by interface slot
// (dataplane/interface_table.h): X(member, kind, "help"). A member named
// after a drop reason counts the drops of that reason charged to the
// interface (reports give them a `reason`).
#define SGATE_INTERFACE_COUNTERS(X)                                          \
  X(flows, kGauge, "flows of the interface tracked now")                     \
  X(interface_flow_cap, kCounter,                                            \
    "packets of new flows refused: the interface was at its max_flows")      \
  X(spoofed_source, kCounter,                                                \
    "frames from the inside with the interface's address from another MAC")  \
  X(flow_log_records_lost, kCounter,                                         \
    "flow log records of the interface lost: its worker's queue was full")

struct InterfaceCounters {
#define SGATE_COUNTER_MEMBER(member, kind, help) uint64_t member = 0;
  SGATE_INTERFACE_COUNTERS(SGATE_COUNTER_MEMBER)
#undef SGATE_COUNTER_MEMBER
};

inline constexpr ObjectCounterInfo kInterfaceCounterList[] = {
    SGATE_INTERFACE_COUNTERS(SGATE_OBJECT_COUNTER_INFO)
};
#undef SGATE_OBJECT_COUNTER_INFO
inline constexpr size_t kInterfaceCounterCount =
    std::size(kInterfaceCounterList);
using InterfaceCounterValues = std::array<uint64_t, kInterfaceCounterCount>;

inline void AddInterfaceCounters(const InterfaceCounters& interface,
                                  InterfaceCounterValues& sum) {
  size_t i = 0;
#define SGATE_ADD_MEMBER(member, kind, help) sum[i++] += interface.member;
  SGATE_INTERFACE_COUNTERS(SGATE_ADD_MEMBER)
#undef SGATE_ADD_MEMBER
}

}  // namespace sgate::dataplane
