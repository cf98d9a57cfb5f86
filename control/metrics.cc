#include "control/metrics.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <map>

#include "absl/strings/str_cat.h"
#include "control/latest_stats.h"
#include "dataplane/drop_reason.h"
#include "prometheus/collectable.h"
#include "prometheus/exposer.h"

namespace sgate::control {
namespace {

using dataplane::CounterKind;
using dataplane::CounterSection;
using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

// Families by name, in the order first seen, so that a family with a label
// (drops by reason) gathers its samples from several list entries.
class Families {
 public:
  // The family `name` (created with `help` and `kind` the first time).
  MetricFamily& Get(const std::string& name, const std::string& help,
                    CounterKind kind) {
    auto [it, added] = index_.try_emplace(name, families_.size());
    if (added) {
      MetricFamily& f = families_.emplace_back();
      f.name = name;
      f.help = help;
      f.type = kind == CounterKind::kGauge ? MetricType::Gauge
                                           : MetricType::Counter;
    }
    return families_[it->second];
  }
  // One sample of family `name`.
  void Add(const std::string& name, const std::string& help, CounterKind kind,
           std::vector<ClientMetric::Label> labels, double value) {
    MetricFamily& f = Get(name, help, kind);
    ClientMetric& m = f.metric.emplace_back();
    m.label = std::move(labels);
    if (f.type == MetricType::Gauge) {
      m.gauge.value = value;
    } else {
      m.counter.value = value;
    }
  }
  std::vector<MetricFamily> Take() { return std::move(families_); }

 private:
  std::map<std::string, size_t> index_;
  std::vector<MetricFamily> families_;
};

// "sgate_<prefix>_<counter>", with "_total" for a counter.
std::string Name(const char* prefix, const char* counter, CounterKind kind) {
  return absl::StrCat("sgate_", prefix, "_", counter,
                      kind == CounterKind::kCounter ? "_total" : "");
}

bool IsDropReason(const char* name) {
  return dataplane::CounterIndex(CounterSection::kDrops, name) !=
         dataplane::kCounterCount;
}

constexpr char kDroppedHelp[] =
    "packets dropped, by reason (every dropped packet has one)";

class SnapshotCollectable : public prometheus::Collectable {
 public:
  std::vector<MetricFamily> Collect() const override {
    return MetricFamilies(LatestStats());
  }
};

// Binds `address` ("IPv4:PORT" or "[IPv6]:PORT") and lets it go, so that a
// mistake is reported as the system names it ("Address already in use")
// rather than as the web server's generic failure.
absl::Status CheckCanListen(const std::string& address) {
  auto bad = [&](const std::string& why) {
    return absl::InvalidArgumentError(
        absl::StrCat("--metrics ", address, ": ", why));
  };
  size_t colon = address.rfind(':');
  if (colon == std::string::npos) return bad("expected ADDRESS:PORT");
  std::string host = address.substr(0, colon);
  int port = 0;
  try {
    size_t used = 0;
    port = std::stoi(address.substr(colon + 1), &used);
    if (used != address.size() - colon - 1 || port < 0 || port > 65535) {
      return bad("the port is not a number from 0 to 65535");
    }
  } catch (const std::exception&) {
    return bad("the port is not a number from 0 to 65535");
  }
  sockaddr_storage storage{};
  socklen_t length = 0;
  int family = AF_INET;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    family = AF_INET6;
    auto* a = reinterpret_cast<sockaddr_in6*>(&storage);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(static_cast<uint16_t>(port));
    if (inet_pton(AF_INET6, host.substr(1, host.size() - 2).c_str(),
                  &a->sin6_addr) != 1) {
      return bad("not an IPv6 address in brackets");
    }
    length = sizeof(*a);
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&storage);
    a->sin_family = AF_INET;
    a->sin_port = htons(static_cast<uint16_t>(port));
    if (inet_pton(AF_INET, host.c_str(), &a->sin_addr) != 1) {
      return bad("expected an IPv4 address or [an IPv6 one] before the port");
    }
    length = sizeof(*a);
  }
  int fd = socket(family, SOCK_STREAM, 0);
  if (fd < 0) return bad(std::strerror(errno));
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  int bound = bind(fd, reinterpret_cast<sockaddr*>(&storage), length);
  int bind_errno = errno;
  close(fd);
  if (bound != 0) {
    return bad(absl::StrCat("cannot listen: ", std::strerror(bind_errno)));
  }
  return absl::OkStatus();
}

}  // namespace

std::vector<MetricFamily> MetricFamilies(const StatsSnapshot& s) {
  Families out;
  out.Add("sgate_policy_generation",
          "the live policy generation (one per good policy)",
          CounterKind::kGauge, {}, s.generation);
  out.Add("sgate_reloads_total", "policies published after the first, by "
          "result (rejected: refused, the live policy stays)",
          CounterKind::kCounter, {{"result", "accepted"}},
          s.generation > 0 ? s.generation - 1 : 0);
  out.Add("sgate_reloads_total", "", CounterKind::kCounter,
          {{"result", "rejected"}}, static_cast<double>(s.reloads_rejected));
  out.Add("sgate_reload_grace_period_seconds",
          "how long the last reload waited for every worker to leave the "
          "old table",
          CounterKind::kGauge, {}, s.last_grace_period_us / 1e6);

  for (size_t i = 0; i < dataplane::kCounterCount; ++i) {
    const dataplane::CounterInfo& c = dataplane::kCounterList[i];
    const double value = static_cast<double>(s.counters[i]);
    switch (c.section) {
      case CounterSection::kPackets:
        out.Add(Name("packets", c.name, c.kind), c.help, c.kind, {}, value);
        break;
      case CounterSection::kDrops:
        out.Add("sgate_packets_dropped_total", kDroppedHelp, c.kind,
                {{"reason", c.name}}, value);
        break;
      case CounterSection::kFlows:
        out.Add(Name("flows", c.name, c.kind), c.help, c.kind, {}, value);
        break;
      case CounterSection::kFlowLogs:
        out.Add(Name("flow_log", c.name, c.kind), c.help, c.kind, {}, value);
        break;
    }
  }
  for (const StatsSnapshot::Port& p : s.ports) {
    for (size_t i = 0; i < dataplane::kPortCounterCount; ++i) {
      const dataplane::ObjectCounterInfo& c = dataplane::kPortCounterList[i];
      out.Add(Name("port", c.name, c.kind), c.help, c.kind,
              {{"port", absl::StrCat(p.port)}, {"name", p.name}},
              static_cast<double>(p.counters[i]));
    }
  }
  for (const StatsSnapshot::Interface& interface : s.interfaces) {
    for (size_t i = 0; i < dataplane::kInterfaceCounterCount; ++i) {
      const dataplane::ObjectCounterInfo& c =
          dataplane::kInterfaceCounterList[i];
      const double value = static_cast<double>(interface.counters[i]);
      if (IsDropReason(c.name)) {
        out.Add("sgate_interface_packets_dropped_total",
                "packets dropped and charged to an interface, by reason",
                c.kind, {{"interface", interface.name}, {"reason", c.name}},
                value);
      } else {
        out.Add(Name("interface", c.name, c.kind), c.help, c.kind,
                {{"interface", interface.name}}, value);
      }
    }
    if (interface.max_flows) {
      out.Add("sgate_interface_max_flows",
              "the interface's cap on tracked flows on this node",
              CounterKind::kGauge, {{"interface", interface.name}},
              *interface.max_flows);
    }
  }
  for (const StatsSnapshot::RuleAdmitted& rule : s.rules_admitted) {
    out.Add("sgate_rule_flows_admitted_total",
            "flows admitted by each rule under the live generation",
            CounterKind::kCounter,
            {{"group", rule.group},
             {"direction", std::string(rules::DirectionName(rule.direction))},
             {"index", absl::StrCat(rule.index)}},
            static_cast<double>(rule.admitted));
  }
  return out.Take();
}

absl::StatusOr<std::unique_ptr<MetricsServer>> MetricsServer::Start(
    const std::string& address) {
  if (absl::Status s = CheckCanListen(address); !s.ok()) return s;
  std::unique_ptr<MetricsServer> server(new MetricsServer());
  try {
    // One thread: Prometheus scrapes every few seconds, and each scrape
    // only copies the latest snapshot.
    server->exposer_ = std::make_unique<prometheus::Exposer>(address, 1);
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat(
        "--metrics ", address, ": cannot listen: ", e.what()));
  }
  server->collectable_ = std::make_shared<SnapshotCollectable>();
  server->exposer_->RegisterCollectable(server->collectable_);
  std::vector<int> ports = server->exposer_->GetListeningPorts();
  server->port_ = ports.empty() ? 0 : ports[0];
  return server;
}

MetricsServer::~MetricsServer() = default;

}  // namespace sgate::control
