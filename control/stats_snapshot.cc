#include "control/stats_snapshot.h"

#include "control/json_writer.h"

namespace sgate::control {

std::string StatsJson(const StatsSnapshot& s) {
  JsonWriter j;
  j.BeginObject();
  j.Field("generation", s.generation);
  j.Field("reloads_rejected", s.reloads_rejected);
  j.Field("last_grace_period_us", s.last_grace_period_us);
  j.Field("tsc_hz", s.tsc_hz);
  j.Field("tsc", s.tsc);
  j.Key("ports");
  j.BeginArray();
  for (const StatsSnapshot::Port& p : s.ports) {
    j.BeginObject();
    j.Field("port", p.port);
    j.Field("name", p.name);
    j.Field("rx_packets", p.counters.rx_packets);
    j.Field("tx_packets", p.counters.tx_packets);
    j.Field("rx_dropped", p.counters.rx_dropped);
    j.EndObject();
  }
  j.EndArray();
  j.Field("received", s.totals.received);
  j.Field("forwarded", s.totals.forwarded);
  j.Key("drops");
  j.BeginObject();
  for (int r = dataplane::kFirstDropReason; r < dataplane::kDropReasonCount;
       ++r) {
    j.Field(dataplane::DropReasonName(static_cast<dataplane::DropReason>(r)),
            s.totals.drops[r]);
  }
  j.EndObject();
  j.Field("icmp_errors_of_flows", s.totals.icmp_errors_of_flows);
  j.Field("unknown_interface_passed", s.totals.unknown_interface_passed);
  j.Key("rules_admitted");
  j.BeginObject();
  for (const auto& [rule, admitted] : s.rules_admitted) {
    j.Field(rule, admitted);
  }
  j.EndObject();
  j.Key("flows");
  j.BeginObject();
  j.Field("active", s.flows.active);
  j.Field("created", s.flows.created);
  j.Field("expired", s.flows.expired);
  j.Field("removed", s.flows.removed);
  j.Field("insert_failed", s.flows.insert_failed);
  j.EndObject();
  j.EndObject();
  return j.str();
}

}  // namespace sgate::control
