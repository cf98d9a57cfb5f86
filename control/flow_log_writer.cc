#include "control/flow_log_writer.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>
#include <thread>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "control/log.h"
#include "rules/ip_address.h"
#include "rules/protocol.h"

namespace sgate::control {
namespace {

using dataplane::FlowLogKind;
using dataplane::FlowLogRecord;

// One field of a record: the records are space-separated.
bool IsOneWord(const std::string& text) {
  return !text.empty() && text.find_first_of(" \t\r\n") == std::string::npos;
}

}  // namespace

FlowLogWriter::FlowLogWriter(const InterfaceSlots& slots, Clocks clocks)
    : slots_(slots),
      clocks_(std::move(clocks)),
      offset_(clocks_.unix_seconds() - clocks_.flow_seconds()),
      lost_seen_(dataplane::kSlotArraySize, 0) {
  intervals_.emplace_back().start = clocks_.unix_seconds();
}

FlowLogWriter::~FlowLogWriter() {
  Close(file_);
  Close(next_file_);
}

void FlowLogWriter::Attach(std::vector<Source> sources) {
  sources_ = std::move(sources);
  position_.assign(sources_.size(), intervals_.size() - 1);
}

absl::StatusOr<FlowLogWriter::File> FlowLogWriter::Open(const Config& config) {
  File file;
  file.stream = std::fopen(config.path.c_str(), "a");
  if (file.stream == nullptr) {
    std::string where = config.location.line > 0
                            ? absl::StrCat(config.location.ToString(),
                                           ": settings.flow_logs.path")
                            : config.location.ToString();
    return absl::InvalidArgumentError(absl::StrCat(
        where, ": cannot open '", config.path, "' for writing: ",
        std::strerror(errno)));
  }
  // Interval-sized writes: one flush per interval, not per record.
  std::setvbuf(file.stream, nullptr, _IOFBF, 1 << 20);
  struct stat st;
  if (fstat(fileno(file.stream), &st) == 0) {
    file.size = static_cast<uint64_t>(st.st_size);
  }
  // A new (or emptied) file starts with the field names; a restart
  // appends to the file it was writing.
  if (file.size == 0) {
    std::fputs(kHeader, file.stream);
    std::fputc('\n', file.stream);
    std::fflush(file.stream);
    file.size = sizeof(kHeader);
  }
  return file;
}

void FlowLogWriter::Close(File& file) {
  if (file.stream != nullptr) std::fclose(file.stream);
  file = File();
}

absl::Status FlowLogWriter::Prepare(const rules::Policy& policy) {
  const std::optional<rules::FlowLogSettings>& logs =
      policy.settings.flow_logs;
  if (!logs) {
    next_config_.reset();
    prepared_ = true;
    return absl::OkStatus();
  }
  for (const auto& [name, interface] : policy.interfaces) {
    if (!IsOneWord(name)) {
      return absl::InvalidArgumentError(absl::StrCat(
          interface.location.ToString(), ": interfaces.", name,
          ": with flow logs, an interface name is the records' "
          "interface-id and cannot hold spaces"));
    }
  }
  Config config;
  config.path = logs->path;
  config.interval = logs->interval;
  config.max_bytes = logs->max_size_mb << 20;
  config.account_id = policy.settings.account_id;
  config.location = logs->location;
  if (!config_ || config_->path != config.path) {
    absl::StatusOr<File> file = Open(config);
    if (!file.ok()) return file.status();
    next_file_ = *file;
  }
  next_config_ = config;
  prepared_ = true;
  return absl::OkStatus();
}

void FlowLogWriter::Abandon() {
  Close(next_file_);
  next_config_.reset();
  prepared_ = false;
}

void FlowLogWriter::Commit() {
  if (!prepared_) return;
  prepared_ = false;
  const bool new_file = next_file_.stream != nullptr;
  const bool turning_on = !config_ && next_config_;
  if (config_ && (new_file || !next_config_)) {
    // The interval in progress belongs to the file it began in.
    FinishInterval(/*serve=*/false);
    Close(file_);
  }
  if (new_file) {
    file_ = next_file_;
    next_file_ = File();
  }
  if (turning_on) {
    SetMarks();
    // Whatever was taken while flow logs were off is not this log's.
    intervals_.back() = Interval();
    intervals_.back().start = clocks_.unix_seconds();
    warned_full_ = false;
  }
  if (!config_ || !next_config_ || config_->interval != next_config_->interval) {
    due_.reset();  // the next Poll schedules the interval's end
  }
  config_ = next_config_;
  next_config_.reset();
}

void FlowLogWriter::SetMarks() {
  if (sources_.empty()) return;
  for (const Source& s : sources_) s.accounting->RequestFlush();
  auto deadline = std::chrono::steady_clock::now() + kFlushTimeout;
  auto discard = [this] {
    for (const Source& s : sources_) {
      while (s.accounting->Drain(batch_, std::size(batch_)) != 0) {
      }
    }
  };
  while (!FlushesServed() && std::chrono::steady_clock::now() < deadline) {
    discard();
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  discard();
}

void FlowLogWriter::Drain() {
  for (size_t w = 0; w < sources_.size(); ++w) {
    uint32_t n;
    while ((n = sources_[w].accounting->Drain(batch_, std::size(batch_))) !=
           0) {
      for (uint32_t i = 0; i < n; ++i) Take(w, batch_[i]);
    }
  }
}

void FlowLogWriter::Take(size_t source, const FlowLogRecord& record) {
  size_t& position = position_[source];
  if (record.kind == FlowLogKind::kIntervalEnd) {
    ++intervals_[position].ended_by;
    if (position + 1 < intervals_.size()) ++position;
    return;
  }
  if (record.slot >= dataplane::kMaxInterfaceSlots) return;  // no interface
  const uint64_t serial = slots_.SerialOf(record.slot);
  if (serial == 0) return;  // a slot no interface holds: nothing to name
  Interval& interval = intervals_[position];
  interval.names.try_emplace(serial, slots_.NameOf(record.slot));
  AggregateKey key{serial, record.key, record.ingress,
                   record.kind == FlowLogKind::kReject};
  auto it = interval.records.find(key);
  if (it == interval.records.end()) {
    if (interval.records.size() >= kMaxRecordsPerInterval) {
      ++interval.skipped[serial];
      ++counters_.records_skipped;
      return;
    }
    it = interval.records.emplace(key, Aggregate()).first;
  }
  Aggregate& a = it->second;
  a.packets += record.packets;
  a.bytes += record.bytes;
  a.start = std::min(a.start, record.start);
  a.end = std::max(a.end, record.end);
}

bool FlowLogWriter::FlushesServed() const {
  for (const Source& s : sources_) {
    if (!s.accounting->FlushServed()) return false;
  }
  return true;
}

void FlowLogWriter::EndInterval() {
  const int64_t now = clocks_.unix_seconds();
  intervals_.back().end = now;
  intervals_.emplace_back().start = now;
  ++intervals_opened_;
  for (const Source& s : sources_) s.accounting->RequestFlush();
}

void FlowLogWriter::Poll(TimePoint now) {
  Drain();
  if (config_) {
    if (!due_) {
      due_ = now + std::chrono::seconds(config_->interval);
    } else if (now >= *due_ && FlushesServed()) {
      // (A flush still under way delays the next: a new request would
      // merge with it.)
      EndInterval();
      due_ = now + std::chrono::seconds(config_->interval);
    }
  }
  WriteDone();
}

void FlowLogWriter::FinishInterval(bool serve) {
  auto deadline = std::chrono::steady_clock::now() + kFlushTimeout;
  // Waits until every flush asked for is served and its records taken.
  auto await = [&] {
    for (;;) {
      if (serve) {
        for (const Source& s : sources_) s.accounting->ServeFlush(*s.flows);
      }
      Drain();
      if (FlushesServed()) {
        Drain();
        return true;
      }
      if (std::chrono::steady_clock::now() > deadline) return false;
      if (!serve) std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  };
  bool done = await() && (EndInterval(), await());
  if (!done) {
    SGATE_LOG(WARNING, "flow logs: a worker did not flush within %lld s; "
                       "its records of this interval will come later\n",
              static_cast<long long>(kFlushTimeout.count()));
  }
  WriteDone();
}

void FlowLogWriter::WriteDone() {
  while (intervals_.size() > 1 &&
         intervals_.front().ended_by >= sources_.size()) {
    if (config_) Write(intervals_.front());
    intervals_.pop_front();
    for (size_t& p : position_) {
      if (p > 0) --p;
    }
    ++intervals_written_;
  }
}

void FlowLogWriter::Write(Interval& interval) {
  const std::vector<InterfaceSlots::Slot> in_use = slots_.InUse();
  // Records the workers could not queue since the last interval written.
  for (const InterfaceSlots::Slot& slot : in_use) {
    uint64_t lost = 0;
    for (const Source& s : sources_) {
      lost += s.accounting->counters(slot.slot).flow_log_records_lost;
    }
    if (lost == lost_seen_[slot.slot]) continue;
    const uint64_t serial = slots_.SerialOf(slot.slot);
    interval.skipped[serial] += lost - lost_seen_[slot.slot];
    counters_.records_skipped += lost - lost_seen_[slot.slot];
    interval.names.try_emplace(serial, slot.name);
    lost_seen_[slot.slot] = lost;
  }
  for (auto& [serial, n] : carried_skips_) {
    interval.skipped[serial] += n;
    interval.names.try_emplace(serial, carried_names_[serial]);
  }
  carried_skips_.clear();
  carried_names_.clear();

  // Records by interface, then time, then 5-tuple: a stable order for
  // people reading the file.
  std::vector<const std::pair<const AggregateKey, Aggregate>*> records;
  records.reserve(interval.records.size());
  for (const auto& entry : interval.records) records.push_back(&entry);
  std::sort(records.begin(), records.end(), [&](auto* a, auto* b) {
    const std::string& na = interval.names[a->first.serial];
    const std::string& nb = interval.names[b->first.serial];
    if (na != nb) return na < nb;
    if (a->second.start != b->second.start) {
      return a->second.start < b->second.start;
    }
    int flow = std::memcmp(&a->first.flow, &b->first.flow,
                           sizeof(dataplane::FlowKey));
    if (flow != 0) return flow < 0;
    return std::tie(a->first.ingress, a->first.reject) <
           std::tie(b->first.ingress, b->first.reject);
  });
  const std::string& account = config_->account_id;
  std::set<uint64_t> with_records;
  for (const auto* entry : records) {
    const AggregateKey& k = entry->first;
    const Aggregate& a = entry->second;
    const dataplane::FlowKey& f = k.flow;
    const rules::IpAddress local{f.family, f.local};
    const rules::IpAddress remote{f.family, f.remote};
    // Ports only for TCP and UDP: an ICMP echo's id is not one.
    const bool ports = rules::HasPorts(f.protocol);
    uint16_t local_port = ports ? f.local_port : 0;
    uint16_t remote_port = ports ? f.remote_port : 0;
    const rules::IpAddress& src = k.ingress ? remote : local;
    const rules::IpAddress& dst = k.ingress ? local : remote;
    WriteLine(absl::StrCat("2 ", account, " ", interval.names[k.serial], " ",
                           src.ToString(), " ", dst.ToString(), " ",
                           k.ingress ? remote_port : local_port, " ",
                           k.ingress ? local_port : remote_port, " ",
                           f.protocol, " ", a.packets, " ", a.bytes, " ",
                           Unix(a.start), " ", Unix(a.end),
                           k.reject ? " REJECT OK" : " ACCEPT OK"),
              k.serial, 1, interval);
    ++counters_.records;
    with_records.insert(k.serial);
  }
  // Interfaces without traffic, and those whose records were lost.
  for (const InterfaceSlots::Slot& slot : in_use) {
    const uint64_t serial = slots_.SerialOf(slot.slot);
    if (!slot.live || with_records.count(serial) != 0 ||
        interval.skipped.count(serial) != 0) {
      continue;
    }
    WriteLine(absl::StrCat("2 ", account, " ", slot.name,
                           " - - - - - - - ", interval.start, " ",
                           interval.end, " - NODATA"),
              serial, 0, interval);
    ++counters_.nodata_records;
  }
  for (const auto& [serial, n] : interval.skipped) {
    WriteLine(absl::StrCat("2 ", account, " ", interval.names[serial],
                           " - - - - - - - ", interval.start, " ",
                           interval.end, " - SKIPDATA"),
              serial, n, interval);
    ++counters_.skipdata_records;
  }
  if (file_.stream != nullptr && std::fflush(file_.stream) != 0) {
    ++counters_.write_errors;
  }
  ++counters_.intervals;
}

void FlowLogWriter::WriteLine(const std::string& line, uint64_t serial,
                              uint64_t stands_for, Interval& interval) {
  const uint64_t bytes = line.size() + 1;
  if (file_.stream == nullptr || file_.size + bytes > config_->max_bytes) {
    // Full: what the line stood for is reported once the file is reopened
    // (SKIPDATA), and counted now.
    if (stands_for != 0) {
      carried_skips_[serial] += stands_for;
      carried_names_.try_emplace(serial, interval.names[serial]);
      counters_.records_skipped += stands_for;
    }
    if (!warned_full_) {
      warned_full_ = true;
      SGATE_LOG(WARNING, "flow logs: %s reached max_size_mb; records are "
                         "skipped until it is rotated (SIGUSR1)\n",
                config_->path.c_str());
    }
    return;
  }
  if (std::fputs(line.c_str(), file_.stream) == EOF ||
      std::fputc('\n', file_.stream) == EOF) {
    ++counters_.write_errors;
    return;
  }
  file_.size += bytes;
  counters_.bytes_written += bytes;
}

void FlowLogWriter::Reopen() {
  if (!config_) return;
  absl::StatusOr<File> file = Open(*config_);
  if (!file.ok()) {
    ++counters_.write_errors;
    SGATE_LOG(ERR, "flow logs: reopen failed, still writing to the old "
                   "file: %s\n",
              std::string(file.status().message()).c_str());
    return;
  }
  Close(file_);
  file_ = *file;
  warned_full_ = false;
  ++counters_.reopens;
}

void FlowLogWriter::Stop() {
  if (config_) FinishInterval(/*serve=*/true);
  Close(file_);
  config_.reset();
}

void FlowLogWriter::ResetSlot(uint16_t slot) {
  // Records already queued name the slot's previous interface: take them
  // under its serial before the slot changes hands.
  Drain();
  lost_seen_[slot] = 0;
}

void FlowLogWriter::AddTo(StatsSnapshot& s) const {
  using dataplane::CounterSection;
#define SGATE_FLOW_LOG_VALUE(member, kind, help)                        \
  s.counters[dataplane::CounterIndex(CounterSection::kFlowLogs, #member)] = \
      counters_.member;
  SGATE_FLOW_LOG_COUNTERS(SGATE_FLOW_LOG_VALUE)
#undef SGATE_FLOW_LOG_VALUE
}

}  // namespace sgate::control
