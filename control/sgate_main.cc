// sgate: the dataplane program (DESIGN.md §6).
//   sgate [EAL options] -- --policy FILE [--pair IN:OUT]... [--node NAME] ...
// The main lcore runs the control loop (signals, reloads, stats); every
// other lcore runs a Worker with one rx/tx queue pair on every port.
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "control/control_socket.h"
#include "control/file_watch.h"
#include "control/json_writer.h"
#include "control/trace_packet.h"
#include "control/sgate_options.h"
#include "control/stats_snapshot.h"
#include "control/telemetry.h"
#include "dataplane/compiled_table.h"
#include "dataplane/port.h"
#include "dataplane/published.h"
#include "dataplane/worker.h"
#include "rules/policy_loader.h"

namespace sgate::control {
namespace {

using dataplane::CompiledTable;
using Worker = dataplane::Worker<CompiledTable>;

int g_logtype = RTE_LOGTYPE_USER1;
#define SGATE_LOG(level, ...) \
  rte_log(RTE_LOG_##level, g_logtype, "sgate: " __VA_ARGS__)

std::atomic<bool> g_stop{false};
std::atomic<bool> g_reload{false};

void OnSignal(int signal) {
  if (signal == SIGHUP) {
    g_reload = true;
  } else {
    g_stop = true;
  }
}

// Mbufs: every rx and tx descriptor of every queue can hold one, plus a
// burst in flight per worker and port, plus the per-lcore caches.
constexpr uint32_t kMbufCache = 256;
uint32_t MbufCount(uint32_t ports, uint32_t workers) {
  uint32_t descriptors = ports * workers * (1024 + 1024);
  uint32_t in_flight = workers * ports * 2 * Worker::kBurst;
  return descriptors + in_flight + (workers + 1) * kMbufCache + 1024;
}

class Sgate {
 public:
  explicit Sgate(SgateOptions options) : options_(std::move(options)) {}

  // Everything up to launching the workers; a failure is fatal at start-up.
  absl::Status Start() {
    uint32_t workers = rte_lcore_count() - 1;
    if (workers == 0) {
      return absl::InvalidArgumentError(
          "sgate needs at least two lcores (e.g. -l 0,1): the main lcore "
          "runs control, the others forward");
    }
    absl::StatusOr<std::unique_ptr<CompiledTable>> table = LoadAndCompile();
    if (!table.ok()) return table.status();
    const rules::Settings& settings = (*table)->policy().settings;

    pairs_ = options_.pairs;
    std::vector<uint16_t> ports;
    for (const dataplane::PortPairIds& p : options_.pairs) {
      for (uint16_t port : {p.inside, p.outside}) {
        if (port >= dataplane::kMaxPorts) {
          return absl::InvalidArgumentError(absl::StrCat(
              "port ", port, " is past the ", dataplane::kMaxPorts,
              " ports sgate supports"));
        }
        ports.push_back(port);
      }
    }
    uint32_t mbufs = options_.mbufs ? options_.mbufs
                                    : MbufCount(ports.size(), workers);
    pool_ = rte_pktmbuf_pool_create("sgate_mbufs", mbufs,
                                    kMbufCache, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                    rte_socket_id());
    if (pool_ == nullptr) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "cannot allocate the mbuf pool: ", rte_strerror(rte_errno),
          " (give EAL more memory: -m, or hugepages)"));
    }
    for (uint16_t port : ports) {
      absl::Status s = dataplane::SetUpPort(
          {.port_id = port, .queues = static_cast<uint16_t>(workers),
           .rss = !options_.no_rss, .pool = pool_});
      if (!s.ok()) return s;
    }

    tables_ = std::make_unique<dataplane::Published<CompiledTable>>(workers);
    if (!tables_->ok()) {
      return absl::ResourceExhaustedError("cannot allocate the RCU state");
    }
    tables_->Swap(*std::move(table));
    generation_ = 1;

    // Each worker tracks its share of settings.max_flows (RSS gives each
    // a share of the connections).
    uint32_t capacity = std::max<uint32_t>(1, settings.max_flows / workers);
    size_t bytes = dataplane::FlowTable::MemoryFor(capacity);
    uint16_t queue = 0;
    unsigned lcore;
    RTE_LCORE_FOREACH_WORKER(lcore) {
      void* memory = rte_zmalloc_socket("sgate_flows", bytes,
                                        RTE_CACHE_LINE_SIZE,
                                        rte_lcore_to_socket_id(lcore));
      if (memory == nullptr) {
        return absl::ResourceExhaustedError(absl::StrCat(
            "cannot allocate a flow table of ", capacity, " flows (",
            bytes >> 20, " MiB per worker): give EAL more memory (-m, "
            "hugepages) or lower settings.max_flows"));
      }
      flow_memory_.push_back(memory);
      flows_.push_back(
          std::make_unique<dataplane::FlowTable>(memory, capacity));
      workers_.push_back(std::make_unique<Worker>(
          queue, queue, pairs_, *flows_.back(), *tables_, g_stop));
      lcores_.push_back(lcore);
      ++queue;
    }
    for (size_t i = 0; i < workers_.size(); ++i) {
      rte_eal_remote_launch(
          [](void* worker) {
            static_cast<Worker*>(worker)->Run();
            return 0;
          },
          workers_[i].get(), lcores_[i]);
    }
    RegisterTelemetry();
    if (options_.watch) {
      if (absl::Status s = watch_.Watch(options_.policy_path); !s.ok()) {
        return s;
      }
    }
    if (absl::Status s = control_.Listen(options_.control_path); !s.ok()) {
      // sgate still forwards; only sgatectl cannot reach it.
      SGATE_LOG(WARNING, "no control socket: %s\n",
                std::string(s.message()).c_str());
    }
    SGATE_LOG(INFO, "forwarding with %zu worker(s), %u flows each, policy "
                    "%s generation %u\n",
              workers_.size(), capacity, options_.policy_path.c_str(),
              generation_);
    return absl::OkStatus();
  }

  // The control loop: returns when SIGINT/SIGTERM arrives.
  void Run() {
    auto next_stats = std::chrono::steady_clock::now();
    while (!g_stop) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      if (g_reload.exchange(false) || watch_.Changed()) {
        (void)Reload();  // logged either way
      }
      control_.Poll([this](absl::string_view request) {
        return HandleRequest(request);
      });
      PublishTelemetry(Snapshot());
      if (options_.stats_interval_ms > 0 &&
          std::chrono::steady_clock::now() >= next_stats) {
        next_stats += std::chrono::milliseconds(options_.stats_interval_ms);
        std::printf("%s\n", StatsJson().c_str());
        std::fflush(stdout);
      }
    }
  }

  void Stop() {
    g_stop = true;
    rte_eal_mp_wait_lcore();
    std::printf("%s\n", StatsJson().c_str());
    std::fflush(stdout);
    for (const dataplane::PortPairIds& p : pairs_) {
      for (uint16_t port : {p.inside, p.outside}) {
        rte_eth_dev_stop(port);
        rte_eth_dev_close(port);
      }
    }
    workers_.clear();
    flows_.clear();
    for (void* memory : flow_memory_) rte_free(memory);
    tables_.reset();
  }

 private:
  absl::StatusOr<std::unique_ptr<CompiledTable>> LoadAndCompile() {
    rules::LoadOptions load;
    load.aws_json_path = options_.aws_json_path;
    absl::StatusOr<rules::Policy> policy =
        rules::LoadPolicyFile(options_.policy_path, load);
    if (!policy.ok()) return policy.status();
    rules::RuleTableOptions table_options;
    table_options.compile.node = options_.node;
    return CompiledTable::Build(*std::move(policy), generation_ + 1,
                                rte_lcore_count() - 1, table_options);
  }

  // A policy that fails to load or compile changes nothing: the current
  // table stays (DESIGN.md §4).
  absl::Status Reload() {
    absl::StatusOr<std::unique_ptr<CompiledTable>> table = LoadAndCompile();
    if (!table.ok()) {
      ++reloads_rejected_;
      SGATE_LOG(ERR, "reload rejected, keeping generation %u:\n%s\n",
                generation_, std::string(table.status().message()).c_str());
      return table.status();
    }
    ++generation_;
    tables_->Swap(*std::move(table));  // the old table is freed here
    SGATE_LOG(INFO, "reload: generation %u live (grace period %lld us)\n",
              generation_,
              static_cast<long long>(
                  tables_->last_grace_period().count() / 1000));
    return absl::OkStatus();
  }

  // One request of the control socket; the reply is one JSON object.
  std::string HandleRequest(absl::string_view request) {
    std::string command(request.substr(0, request.find(' ')));
    JsonWriter j;
    j.BeginObject();
    if (command == "stats") {
      return StatsJson();
    } else if (command == "generation") {
      j.Field("generation", generation_);
    } else if (command == "reload") {
      absl::Status status = Reload();
      j.Field("generation", generation_);
      if (!status.ok()) j.Field("error", status.message());
    } else if (command == "rules") {
      RulesJson(j);
    } else if (command == "trace") {
      TraceJson(request, j);
    } else if (command == "flows") {
      FlowsJson(request, j);
    } else {
      j.Field("error", absl::StrCat("unknown command '", command,
                                    "'; expected stats, reload, generation, "
                                    "rules, trace or flows"));
    }
    j.EndObject();
    return j.str();
  }

  // "trace in|out LOCAL REMOTE PROTO [DETAIL] [vlan=N]": how the live
  // table decides that packet. The table is immutable and the control
  // thread is the only one that frees it, so reading it here is safe.
  void TraceJson(absl::string_view request, JsonWriter& j) const {
    std::vector<std::string> words =
        absl::StrSplit(request, ' ', absl::SkipEmpty());
    std::optional<uint16_t> vlan;
    std::optional<uint16_t> sport;
    // Trailing "vlan=N" and "sport=N", in any order.
    while (!words.empty() && (absl::StartsWith(words.back(), "vlan=") ||
                              absl::StartsWith(words.back(), "sport="))) {
      bool is_vlan = absl::StartsWith(words.back(), "vlan=");
      uint32_t value = 0;
      if (!absl::SimpleAtoi(words.back().substr(is_vlan ? 5 : 6), &value) ||
          value > (is_vlan ? 4095u : 65535u)) {
        j.Field("error", is_vlan ? "vlan= expects 0 to 4095"
                                 : "sport= expects 0 to 65535");
        return;
      }
      (is_vlan ? vlan : sport) = static_cast<uint16_t>(value);
      words.pop_back();
    }
    if (words.size() < 2 || (words[1] != "in" && words[1] != "out")) {
      j.Field("error", "expected trace in|out LOCAL REMOTE PROTO [DETAIL]");
      return;
    }
    absl::StatusOr<rules::PacketKey> packet = ParseTracePacket(
        words[1] == "in" ? rules::Direction::kIngress
                         : rules::Direction::kEgress,
        vlan, std::vector<std::string>(words.begin() + 2, words.end()));
    if (!packet.ok()) {
      j.Field("error", packet.status().message());
      return;
    }
    const CompiledTable* table = tables_->Current();
    rules::Classification c = table->rule_table().Classify(*packet);
    j.Field("generation", generation_);
    j.Field("packet", DescribePacket(*packet));
    j.Field("verdict", c.allowed() ? "allow" : "deny");
    j.Field("decision", DecisionName(c.decision));
    j.Key("interface");
    if (c.interface == rules::Classification::kNoInterface) {
      j.Null();
    } else {
      j.String(table->rule_table().interface_name(c.interface));
    }
    FlowJson(*packet, sport, j);
    if (c.decision == rules::Decision::kAllowedByRule) {
      const rules::Policy& policy = table->policy();
      const rules::RuleRef& ref = policy.rules()[c.rule_id];
      j.Key("rule");
      j.BeginObject();
      j.Field("id", c.rule_id);
      j.Field("group", ref.group);
      j.Field("direction", rules::DirectionName(ref.direction));
      j.Field("index", ref.index);
      j.Field("rule", policy.rule(c.rule_id).Describe(ref.direction));
      j.Field("description", policy.rule(c.rule_id).description);
      j.EndObject();
    }
  }

  // "flows [LIMIT] [INTERFACE]": up to LIMIT flows of each worker, copied
  // by the workers themselves (dataplane::FlowSnapshot).
  void FlowsJson(absl::string_view request, JsonWriter& j) const {
    std::vector<std::string> words =
        absl::StrSplit(request, ' ', absl::SkipEmpty());
    uint32_t limit = 100;
    if (words.size() > 1 && !absl::SimpleAtoi(words[1], &limit)) {
      j.Field("error", "expected flows [LIMIT] [INTERFACE]");
      return;
    }
    std::string only = words.size() > 2 ? words[2] : "";
    for (const auto& w : workers_) w->snapshot().Request(limit);
    // Workers serve a request within microseconds; a second means one is
    // stuck, and the listing says so rather than waiting on it.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    for (const auto& w : workers_) {
      while (!w->snapshot().Ready()) {
        if (std::chrono::steady_clock::now() > deadline) {
          j.Field("error", "a worker did not answer within a second");
          return;
        }
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      }
    }
    const CompiledTable* table = tables_->Current();
    const rules::Policy& policy = table->policy();
    uint32_t now = static_cast<uint32_t>(rte_get_tsc_cycles() /
                                         rte_get_tsc_hz());
    j.Field("generation", generation_);
    j.Key("flows");
    j.BeginArray();
    for (size_t w = 0; w < workers_.size(); ++w) {
      const dataplane::FlowSnapshot& snapshot = workers_[w]->snapshot();
      for (uint32_t i = 0; i < snapshot.count(); ++i) {
        const dataplane::FlowEntry& f = snapshot.flows()[i];
        std::string interface = InterfaceOf(policy, f.key);
        if (!only.empty() && interface != only) continue;
        FlowJson(policy, w, f, interface, now, j);
      }
    }
    j.EndArray();
  }

  // Whether the traced packet's flow exists, asked of every worker (the
  // flow lives on one; each looks in its own table). Unknown when the key
  // is incomplete: tcp/udp without the source port, ICMP echo (its id).
  void FlowJson(const rules::PacketKey& packet, std::optional<uint16_t> sport,
                JsonWriter& j) const {
    j.Key("flow");
    bool echo = rules::HasIcmpFields(packet.protocol) &&
                (packet.icmp_type == 8 || packet.icmp_type == 0 ||
                 packet.icmp_type == 128 || packet.icmp_type == 129);
    if ((rules::HasPorts(packet.protocol) && !sport) || echo) {
      j.Null();
      return;
    }
    dataplane::FlowKey key =
        dataplane::Enforcer::KeyOf(packet, sport.value_or(0));
    for (const auto& w : workers_) w->probe().Ask(key);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    for (size_t i = 0; i < workers_.size(); ++i) {
      while (!workers_[i]->probe().Ready()) {
        if (std::chrono::steady_clock::now() > deadline) {
          j.Null();
          return;
        }
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      }
    }
    for (size_t i = 0; i < workers_.size(); ++i) {
      const std::optional<dataplane::FlowEntry>& f =
          workers_[i]->probe().answer();
      if (!f) continue;
      j.BeginObject();
      j.Field("exists", true);
      j.Field("worker", i);
      j.Field("state", dataplane::FlowStateName(f->state));
      j.Field("packets_in", f->packets[0]);
      j.Field("packets_out", f->packets[1]);
      j.EndObject();
      return;
    }
    j.BeginObject();
    j.Field("exists", false);
    j.EndObject();
  }

  // The interface owning a flow's local address (in its VLAN), by name.
  static std::string InterfaceOf(const rules::Policy& policy,
                                 const dataplane::FlowKey& key) {
    rules::IpAddress local;
    local.family = key.family == 4 ? rules::Family::kIPv4
                                   : rules::Family::kIPv6;
    local.bytes = key.local;
    std::optional<uint16_t> vlan;
    if (key.vlan != dataplane::FlowKey::kUntagged) vlan = key.vlan;
    for (const auto& [name, interface] : policy.interfaces) {
      if (interface.vlan != vlan) continue;
      for (const rules::IpAddress& a : interface.addresses) {
        if (a == local) return name;
      }
    }
    return "";
  }

  void FlowJson(const rules::Policy& policy, size_t worker,
                const dataplane::FlowEntry& f, const std::string& interface,
                uint32_t now, JsonWriter& j) const {
    rules::IpAddress local, remote;
    local.family = remote.family = f.key.family == 4 ? rules::Family::kIPv4
                                                     : rules::Family::kIPv6;
    local.bytes = f.key.local;
    remote.bytes = f.key.remote;
    j.BeginObject();
    j.Field("worker", worker);
    j.Field("interface", interface);
    j.Field("protocol", rules::ProtocolName(f.key.protocol));
    j.Field("local", local.ToString());
    j.Field("local_port", f.key.local_port);
    j.Field("remote", remote.ToString());
    j.Field("remote_port", f.key.remote_port);
    if (f.key.vlan != dataplane::FlowKey::kUntagged) {
      j.Field("vlan", f.key.vlan);
    }
    j.Field("opened", f.opened_ingress ? "ingress" : "egress");
    j.Field("state", dataplane::FlowStateName(f.state));
    j.Field("untracked", static_cast<bool>(f.untracked));
    j.Field("generation", f.generation);
    // A rule id names a rule of its own generation's policy only.
    if (f.generation == generation_ && f.rule_id < policy.rules().size()) {
      const rules::RuleRef& ref = policy.rules()[f.rule_id];
      j.Field("rule", absl::StrCat(ref.group, "/",
                                   rules::DirectionName(ref.direction), "/",
                                   ref.index));
    }
    j.Field("packets_in", f.packets[0]);
    j.Field("packets_out", f.packets[1]);
    j.Field("bytes_in", f.bytes[0]);
    j.Field("bytes_out", f.bytes[1]);
    j.Field("expires_in_s", static_cast<int64_t>(
                                static_cast<int32_t>(f.expires_at - now)));
    j.EndObject();
  }

  // Every rule of the live policy with the flows it admitted.
  void RulesJson(JsonWriter& j) const {
    const CompiledTable* table = tables_->Current();
    const rules::Policy& policy = table->policy();
    j.Field("generation", generation_);
    j.Key("rules");
    j.BeginArray();
    for (uint32_t id = 0; id < policy.rules().size(); ++id) {
      const rules::RuleRef& ref = policy.rules()[id];
      const rules::Rule& rule = policy.rule(id);
      j.BeginObject();
      j.Field("id", id);
      j.Field("group", ref.group);
      j.Field("direction", rules::DirectionName(ref.direction));
      j.Field("index", ref.index);
      j.Field("rule", rule.Describe(ref.direction));
      j.Field("description", rule.description);
      j.Field("admitted", table->rule_counters().Admitted(id));
      j.EndObject();
    }
    j.EndArray();
  }

  // The counters summed over the workers, now.
  StatsSnapshot Snapshot() const {
    StatsSnapshot s;
    s.generation = generation_;
    s.reloads_rejected = reloads_rejected_;
    s.last_grace_period_us =
        tables_ ? tables_->last_grace_period().count() / 1000 : 0;
    s.tsc_hz = rte_get_tsc_hz();
    s.tsc = rte_get_tsc_cycles();
    for (const dataplane::PortPairIds& p : pairs_) {
      for (uint16_t port : {p.inside, p.outside}) {
        StatsSnapshot::Port& sum = s.ports.emplace_back();
        sum.port = port;
        sum.name = dataplane::PortName(port);
        for (const auto& w : workers_) {
          sum.counters.rx_packets += w->port_counters(port).rx_packets;
          sum.counters.tx_packets += w->port_counters(port).tx_packets;
          sum.counters.rx_dropped += w->port_counters(port).rx_dropped;
        }
      }
    }
    for (size_t i = 0; i < workers_.size(); ++i) {
      const dataplane::EnforcerCounters& c = workers_[i]->counters();
      s.totals.received += c.received;
      s.totals.forwarded += c.forwarded;
      for (int r = 0; r < dataplane::kDropReasonCount; ++r) {
        s.totals.drops[r] += c.drops[r];
      }
      s.totals.icmp_errors_of_flows += c.icmp_errors_of_flows;
      s.totals.unknown_interface_passed += c.unknown_interface_passed;
      const dataplane::FlowTable::Counters& f = flows_[i]->counters();
      s.flows.created += f.created;
      s.flows.expired += f.expired;
      s.flows.removed += f.removed;
      s.flows.insert_failed += f.insert_failed;
      s.flows.active += f.active;
    }
    const CompiledTable* table = tables_ ? tables_->Current() : nullptr;
    if (table != nullptr) {
      const rules::Policy& policy = table->policy();
      for (uint32_t id = 0; id < policy.rules().size(); ++id) {
        uint64_t admitted = table->rule_counters().Admitted(id);
        if (admitted == 0) continue;
        const rules::RuleRef& ref = policy.rules()[id];
        s.rules_admitted.emplace_back(
            absl::StrCat(ref.group, "/", rules::DirectionName(ref.direction),
                         "/", ref.index),
            admitted);
      }
    }
    return s;
  }
  std::string StatsJson() const { return control::StatsJson(Snapshot()); }

  SgateOptions options_;
  ControlServer control_;
  FileWatch watch_;  // with --watch
  std::vector<dataplane::PortPairIds> pairs_;
  rte_mempool* pool_ = nullptr;
  std::unique_ptr<dataplane::Published<CompiledTable>> tables_;
  std::vector<void*> flow_memory_;
  std::vector<std::unique_ptr<dataplane::FlowTable>> flows_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<unsigned> lcores_;
  uint32_t generation_ = 0;
  uint64_t reloads_rejected_ = 0;
};

}  // namespace
}  // namespace sgate::control

int main(int argc, char** argv) {
  int consumed = rte_eal_init(argc, argv);
  if (consumed < 0) {
    rte_exit(EXIT_FAILURE, "EAL initialisation failed: %s\n",
             rte_strerror(rte_errno));
  }
  int logtype = rte_log_register_type_and_pick_level("sgate.control",
                                                     RTE_LOG_INFO);
  if (logtype >= 0) sgate::control::g_logtype = logtype;
  // rte_eal_init leaves the program name at argv[consumed]; sgate's own
  // options follow it.
  std::vector<std::string> args(argv + consumed + 1, argv + argc);
  absl::StatusOr<sgate::control::SgateOptions> options =
      sgate::control::ParseSgateOptions(args);
  if (!options.ok()) {
    std::fprintf(stderr, "sgate: %s", std::string(options.status().message()).c_str());
    rte_eal_cleanup();
    return 2;
  }
  std::signal(SIGINT, sgate::control::OnSignal);
  std::signal(SIGTERM, sgate::control::OnSignal);
  std::signal(SIGHUP, sgate::control::OnSignal);

  sgate::control::Sgate sgate(*std::move(options));
  absl::Status started = sgate.Start();
  if (!started.ok()) {
    sgate::control::g_stop = true;
    rte_eal_mp_wait_lcore();
    rte_exit(EXIT_FAILURE, "%s\n", std::string(started.message()).c_str());
  }
  sgate.Run();
  sgate.Stop();
  rte_eal_cleanup();
  return 0;
}
