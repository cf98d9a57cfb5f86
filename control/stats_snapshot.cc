#include "control/stats_snapshot.h"

#include "absl/strings/str_cat.h"
#include "control/json_writer.h"

namespace sgate::control {

using dataplane::CounterSection;
using dataplane::kCounterList;

const char* SectionKey(CounterSection section) {
  switch (section) {
    case CounterSection::kPackets:
      return nullptr;
    case CounterSection::kDrops:
      return "drops";
    case CounterSection::kFlows:
      return "flows";
    case CounterSection::kFlowLogs:
      return "flow_logs";
  }
  return nullptr;
}

std::string StatsSnapshot::RuleAdmitted::Name() const {
  return absl::StrCat(group, "/", rules::DirectionName(direction), "/",
                      index);
}

uint64_t StatsSnapshot::Get(CounterSection section, const char* name) const {
  size_t i = dataplane::CounterIndex(section, name);
  return i < counters.size() ? counters[i] : 0;
}

std::string StatsJson(const StatsSnapshot& s) {
  JsonWriter j;
  j.BeginObject();
  j.Field("generation", s.generation);
  j.Field("reloads_rejected", s.reloads_rejected);
  j.Field("last_grace_period_us", s.last_grace_period_us);
  j.Field("last_build_us", s.last_build_us);
  j.Field("acl_contexts_built", s.acl_contexts_built);
  j.Field("acl_contexts_reused", s.acl_contexts_reused);
  j.Field("tsc_hz", s.tsc_hz);
  j.Field("tsc", s.tsc);
  j.Key("ports");
  j.BeginArray();
  for (const StatsSnapshot::Port& p : s.ports) {
    j.BeginObject();
    j.Field("port", p.port);
    j.Field("name", p.name);
    for (size_t i = 0; i < dataplane::kPortCounterCount; ++i) {
      j.Field(dataplane::kPortCounterList[i].name, p.counters[i]);
    }
    j.EndObject();
  }
  j.EndArray();
  // The list is grouped by section: open an object where one starts.
  for (size_t i = 0; i < kCounterList.size(); ++i) {
    CounterSection section = kCounterList[i].section;
    bool first = i == 0 || kCounterList[i - 1].section != section;
    bool last = i + 1 == kCounterList.size() ||
                kCounterList[i + 1].section != section;
    if (first && SectionKey(section) != nullptr) {
      j.Key(SectionKey(section));
      j.BeginObject();
    }
    j.Field(kCounterList[i].name, s.counters[i]);
    if (last && SectionKey(section) != nullptr) j.EndObject();
  }
  j.Key("rules_admitted");
  j.BeginObject();
  for (const StatsSnapshot::RuleAdmitted& rule : s.rules_admitted) {
    j.Field(rule.Name(), rule.admitted);
  }
  j.EndObject();
  j.Key("interfaces");
  j.BeginArray();
  for (const StatsSnapshot::Interface& i : s.interfaces) {
    j.BeginObject();
    j.Field("name", i.name);
    if (!i.live) j.Field("removed", true);
    if (i.max_flows) j.Field("max_flows", *i.max_flows);
    for (size_t c = 0; c < dataplane::kInterfaceCounterCount; ++c) {
      j.Field(dataplane::kInterfaceCounterList[c].name, i.counters[c]);
    }
    j.EndObject();
  }
  j.EndArray();
  j.EndObject();
  return j.str();
}

}  // namespace sgate::control
