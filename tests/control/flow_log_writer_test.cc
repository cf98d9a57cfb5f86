// The flow-log writer fed by real Enforcers (two "workers", each with its
// flow table and accounting), its file read back with a strict parser of
// the VPC Flow Logs version 2 default format.
#include "control/flow_log_writer.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "dataplane/enforcer.h"
#include "dataplane/reference_table.h"
#include "rules/policy_loader.h"
#include "tests/support/frame_builder.h"

namespace sgate::control {
namespace {

using dataplane::DropReason;
using dataplane::Enforcer;
using dataplane::FlowAccounting;
using dataplane::FlowTable;
using dataplane::ReferenceTable;
using dataplane::Side;
using sgate::testing::FrameBuilder;
using sgate::testing::kAck;
using sgate::testing::kSyn;
using ::testing::HasSubstr;

constexpr char kA[] = "198.51.100.10";
constexpr char kFar[] = "203.0.113.5";
constexpr int64_t kUnixAtZero = 1700000000;  // Unix time at flow clock 0

// One record, as the published format defines it: 14 space-separated
// fields; an OK record has addresses, ports, protocol, counts and times, a
// NODATA or SKIPDATA record has '-' for all but the interface and times.
struct Record {
  std::string account, interface, src, dst, action, status;
  int64_t sport = -1, dport = -1, protocol = -1;
  uint64_t packets = 0, bytes = 0;
  int64_t start = 0, end = 0;
};

bool IsAddress(const std::string& text) {
  unsigned char buffer[16];
  return inet_pton(AF_INET, text.c_str(), buffer) == 1 ||
         inet_pton(AF_INET6, text.c_str(), buffer) == 1;
}

// Fails the test on any line that is not a well-formed record.
Record Parse(const std::string& line) {
  Record r;
  std::vector<std::string> f = absl::StrSplit(line, ' ');
  EXPECT_EQ(f.size(), 14u) << line;
  if (f.size() != 14) return r;
  for (const std::string& field : f) EXPECT_FALSE(field.empty()) << line;
  EXPECT_EQ(f[0], "2") << line;
  r.account = f[1];
  r.interface = f[2];
  EXPECT_TRUE(absl::SimpleAtoi(f[10], &r.start)) << line;
  EXPECT_TRUE(absl::SimpleAtoi(f[11], &r.end)) << line;
  EXPECT_LE(r.start, r.end) << line;
  r.action = f[12];
  r.status = f[13];
  if (r.status == "NODATA" || r.status == "SKIPDATA") {
    for (int i = 3; i <= 9; ++i) EXPECT_EQ(f[i], "-") << line;
    EXPECT_EQ(r.action, "-") << line;
    return r;
  }
  EXPECT_EQ(r.status, "OK") << line;
  EXPECT_TRUE(r.action == "ACCEPT" || r.action == "REJECT") << line;
  r.src = f[3];
  r.dst = f[4];
  EXPECT_TRUE(IsAddress(r.src) && IsAddress(r.dst)) << line;
  EXPECT_TRUE(absl::SimpleAtoi(f[5], &r.sport) && r.sport >= 0 &&
              r.sport <= 65535) << line;
  EXPECT_TRUE(absl::SimpleAtoi(f[6], &r.dport) && r.dport >= 0 &&
              r.dport <= 65535) << line;
  EXPECT_TRUE(absl::SimpleAtoi(f[7], &r.protocol) && r.protocol >= 0 &&
              r.protocol <= 255) << line;
  EXPECT_TRUE(absl::SimpleAtoi(f[8], &r.packets) && r.packets > 0) << line;
  EXPECT_TRUE(absl::SimpleAtoi(f[9], &r.bytes) && r.bytes > 0) << line;
  return r;
}

// Every record of a flow-log file, after checking its header.
std::vector<Record> ReadLog(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::vector<Record> records;
  EXPECT_TRUE(std::getline(in, line)) << path << " is empty";
  EXPECT_EQ(line, FlowLogWriter::kHeader);
  while (std::getline(in, line)) records.push_back(Parse(line));
  return records;
}

std::string PolicyYaml(const std::string& path, uint32_t max_size_mb = 64) {
  return absl::StrCat(R"(version: 1
settings:
  flow_logs: {path: )", path, ", interval: 60, max_size_mb: ", max_size_mb,
                      R"(}
  account_id: "123456789012"
security_groups:
  sg-web:
    ingress:
      - {protocol: tcp, ports: 80, cidr: [0.0.0.0/0, "::/0"]}
      - {protocol: icmp, icmp_type: 8, cidr: 0.0.0.0/0}
interfaces:
  eni-a:
    addresses: [198.51.100.10]
    security_groups: [sg-web]
  eni-b:
    addresses: [198.51.100.11]
    security_groups: [sg-web]
)");
}

struct Free {
  void operator()(void* p) const { std::free(p); }
};

// What one worker owns: its flow table, accounting and Enforcer.
struct Worker {
  static constexpr uint32_t kCapacity = 256;
  explicit Worker(uint32_t id)
      : flow_memory(std::aligned_alloc(64, FlowTable::MemoryFor(kCapacity))),
        side_memory(
            std::aligned_alloc(64, FlowAccounting::MemoryFor(kCapacity))),
        flows(flow_memory.get(), kCapacity),
        accounting(std::make_unique<FlowAccounting>(side_memory.get(),
                                                    kCapacity)),
        enforcer(flows, id) {
    flows.Attach(accounting.get());
  }
  std::unique_ptr<void, Free> flow_memory;
  std::unique_ptr<void, Free> side_memory;
  FlowTable flows;
  std::unique_ptr<FlowAccounting> accounting;
  Enforcer enforcer;
};

class FlowLogWriterTest : public ::testing::Test {
 protected:
  FlowLogWriterTest()
      : dir_(std::filesystem::temp_directory_path() /
             absl::StrCat("sgate-flowlog-", getpid(), "-",
                          ::testing::UnitTest::GetInstance()
                              ->current_test_info()
                              ->name())),
        path_((dir_ / "flows.log").string()),
        writer_(slots_, {.flow_seconds = [this] { return flow_now_; },
                         .unix_seconds =
                             [this] { return kUnixAtZero + flow_now_; }}) {
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    for (uint32_t w = 0; w < 2; ++w) {
      workers_.push_back(std::make_unique<Worker>(w));
    }
  }
  ~FlowLogWriterTest() override { std::filesystem::remove_all(dir_); }

  // As PolicyPublisher::Publish does, without the RCU swap.
  absl::Status Publish(const std::string& yaml,
                       const std::string& file = "p.yaml") {
    absl::StatusOr<rules::Policy> policy = rules::LoadPolicyString(yaml, file);
    if (!policy.ok()) return policy.status();
    auto table = std::make_unique<ReferenceTable>(*std::move(policy), "",
                                                  ++generation_, 2);
    absl::StatusOr<std::vector<uint16_t>> slots =
        slots_.Assign(table->interface_names());
    if (!slots.ok()) return slots.status();
    table->set_interfaces(dataplane::InterfaceTable(
        table->policy(), table->interface_names(), *slots, 2));
    if (absl::Status s = writer_.Prepare(table->policy()); !s.ok()) {
      slots_.Rollback();
      return s;
    }
    slots_.Commit();
    writer_.Commit();
    table_ = std::move(table);
    return absl::OkStatus();
  }
  void AttachWorkers() {
    std::vector<FlowLogWriter::Source> sources;
    for (auto& w : workers_) sources.push_back({w->accounting.get(), &w->flows});
    writer_.Attach(sources);
  }

  dataplane::Verdict Send(uint32_t worker, Side side, const FrameBuilder& f) {
    std::vector<uint8_t> frame = f.Build();
    return workers_[worker]->enforcer.Process(frame.data(), frame.size(),
                                              side, flow_now_, *table_);
  }
  static FrameBuilder V4(const char* src, const char* dst) {
    FrameBuilder f;
    f.Ipv4(src, dst);
    return f;
  }
  // The workers' loop: serves flushes.
  void ServeWorkers() {
    for (auto& w : workers_) w->accounting->ServeFlush(w->flows);
  }
  // Ends the interval as time passes: the writer asks, the workers flush,
  // the writer writes.
  void EndInterval() {
    writer_.Poll(steady_);
    steady_ += std::chrono::seconds(60);
    flow_now_ += 60;
    writer_.Poll(steady_);
    ServeWorkers();
    writer_.Poll(steady_);
  }

  std::filesystem::path dir_;
  std::string path_;
  uint32_t flow_now_ = 1000;
  FlowLogWriter::TimePoint steady_{};
  InterfaceSlots slots_;
  FlowLogWriter writer_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::unique_ptr<ReferenceTable> table_;
  uint32_t generation_ = 0;
};

TEST_F(FlowLogWriterTest, RecordsFlowsPerDirectionRejectsAndIdleInterfaces) {
  ASSERT_TRUE(Publish(PolicyYaml(path_)).ok());
  AttachWorkers();
  writer_.Poll(steady_);
  // Worker 0: a TCP connection, 2 packets in (40 + 140 IP bytes), 1 out.
  Send(0, Side::kOutside, V4(kFar, kA).Tcp(40000, 80, kSyn));
  Send(0, Side::kInside, V4(kA, kFar).Tcp(80, 40000, kSyn | kAck));
  Send(0, Side::kOutside, V4(kFar, kA).Tcp(40000, 80, kAck).Payload(100));
  // Worker 1: a ping and its reply (28 bytes each), ports 0.
  Send(1, Side::kOutside, V4(kFar, kA).Icmp(8, 0, 7 << 16 | 1));
  Send(1, Side::kInside, V4(kA, kFar).Icmp(0, 0, 7 << 16 | 1));
  // One rejected 5-tuple on both workers: one record of 3 packets.
  flow_now_ += 5;
  Send(0, Side::kOutside, V4(kFar, kA).Tcp(40001, 22, kSyn));
  Send(0, Side::kOutside, V4(kFar, kA).Tcp(40001, 22, kSyn));
  Send(1, Side::kOutside, V4(kFar, kA).Tcp(40001, 22, kSyn));
  EndInterval();

  std::vector<Record> records = ReadLog(path_);
  ASSERT_EQ(records.size(), 6u);
  const int64_t start = kUnixAtZero + 1000, end = kUnixAtZero + 1065;
  auto find = [&](const std::string& src, int64_t protocol,
                  const std::string& action) -> const Record* {
    for (const Record& r : records) {
      if (r.src == src && r.protocol == protocol && r.action == action) {
        return &r;
      }
    }
    return nullptr;
  };
  const Record* in = find(kFar, 6, "ACCEPT");
  ASSERT_NE(in, nullptr);
  EXPECT_EQ(in->account, "123456789012");
  EXPECT_EQ(in->interface, "eni-a");
  EXPECT_EQ(in->dst, kA);
  EXPECT_EQ(in->sport, 40000);
  EXPECT_EQ(in->dport, 80);
  EXPECT_EQ(in->packets, 2u);
  EXPECT_EQ(in->bytes, 180u);
  EXPECT_GE(in->start, start);
  EXPECT_LE(in->end, end);
  const Record* out = find(kA, 6, "ACCEPT");
  ASSERT_NE(out, nullptr);
  EXPECT_EQ(out->sport, 80);
  EXPECT_EQ(out->dport, 40000);
  EXPECT_EQ(out->packets, 1u);
  EXPECT_EQ(out->bytes, 40u);
  for (const char* src : {kFar, kA}) {
    const Record* ping = find(src, 1, "ACCEPT");
    ASSERT_NE(ping, nullptr) << src;
    EXPECT_EQ(ping->sport, 0);
    EXPECT_EQ(ping->dport, 0);
    EXPECT_EQ(ping->packets, 1u);
    EXPECT_EQ(ping->bytes, 28u);
  }
  const Record* rejected = find(kFar, 6, "REJECT");
  ASSERT_NE(rejected, nullptr);
  EXPECT_EQ(rejected->dport, 22);
  EXPECT_EQ(rejected->packets, 3u);
  EXPECT_EQ(rejected->bytes, 120u);
  EXPECT_EQ(rejected->start, start + 5);
  EXPECT_EQ(records.back().interface, "eni-b");
  EXPECT_EQ(records.back().status, "NODATA");
  EXPECT_EQ(records.back().start, start);
  EXPECT_EQ(records.back().end, end);

  // The next interval: no packets, so no record of the open flows.
  EndInterval();
  records = ReadLog(path_);
  ASSERT_EQ(records.size(), 8u);
  EXPECT_EQ(records[6].status, "NODATA");
  EXPECT_EQ(records[7].status, "NODATA");
  StatsSnapshot s;
  writer_.AddTo(s);
  EXPECT_EQ(s.Get(dataplane::CounterSection::kFlowLogs, "intervals"), 2u);
  EXPECT_EQ(s.Get(dataplane::CounterSection::kFlowLogs, "records"), 5u);
  EXPECT_EQ(s.Get(dataplane::CounterSection::kFlowLogs, "nodata_records"), 3u);
}

TEST_F(FlowLogWriterTest, LostRecordsMakeSkipdata) {
  ASSERT_TRUE(Publish(PolicyYaml(path_)).ok());
  AttachWorkers();
  writer_.Poll(steady_);
  // More flows than worker 0's queue holds close before the writer drains.
  uint32_t closed = 0;
  while (closed < FlowAccounting::kQueueSize + 100) {
    for (uint16_t port = 0; port < Worker::kCapacity; ++port) {
      closed += Send(0, Side::kOutside,
                     V4(kFar, kA).Tcp(static_cast<uint16_t>(1000 + port), 80,
                                      kSyn)).forward;
    }
    flow_now_ += 61;
    workers_[0]->flows.ExpireSome(flow_now_, Worker::kCapacity);
  }
  const uint64_t lost = workers_[0]->accounting->counters(0).flow_log_records_lost;
  EXPECT_EQ(lost, closed - FlowAccounting::kQueueSize);
  EndInterval();
  std::vector<Record> records = ReadLog(path_);
  uint64_t packets = 0;
  bool skipdata = false;
  for (const Record& r : records) {
    packets += r.packets;
    skipdata = skipdata || (r.interface == "eni-a" && r.status == "SKIPDATA");
  }
  EXPECT_EQ(packets, FlowAccounting::kQueueSize);
  EXPECT_TRUE(skipdata);
  StatsSnapshot s;
  writer_.AddTo(s);
  EXPECT_EQ(s.Get(dataplane::CounterSection::kFlowLogs, "records_skipped"),
            lost);
}

TEST_F(FlowLogWriterTest, TheSizeCapSkipsUntilTheFileIsRotated) {
  ASSERT_TRUE(Publish(PolicyYaml(path_, /*max_size_mb=*/1)).ok());
  AttachWorkers();
  writer_.Poll(steady_);
  // ~15,000 rejected 5-tuples: more than 1 MiB of records.
  for (uint32_t i = 0; i < 15000; ++i) {
    std::string src = absl::StrCat("203.0.", 113 + i / 60000, ".",
                                   1 + i % 250);
    Send(i % 2, Side::kOutside,
         V4(src.c_str(), kA).Tcp(static_cast<uint16_t>(1024 + i / 250), 22,
                                 kSyn));
    if (i % 1000 == 0) writer_.Poll(steady_);
  }
  EndInterval();
  EXPECT_LE(std::filesystem::file_size(path_), 1u << 20);
  StatsSnapshot s;
  writer_.AddTo(s);
  const uint64_t skipped =
      s.Get(dataplane::CounterSection::kFlowLogs, "records_skipped");
  EXPECT_GT(skipped, 0u);
  EXPECT_EQ(ReadLog(path_).size() + skipped, 15000u + 1);  // + eni-b NODATA
  // logrotate moves the file and signals: a new file, with a header, and
  // the records skipped are reported.
  std::filesystem::rename(path_, path_ + ".1");
  writer_.Reopen();
  EndInterval();
  std::vector<Record> records = ReadLog(path_);
  bool skipdata = false;
  for (const Record& r : records) {
    skipdata = skipdata || (r.interface == "eni-a" && r.status == "SKIPDATA");
  }
  EXPECT_TRUE(skipdata);
}

TEST_F(FlowLogWriterTest, APathThatCannotBeOpenedIsALocatedError) {
  absl::Status s = Publish(PolicyYaml("/nonexistent-sgate-dir/flows.log"));
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(),
              HasSubstr("p.yaml:3:21: settings.flow_logs.path: cannot open "
                        "'/nonexistent-sgate-dir/flows.log' for writing: No "
                        "such file or directory"));
  EXPECT_FALSE(writer_.enabled());
  EXPECT_TRUE(slots_.InUse().empty());  // the refused table took no slot
}

TEST_F(FlowLogWriterTest, ARefusedReloadKeepsTheOldFile) {
  ASSERT_TRUE(Publish(PolicyYaml(path_)).ok());
  ASSERT_FALSE(Publish(PolicyYaml("/nonexistent-sgate-dir/flows.log")).ok());
  AttachWorkers();
  writer_.Poll(steady_);
  Send(0, Side::kOutside, V4(kFar, kA).Tcp(40000, 80, kSyn));
  EndInterval();
  EXPECT_EQ(ReadLog(path_).size(), 2u);  // the SYN, eni-b's NODATA
}

TEST_F(FlowLogWriterTest, AnInterfaceNameWithASpaceIsRefused) {
  std::string yaml = PolicyYaml(path_);
  yaml += "  \"eni c\":\n    addresses: [198.51.100.12]\n";
  absl::Status s = Publish(yaml);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("p.yaml:17:3: interfaces.eni c: with "
                                     "flow logs, an interface name is the "
                                     "records' interface-id"));
}

TEST_F(FlowLogWriterTest, ACleanStopWritesTheIntervalInProgress) {
  ASSERT_TRUE(Publish(PolicyYaml(path_)).ok());
  AttachWorkers();
  writer_.Poll(steady_);
  Send(1, Side::kOutside, V4(kFar, kA).Tcp(40000, 80, kSyn));
  Send(1, Side::kInside, V4(kA, kFar).Tcp(80, 40000, kSyn | kAck));
  flow_now_ += 7;
  writer_.Stop();  // the workers have stopped: the writer serves the flush
  std::vector<Record> records = ReadLog(path_);
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].action, "ACCEPT");
  EXPECT_EQ(records[1].action, "ACCEPT");
  EXPECT_EQ(records[2].status, "NODATA");
  EXPECT_EQ(records[2].end, kUnixAtZero + 1007);
}

TEST_F(FlowLogWriterTest, AReloadThatMovesTheFileEndsTheIntervalInTheOld) {
  ASSERT_TRUE(Publish(PolicyYaml(path_)).ok());
  AttachWorkers();
  writer_.Poll(steady_);
  Send(0, Side::kOutside, V4(kFar, kA).Tcp(40000, 80, kSyn));
  // The reload waits for the workers' flush: a worker thread serves it.
  std::atomic<bool> stop{false};
  std::thread worker([&] {
    while (!stop) {
      ServeWorkers();
      std::this_thread::yield();
    }
  });
  const std::string moved = (dir_ / "moved.log").string();
  absl::Status s = Publish(PolicyYaml(moved));
  stop = true;
  worker.join();
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(ReadLog(path_).size(), 2u);
  Send(0, Side::kOutside, V4(kFar, kA).Tcp(40000, 80, kAck));
  EndInterval();
  std::vector<Record> records = ReadLog(moved);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].packets, 1u);  // the packet after the move only
}

TEST_F(FlowLogWriterTest, TurnedOnByAReloadFlowsReportOnlyWhatFollows) {
  std::string yaml = PolicyYaml(path_);
  std::string without = yaml;
  without.erase(without.find("  flow_logs:"),
                without.find("  account_id:") - without.find("  flow_logs:"));
  ASSERT_TRUE(Publish(without).ok());
  AttachWorkers();
  Send(0, Side::kOutside, V4(kFar, kA).Tcp(40000, 80, kSyn));
  Send(0, Side::kInside, V4(kA, kFar).Tcp(80, 40000, kSyn | kAck));
  // The reload that turns them on marks every open flow, through a flush
  // the workers serve.
  std::atomic<bool> stop{false};
  std::thread worker([&] {
    while (!stop) {
      ServeWorkers();
      std::this_thread::yield();
    }
  });
  absl::Status s = Publish(yaml);
  stop = true;
  worker.join();
  ASSERT_TRUE(s.ok()) << s;
  writer_.Poll(steady_);
  Send(0, Side::kOutside, V4(kFar, kA).Tcp(40000, 80, kAck));
  EndInterval();
  std::vector<Record> records = ReadLog(path_);
  ASSERT_EQ(records.size(), 2u);  // the ACK, eni-b's NODATA
  EXPECT_EQ(records[0].packets, 1u);
  EXPECT_EQ(records[0].bytes, 40u);
}

TEST_F(FlowLogWriterTest, TheCommandLinePathIsNamedInItsError) {
  absl::StatusOr<rules::Policy> policy =
      rules::LoadPolicyString(PolicyYaml(path_), "p.yaml");
  ASSERT_TRUE(policy.ok());
  policy->settings.flow_logs->path = "/nonexistent-sgate-dir/f.log";
  policy->settings.flow_logs->location = {"--flow-log", 0, 0};
  absl::Status s = writer_.Prepare(*policy);
  EXPECT_THAT(s.message(), HasSubstr("--flow-log: cannot open "
                                     "'/nonexistent-sgate-dir/f.log'"));
}

}  // namespace
}  // namespace sgate::control
