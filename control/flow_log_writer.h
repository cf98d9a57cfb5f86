#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "control/interface_slots.h"
#include "control/policy_publisher.h"
#include "control/stats_snapshot.h"
#include "dataplane/flow_accounting.h"
#include "dataplane/flow_table.h"
#include "rules/policy.h"

namespace sgate::control {

// Flow logs in the VPC Flow Logs version 2 default format (DESIGN.md §8):
// one space-separated line per flow, per direction and per aggregation
// interval, after a header line naming the fields:
//   version account-id interface-id srcaddr dstaddr srcport dstport
//   protocol packets bytes start end action log-status
// ACCEPT lines count the packets of tracked flows; REJECT lines count
// rejected packets by 5-tuple (no rule allows them, the interface is at its
// max_flows, the flow table is full, a reload revalidated the flow out).
// An interface without traffic in an interval gets a NODATA line; one whose
// records were lost (a worker's queue was full, the file reached
// max_size_mb) a SKIPDATA line. Ports are 0 for protocols other than TCP
// and UDP; bytes are IP bytes; start and end are Unix seconds bounding the
// packets counted.
//
// The workers only count and queue (dataplane/flow_accounting.h). This
// writer, on the control thread, drains their queues every loop iteration,
// ends an interval by asking every worker to flush, aggregates by 5-tuple
// and direction, and writes an interval once every worker has handed over
// all of it. SIGUSR1 reopens the file (logrotate's postrotate); a clean
// stop writes the interval in progress. A new policy's settings.flow_logs
// take effect through Prepare/Commit (PolicyPublisher): a path that cannot
// be opened refuses the policy, and the writer goes on as before.
class FlowLogWriter final : public SettingsConsumer {
 public:
  // A worker's accounting (records, flushes) and its flow table, which the
  // last flush of a clean stop reads on the control thread once the
  // workers have returned.
  struct Source {
    dataplane::FlowAccounting* accounting = nullptr;
    const dataplane::FlowTable* flows = nullptr;
  };
  // The workers' flow clock and Unix time, in seconds, read together once
  // to turn one into the other.
  struct Clocks {
    std::function<uint32_t()> flow_seconds;
    std::function<int64_t()> unix_seconds;
  };
  using TimePoint = std::chrono::steady_clock::time_point;

  // The line at the top of every file.
  static constexpr char kHeader[] =
      "version account-id interface-id srcaddr dstaddr srcport dstport "
      "protocol packets bytes start end action log-status";
  // Aggregated records one interval may hold before more are skipped
  // (SKIPDATA): ~100 bytes each, 100 MiB at most.
  static constexpr size_t kMaxRecordsPerInterval = size_t{1} << 20;
  // How long the writer waits for the workers when it must finish an
  // interval at once (a reload, a stop); they answer within microseconds.
  static constexpr std::chrono::seconds kFlushTimeout{1};

  FlowLogWriter(const InterfaceSlots& slots, Clocks clocks);
  ~FlowLogWriter() override;
  FlowLogWriter(const FlowLogWriter&) = delete;
  FlowLogWriter& operator=(const FlowLogWriter&) = delete;

  // The workers, once they exist.
  void Attach(std::vector<Source> sources);

  // SettingsConsumer: opens the new file (if the path changed), then
  // switches to it once the policy is live, after writing the interval in
  // progress to the old one.
  absl::Status Prepare(const rules::Policy& policy) override;
  void Commit() override;
  void Abandon() override;

  // The control loop, every iteration: takes the workers' records, ends
  // the interval when it is due at `now`, writes the intervals done.
  void Poll(TimePoint now);
  // SIGUSR1: opens the path again (logrotate has moved the old file).
  void Reopen();
  // A clean stop, after the workers have returned: the interval in
  // progress is written, then the file closed.
  void Stop();

  bool enabled() const { return config_.has_value(); }
  // The flow_logs counters (dataplane/counter_list.h).
  void AddTo(StatsSnapshot& snapshot) const;

  // For InterfaceSlots: a mark of the records taken so far, whether every
  // record taken before a mark has been written, and a slot about to be
  // given to another interface.
  uint64_t Mark() const { return intervals_opened_; }
  bool WrittenSince(uint64_t mark) const {
    return !enabled() || intervals_written_ > mark;
  }
  void ResetSlot(uint16_t slot);

 private:
  struct Config {
    std::string path;
    uint32_t interval = 600;
    uint64_t max_bytes = 0;
    std::string account_id;
    rules::SourceLocation location;  // of the path, for errors
  };
  struct File {
    FILE* stream = nullptr;
    uint64_t size = 0;
  };
  // One aggregated record: an interface (by serial: InterfaceSlots), a
  // 5-tuple as the flow key has it, a direction and an action.
  struct AggregateKey {
    uint64_t serial = 0;
    dataplane::FlowKey flow;
    bool ingress = false;
    bool reject = false;
    bool operator==(const AggregateKey& o) const {
      return serial == o.serial && flow == o.flow && ingress == o.ingress &&
             reject == o.reject;
    }
    template <typename H>
    friend H AbslHashValue(H h, const AggregateKey& k) {
      return H::combine(
          std::move(h), k.serial,
          absl::string_view(reinterpret_cast<const char*>(&k.flow),
                            sizeof(k.flow)),
          k.ingress, k.reject);
    }
  };
  struct Aggregate {
    uint64_t packets = 0;
    uint64_t bytes = 0;
    uint32_t start = UINT32_MAX;  // flow clock
    uint32_t end = 0;
  };
  struct Interval {
    int64_t start = 0;  // Unix seconds
    int64_t end = 0;
    uint32_t ended_by = 0;  // workers that have handed over all of it
    absl::flat_hash_map<AggregateKey, Aggregate> records;
    std::map<uint64_t, std::string> names;  // serial -> interface
    std::map<uint64_t, uint64_t> skipped;   // serial -> records lost
  };

  static absl::StatusOr<File> Open(const Config& config);
  // Flow logs just came on, with flows open: what they counted so far is
  // not this log's, and a flow opened while they were off has no mark
  // (FlowAccounting::Opened). Once the workers run the table that turned
  // them on, a flush whose records are thrown away marks every flow.
  void SetMarks();
  void Close(File& file);
  // Takes every record the workers have queued.
  void Drain();
  void Take(size_t source, const dataplane::FlowLogRecord& record);
  // Ends the interval in progress: asks every worker to flush.
  void EndInterval();
  bool FlushesServed() const;
  // Ends the interval in progress and waits until it is written (or
  // kFlushTimeout). `serve`: the workers have stopped; serve their flushes
  // here.
  void FinishInterval(bool serve);
  // Writes the intervals every worker has ended, oldest first.
  void WriteDone();
  void Write(Interval& interval);
  // One line of `interval` about the interface of `serial`, standing for
  // `stands_for` records (SKIPDATA: those lost; NODATA: none), unless the
  // file is at max_size_mb: then they are carried to the next interval.
  void WriteLine(const std::string& line, uint64_t serial,
                 uint64_t stands_for, Interval& interval);
  int64_t Unix(uint32_t flow_seconds) const { return flow_seconds + offset_; }

  const InterfaceSlots& slots_;
  Clocks clocks_;
  int64_t offset_;  // Unix seconds - flow clock seconds
  std::vector<Source> sources_;
  std::optional<Config> config_;   // none: off
  File file_;
  // What Prepare readied, for Commit.
  bool prepared_ = false;
  std::optional<Config> next_config_;
  File next_file_;

  std::deque<Interval> intervals_;   // not yet written; back: in progress
  std::vector<size_t> position_;     // per source: its interval in intervals_
  std::optional<TimePoint> due_;     // when the interval in progress ends
  uint64_t intervals_opened_ = 0;
  uint64_t intervals_written_ = 0;
  // Per slot: the workers' lost records already reported as SKIPDATA.
  std::vector<uint64_t> lost_seen_;
  // Records skipped while the file was full, reported with the next
  // interval that can be written.
  std::map<uint64_t, std::string> carried_names_;
  std::map<uint64_t, uint64_t> carried_skips_;
  bool warned_full_ = false;
  dataplane::FlowLogRecord batch_[256];
  // The flow_logs counters, in SGATE_FLOW_LOG_COUNTERS order.
  struct Counters {
#define SGATE_COUNTER_MEMBER(member, kind, help) uint64_t member = 0;
    SGATE_FLOW_LOG_COUNTERS(SGATE_COUNTER_MEMBER)
#undef SGATE_COUNTER_MEMBER
  } counters_;
};

}  // namespace sgate::control
