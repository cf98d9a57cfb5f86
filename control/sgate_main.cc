// sgate: the dataplane program (DESIGN.md §6).
//   sgate [EAL options] -- --policy FILE [--pair IN:OUT]... [--node NAME] ...
//   sgate [EAL options] -- --etcd URL --node NAME [--cache FILE] ...
// Start-up, the control loop and shutdown. The main lcore runs the control
// loop (signals, reloads, control requests, stats); Forwarding runs a
// worker on every other lcore; PolicyPublisher compiles and publishes the
// rule tables they read; the command table (commands.h) answers sgatectl.
// A fleet node's policies come from its FleetNode (control/FLEET.md).
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "control/commands.h"
#include "control/control_socket.h"
#include "control/dataplane_view.h"
#include "control/file_watch.h"
#include "control/flow_log_writer.h"
#include "control/fleet_node.h"
#include "control/forwarding.h"
#include "control/latest_stats.h"
#include "control/log.h"
#include "control/metrics.h"
#include "control/policy_publisher.h"
#include "control/sgate_options.h"
#include "control/stats_snapshot.h"
#include "control/telemetry.h"
#include "rules/policy_loader.h"
#include "rules/status_macros.h"

namespace sgate::control {
namespace {

std::atomic<bool> g_stop{false};
std::atomic<bool> g_reload{false};
std::atomic<bool> g_reopen{false};

void OnSignal(int signal) {
  if (signal == SIGHUP) {
    g_reload = true;
  } else if (signal == SIGUSR1) {
    g_reopen = true;  // logrotate's postrotate: reopen the flow log
  } else {
    g_stop = true;
  }
}

// Seconds on the workers' flow clock (FlowEntry::expires_at's).
uint32_t FlowSeconds() {
  return static_cast<uint32_t>(rte_get_tsc_cycles() / rte_get_tsc_hz());
}

// The running program: what the control socket's commands see of it is the
// DataplaneView, answered by the publisher (tables) and the forwarding
// side (ports, workers, flows).
class Sgate final : public DataplaneView {
 public:
  explicit Sgate(SgateOptions options)
      : options_(std::move(options)),
        // A dry run has no worker; the RCU state still wants one slot.
        publisher_(std::max(1u, Forwarding::WorkerCount()),
                   TableOptions(options_)),
        flow_log_(publisher_.slots(),
                  {.flow_seconds = FlowSeconds,
                   .unix_seconds = [] {
                     return static_cast<int64_t>(std::time(nullptr));
                   }}) {
    publisher_.AddConsumer(&flow_log_);
    // What still holds an interface's slot once it leaves the policy.
    publisher_.slots().set_hooks(
        {.flows = [this](uint16_t slot) { return forwarding_.FlowsOf(slot); },
         .mark = [this] { return flow_log_.Mark(); },
         .written_since =
             [this](uint64_t mark) { return flow_log_.WrittenSince(mark); },
         .reset =
             [this](uint16_t slot) {
               forwarding_.ResetSlot(slot);
               flow_log_.ResetSlot(slot);
             }});
  }

  // Everything up to launching the workers; a failure is fatal at start-up.
  absl::Status Start() {
    if (!publisher_.ok()) {
      return absl::ResourceExhaustedError("cannot allocate the RCU state");
    }
    if (options_.fleet()) {
      fleet_ = std::make_unique<FleetNode>(
          FleetNode::Options{.etcd = options_.etcd,
                             .node = options_.node,
                             .cache_path = options_.cache_path},
          publisher_);
      fleet_->Start();
    } else {
      SGATE_RETURN_IF_ERROR(publisher_.Publish(LoadPolicy()));
    }
    // The flow table is sized once, by the first policy (a fleet node
    // without one: --max-flows, or the settings' default).
    const uint32_t max_flows =
        publisher_.Live() != nullptr
            ? publisher_.Live()->policy().settings.max_flows
        : options_.max_flows != 0 ? options_.max_flows
                                  : rules::Settings().max_flows;
    if (!options_.dry_run) {
      SGATE_RETURN_IF_ERROR(forwarding_.Start(
          {.pairs = options_.pairs, .mbufs = options_.mbufs,
           .mbuf_size = options_.mbuf_size,
           .rss = !options_.no_rss, .max_flows = max_flows},
          publisher_.tables(), g_stop));
      flow_log_.Attach(forwarding_.FlowLogSources());
    }
    RegisterTelemetry();
    if (options_.metrics_address) {
      SGATE_ASSIGN_OR_RETURN(metrics_,
                             MetricsServer::Start(*options_.metrics_address));
      SGATE_LOG(INFO, "metrics on %s (port %d) at /metrics\n",
                options_.metrics_address->c_str(), metrics_->port());
    }
    if (options_.watch) {
      SGATE_RETURN_IF_ERROR(watch_.Watch(options_.policy_path));
    }
    if (absl::Status s = control_.Listen(options_.control_path); !s.ok()) {
      // sgate still forwards; only sgatectl cannot reach it.
      SGATE_LOG(WARNING, "no control socket: %s\n",
                std::string(s.message()).c_str());
    }
    const std::string source =
        options_.fleet()
            ? absl::StrCat("from etcd (node ", options_.node, ", revision ",
                           fleet_->applied_revision(), ")")
            : options_.policy_path;
    if (options_.dry_run) {
      SGATE_LOG(INFO, "dry run: compiling policies %s, forwarding nothing, "
                      "generation %u\n",
                source.c_str(), publisher_.generation());
    } else {
      SGATE_LOG(INFO, "forwarding with %u worker(s), %u flows each, policy "
                      "%s generation %u\n",
                Forwarding::WorkerCount(), forwarding_.flows_per_worker(),
                source.c_str(), publisher_.generation());
    }
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
      if (g_reopen.exchange(false)) flow_log_.Reopen();
      if (fleet_ != nullptr) fleet_->Poll();
      control_.Poll([this](absl::string_view request) {
        return ServeRequest(*this, request);
      });
      flow_log_.Poll(std::chrono::steady_clock::now());
      PublishLatestStats(Stats());
      if (options_.stats_interval_ms > 0 &&
          std::chrono::steady_clock::now() >= next_stats) {
        next_stats += std::chrono::milliseconds(options_.stats_interval_ms);
        PrintStats();
      }
    }
  }

  // Stops the workers, writes the flow-log interval in progress and
  // prints the totals; the ports close and the memory is freed when the
  // Sgate is destroyed.
  void Stop() {
    g_stop = true;
    if (fleet_ != nullptr) fleet_->Stop();  // the node leaves the list
    forwarding_.Stop();
    flow_log_.Stop();
    PrintStats();
  }

  // DataplaneView.
  uint32_t generation() const override { return publisher_.generation(); }
  // Before a fleet node's first policy there is no table: an empty policy,
  // and nothing is explained or admitted.
  const rules::Policy& policy() const override {
    static const rules::Policy kNone;
    return publisher_.Live() ? publisher_.Live()->policy() : kNone;
  }
  dataplane::Explanation Explain(const rules::PacketKey& packet,
                                 absl::string_view name) const override {
    return publisher_.Live() ? publisher_.Live()->Explain(packet, name)
                             : dataplane::Explanation{};
  }
  uint64_t Admitted(uint32_t rule_id) const override {
    return publisher_.Live()
               ? publisher_.Live()->rule_counters().Admitted(rule_id)
               : 0;
  }
  uint64_t NamesMatched(uint32_t domain_id) const override {
    return publisher_.Live()->name_counters().Admitted(domain_id);
  }
  StatsSnapshot Stats() const override {
    StatsSnapshot s;
    s.tsc_hz = rte_get_tsc_hz();
    s.tsc = rte_get_tsc_cycles();
    publisher_.AddTo(s);
    forwarding_.AddTo(s);
    flow_log_.AddTo(s);
    return s;
  }
  absl::Status Reload() override {
    if (options_.fleet()) {
      absl::Status refused = absl::FailedPreconditionError(
          "this sgate takes its policy from etcd (--etcd): change it with "
          "`sgatectl fleet push`");
      SGATE_LOG(WARNING, "reload: %s\n",
                std::string(refused.message()).c_str());
      return refused;
    }
    return publisher_.Publish(LoadPolicy());
  }
  uint32_t FlowClock() const override { return FlowSeconds(); }
  absl::StatusOr<std::optional<FoundFlow>> FindFlow(
      const dataplane::FlowKey& key) override {
    return forwarding_.FindFlow(key);
  }
  absl::StatusOr<std::vector<std::vector<ListedFlow>>> ListFlows(
      uint32_t limit) override {
    return forwarding_.ListFlows(limit);
  }

 private:
  static dataplane::LiveTable::Options TableOptions(const SgateOptions& options) {
    dataplane::LiveTable::Options table;
    table.compile.node = options.node;
    return table;
  }
  absl::StatusOr<rules::Policy> LoadPolicy() const {
    rules::LoadOptions load;
    load.aws_json_path = options_.aws_json_path;
    absl::StatusOr<rules::Policy> policy =
        rules::LoadPolicyFile(options_.policy_path, load);
    // --flow-log turns flow logs on, or moves them, whatever the file says.
    if (policy.ok() && options_.flow_log_path) {
      rules::FlowLogSettings& logs = policy->settings.flow_logs
                                         ? *policy->settings.flow_logs
                                         : policy->settings.flow_logs.emplace();
      logs.path = *options_.flow_log_path;
      logs.location = {"--flow-log", 0, 0};
    }
    return policy;
  }
  void PrintStats() const {
    std::printf("%s\n", StatsJson(Stats()).c_str());
    std::fflush(stdout);
  }

  SgateOptions options_;
  PolicyPublisher publisher_;
  Forwarding forwarding_;  // after publisher_: its workers read the tables
  FlowLogWriter flow_log_;  // reads the workers' queues and slots
  std::unique_ptr<MetricsServer> metrics_;  // with --metrics
  ControlServer control_;
  FileWatch watch_;  // with --watch

  std::unique_ptr<FleetNode> fleet_;  // with --etcd
};

}  // namespace
}  // namespace sgate::control

int main(int argc, char** argv) {
  int consumed = rte_eal_init(argc, argv);
  if (consumed < 0) {
    rte_exit(EXIT_FAILURE, "EAL initialisation failed: %s\n",
             rte_strerror(rte_errno));
  }
  // rte_eal_init leaves the program name at argv[consumed]; sgate's own
  // options follow it.
  std::vector<std::string> args(argv + consumed + 1, argv + argc);
  absl::StatusOr<sgate::control::SgateOptions> options =
      sgate::control::ParseSgateOptions(args);
  if (!options.ok()) {
    std::fprintf(stderr, "sgate: %s",
                 std::string(options.status().message()).c_str());
    rte_eal_cleanup();
    return 2;
  }
  std::signal(SIGINT, sgate::control::OnSignal);
  std::signal(SIGTERM, sgate::control::OnSignal);
  std::signal(SIGHUP, sgate::control::OnSignal);
  std::signal(SIGUSR1, sgate::control::OnSignal);

  {
    sgate::control::Sgate sgate(*std::move(options));
    absl::Status started = sgate.Start();
    if (!started.ok()) {
      sgate::control::g_stop = true;
      rte_eal_mp_wait_lcore();
      rte_exit(EXIT_FAILURE, "%s\n", std::string(started.message()).c_str());
    }
    sgate.Run();
    sgate.Stop();
  }
  rte_eal_cleanup();
  return 0;
}
