#include "control/request_handlers.h"

#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "control/json_writer.h"
#include "control/trace_packet.h"
#include "dataplane/conntrack.h"
#include "dataplane/enforcer.h"
#include "rules/protocol.h"

namespace sgate::control {
namespace {

using dataplane::FlowRecord;
using dataplane::FlowKey;

// "group/direction/index": how replies name a rule in one word.
std::string RuleName(const rules::Policy& policy, uint32_t rule_id) {
  const rules::RuleRef& ref = policy.rules()[rule_id];
  return absl::StrCat(ref.group, "/", rules::DirectionName(ref.direction), "/",
                      ref.index);
}

// The rule's identity and text, as trace and rules show it.
void RuleFields(const rules::Policy& policy, uint32_t rule_id, JsonWriter& j) {
  const rules::RuleRef& ref = policy.rules()[rule_id];
  const rules::Rule& rule = policy.rule(rule_id);
  j.Field("id", rule_id);
  j.Field("group", ref.group);
  j.Field("direction", rules::DirectionName(ref.direction));
  j.Field("index", ref.index);
  j.Field("rule", rule.Describe(ref.direction));
  j.Field("description", rule.description);
}

// The packet key of a flow's interface side, enough for the table to name
// the interface that owns it.
rules::PacketKey InterfaceKeyOf(const FlowRecord& f) {
  rules::PacketKey key;
  key.direction = f.opened_ingress ? rules::Direction::kIngress
                                   : rules::Direction::kEgress;
  key.local = rules::IpAddress{f.key.family, f.key.local};
  key.remote = rules::IpAddress{f.key.family, f.key.remote};
  if (f.key.vlan != FlowKey::kUntagged) key.vlan = f.key.vlan;
  key.protocol = f.key.protocol;
  return key;
}

// A flow's standing with names (README.md, "Domain rules"): pending or
// denied, admitted by a name, and the name that decided it if known.
void NameFields(const FlowRecord& f, absl::string_view name, JsonWriter& j) {
  if (f.name_check != dataplane::NameCheck::kNone) {
    j.Field("name_check", dataplane::NameCheckName(f.name_check));
  }
  if (f.named) j.Field("named", true);
  if (!name.empty()) j.Field("name", name);
}

// Whether the traced packet's flow exists, asked of every worker (the flow
// lives on one; each looks in its own table). Null when the key is
// incomplete — tcp/udp without the source port, an ICMP echo (its id) —
// or when a worker does not answer.
void TracedFlowJson(DataplaneView& dataplane, const rules::PacketKey& packet,
                    std::optional<uint16_t> sport, JsonWriter& j) {
  j.Key("flow");
  bool echo = rules::HasIcmpFields(packet.protocol) &&
              rules::IsIcmpEcho(packet.local.family, packet.icmp_type);
  if ((rules::HasPorts(packet.protocol) && !sport) || echo) {
    j.Null();
    return;
  }
  absl::StatusOr<std::optional<DataplaneView::FoundFlow>> found =
      dataplane.FindFlow(dataplane::Enforcer::KeyOf(packet, sport.value_or(0)));
  if (!found.ok()) {
    j.Null();
    return;
  }
  j.BeginObject();
  j.Field("exists", found->has_value());
  if (found->has_value()) {
    const FlowRecord& f = (*found)->entry;
    j.Field("worker", (*found)->worker);
    j.Field("state", dataplane::FlowStateName(f.state));
    NameFields(f, (*found)->name, j);
    j.Field("packets_in", f.packets[0]);
    j.Field("packets_out", f.packets[1]);
  }
  j.EndObject();
}

void FlowJson(const rules::Policy& policy, uint32_t generation,
              uint32_t worker, const DataplaneView::ListedFlow& listed,
              const std::string& interface, uint32_t now, JsonWriter& j) {
  const FlowRecord& f = listed.entry;
  j.BeginObject();
  j.Field("worker", worker);
  j.Field("interface", interface);
  j.Field("protocol", rules::ProtocolName(f.key.protocol));
  j.Field("local", rules::IpAddress{f.key.family, f.key.local}.ToString());
  j.Field("local_port", f.key.local_port);
  j.Field("remote", rules::IpAddress{f.key.family, f.key.remote}.ToString());
  j.Field("remote_port", f.key.remote_port);
  if (f.key.vlan != FlowKey::kUntagged) j.Field("vlan", f.key.vlan);
  j.Field("opened", f.opened_ingress ? "ingress" : "egress");
  j.Field("state", dataplane::FlowStateName(f.state));
  NameFields(f, listed.name, j);
  j.Field("untracked", static_cast<bool>(f.untracked));
  j.Field("generation", f.generation);
  // A rule id names a rule of its own generation's policy only.
  if (f.generation == generation && f.rule_id < policy.rules().size()) {
    j.Field("rule", RuleName(policy, f.rule_id));
  }
  j.Field("packets_in", f.packets[0]);
  j.Field("packets_out", f.packets[1]);
  j.Field("bytes_in", f.bytes[0]);
  j.Field("bytes_out", f.bytes[1]);
  j.Field("expires_in_s",
          static_cast<int64_t>(static_cast<int32_t>(f.expires_at - now)));
  j.EndObject();
}

}  // namespace

std::string ErrorReply(absl::string_view message) {
  JsonWriter j;
  j.BeginObject();
  j.Field("error", message);
  j.EndObject();
  return j.str();
}

std::string ServeStats(DataplaneView& dataplane,
                       const std::vector<std::string>&) {
  return StatsJson(dataplane.Stats());
}

std::string ServeGeneration(DataplaneView& dataplane,
                            const std::vector<std::string>&) {
  JsonWriter j;
  j.BeginObject();
  j.Field("generation", dataplane.generation());
  j.EndObject();
  return j.str();
}

std::string ServeReload(DataplaneView& dataplane,
                        const std::vector<std::string>&) {
  absl::Status status = dataplane.Reload();
  JsonWriter j;
  j.BeginObject();
  j.Field("generation", dataplane.generation());
  if (!status.ok()) j.Field("error", status.message());
  j.EndObject();
  return j.str();
}

std::string ServeRules(DataplaneView& dataplane,
                       const std::vector<std::string>&) {
  const rules::Policy& policy = dataplane.policy();
  JsonWriter j;
  j.BeginObject();
  j.Field("generation", dataplane.generation());
  j.Key("rules");
  j.BeginArray();
  for (uint32_t id = 0; id < policy.rules().size(); ++id) {
    j.BeginObject();
    RuleFields(policy, id, j);
    j.Field("admitted", dataplane.Admitted(id));
    const rules::Rule& rule = policy.rule(id);
    if (rule.has_domains()) {
      // Flows each of its names admitted.
      j.Key("domains");
      j.BeginArray();
      for (uint32_t d = 0; d < rule.domains.size(); ++d) {
        j.BeginObject();
        j.Field("name", rule.domains[d]);
        j.Field("matched", dataplane.NamesMatched(rule.first_domain_id + d));
        j.EndObject();
      }
      j.EndArray();
    }
    j.EndObject();
  }
  j.EndArray();
  j.EndObject();
  return j.str();
}

std::string ServeTrace(DataplaneView& dataplane,
                       const std::vector<std::string>& request) {
  if (dataplane.generation() == 0) {
    return ErrorReply(
        "no policy yet: sgate drops every packet (no_policy) until one "
        "arrives");
  }
  std::vector<std::string> words = request;
  std::optional<uint16_t> vlan;
  std::optional<uint16_t> sport;
  std::string name;
  // Trailing "vlan=N", "sport=N" and "name=NAME", in any order.
  while (!words.empty() && (absl::StartsWith(words.back(), "vlan=") ||
                            absl::StartsWith(words.back(), "sport=") ||
                            absl::StartsWith(words.back(), "name="))) {
    if (absl::StartsWith(words.back(), "name=")) {
      name = words.back().substr(5);
      words.pop_back();
      continue;
    }
    bool is_vlan = absl::StartsWith(words.back(), "vlan=");
    uint32_t value = 0;
    if (!absl::SimpleAtoi(words.back().substr(is_vlan ? 5 : 6), &value) ||
        value > (is_vlan ? 4095u : 65535u)) {
      return ErrorReply(is_vlan ? "vlan= expects 0 to 4095"
                                : "sport= expects 0 to 65535");
    }
    (is_vlan ? vlan : sport) = static_cast<uint16_t>(value);
    words.pop_back();
  }
  if (words.size() < 2 || (words[1] != "in" && words[1] != "out")) {
    return ErrorReply("expected trace in|out LOCAL REMOTE PROTO [DETAIL]");
  }
  absl::StatusOr<rules::PacketKey> packet = ParseTracePacket(
      words[1] == "in" ? rules::Direction::kIngress
                       : rules::Direction::kEgress,
      vlan, std::vector<std::string>(words.begin() + 2, words.end()));
  if (!packet.ok()) return ErrorReply(packet.status().message());

  dataplane::Explanation e = dataplane.Explain(*packet, name);
  const rules::Policy& policy = dataplane.policy();
  JsonWriter j;
  j.BeginObject();
  j.Field("generation", dataplane.generation());
  j.Field("packet", DescribePacket(*packet));
  j.Field("verdict", VerdictName(e.decision));
  j.Field("decision", DecisionName(e.decision));
  if (!name.empty()) j.Field("name", name);
  j.Key("interface");
  if (e.interface.empty()) {
    j.Null();
  } else {
    j.String(e.interface);
  }
  TracedFlowJson(dataplane, *packet, sport, j);
  if (e.decision == rules::Decision::kAllowedByRule) {
    j.Key("rule");
    j.BeginObject();
    RuleFields(policy, e.rule_id, j);
    if (e.by_name) j.Field("domain", policy.domain(e.domain_id));
    j.EndObject();
  }
  if (!e.name_rules.empty()) {
    // The rules whose names decide the flow.
    j.Key("name_rules");
    j.BeginArray();
    for (uint32_t id : e.name_rules) {
      j.BeginObject();
      RuleFields(policy, id, j);
      j.Key("domains");
      j.BeginArray();
      for (const std::string& d : policy.rule(id).domains) j.String(d);
      j.EndArray();
      j.EndObject();
    }
    j.EndArray();
  }
  j.EndObject();
  return j.str();
}

std::string ServeFlows(DataplaneView& dataplane,
                       const std::vector<std::string>& words) {
  uint32_t limit = 100;
  if (words.size() > 1 && !absl::SimpleAtoi(words[1], &limit)) {
    return ErrorReply("expected flows [LIMIT] [INTERFACE]");
  }
  std::string only = words.size() > 2 ? words[2] : "";
  absl::StatusOr<std::vector<std::vector<DataplaneView::ListedFlow>>> flows =
      dataplane.ListFlows(limit);
  if (!flows.ok()) return ErrorReply(flows.status().message());
  const rules::Policy& policy = dataplane.policy();
  const uint32_t generation = dataplane.generation();
  const uint32_t now = dataplane.FlowClock();
  JsonWriter j;
  j.BeginObject();
  j.Field("generation", generation);
  j.Key("flows");
  j.BeginArray();
  for (uint32_t w = 0; w < flows->size(); ++w) {
    for (const DataplaneView::ListedFlow& f : (*flows)[w]) {
      std::string interface =
          dataplane.Explain(InterfaceKeyOf(f.entry), "").interface;
      if (!only.empty() && interface != only) continue;
      FlowJson(policy, generation, w, f, interface, now, j);
    }
  }
  j.EndArray();
  j.EndObject();
  return j.str();
}

}  // namespace sgate::control
