#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "control/stats_snapshot.h"
#include "prometheus/metric_family.h"

namespace prometheus {
class Exposer;
class Collectable;
}  // namespace prometheus

namespace sgate::control {

// The metric families of one snapshot, named by Prometheus' conventions
// and derived from the counter lists (dataplane/counter_list.h), so a
// counter added there appears here too:
//   sgate_packets_<counter>_total      the packet counters
//   sgate_packets_dropped_total{reason}  every drop reason
//   sgate_flows_<counter>[_total]      the flow tables (active: a gauge)
//   sgate_flow_log_<counter>_total     the flow-log writer
//   sgate_port_<counter>_total{port,name}
//   sgate_interface_flows{interface}   tracked flows (gauge), and
//   sgate_interface_max_flows{interface}  its cap, if it has one
//   sgate_interface_packets_dropped_total{interface,reason}  the drops
//       charged to an interface (interface_flow_cap, spoofed_source)
//   sgate_interface_<counter>_total{interface}  the other interface ones
//   sgate_rule_flows_admitted_total{group,direction,index}  per rule, live
//       generation (restarts with each: Prometheus reads a reset)
//   sgate_policy_generation, sgate_reloads_total{result},
//   sgate_reload_grace_period_seconds
std::vector<prometheus::MetricFamily> MetricFamilies(const StatsSnapshot& s);

// `sgate --metrics ADDR:PORT`: serves /metrics in the Prometheus text
// format (prometheus-cpp's exposer, on threads of its own) from the latest
// snapshot the control loop published (control/latest_stats.h): a scrape
// never touches the workers.
class MetricsServer {
 public:
  // Listens on `address`: "127.0.0.1:9100", "[::1]:9100", "0.0.0.0:9100";
  // port 0 picks a free one. An error names the option and the reason
  // (an address in use, ...).
  static absl::StatusOr<std::unique_ptr<MetricsServer>> Start(
      const std::string& address);
  ~MetricsServer();

  // The port it listens on.
  int port() const { return port_; }

 private:
  MetricsServer() = default;

  std::shared_ptr<prometheus::Collectable> collectable_;
  std::unique_ptr<prometheus::Exposer> exposer_;
  int port_ = 0;
};

}  // namespace sgate::control
