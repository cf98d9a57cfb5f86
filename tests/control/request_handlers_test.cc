#include "control/request_handlers.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "control/commands.h"
#include "dataplane/enforcer.h"
#include "dataplane/reference_table.h"
#include "rules/policy_loader.h"
#include "tests/support/packet_keys.h"
#include "yaml-cpp/yaml.h"

namespace sgate::control {
namespace {

using ::testing::HasSubstr;

constexpr char kPolicy[] = R"(version: 1
security_groups:
  sg-web:
    ingress:
      - {protocol: tcp, ports: 22, cidr: 203.0.113.0/24, description: ssh}
      - {protocol: icmp, icmp_type: 8, cidr: 203.0.113.0/24}
interfaces:
  eni-web: {addresses: [198.51.100.10], security_groups: [sg-web]}
  eni-db: {addresses: [198.51.100.20], vlan: 7}
)";

rules::IpAddress Ip(const char* text) { return *rules::ParseIpAddress(text); }

// A DataplaneView over rules::Reference, with canned counters and flows:
// the handlers need nothing else (no EAL, no socket, no workers).
class FakeDataplane final : public DataplaneView {
 public:
  explicit FakeDataplane(const char* policy = kPolicy)
      : table_(*rules::LoadPolicyString(policy), "", /*generation=*/4) {}

  uint32_t generation() const override { return table_.generation(); }
  const rules::Policy& policy() const override { return table_.policy(); }
  dataplane::Explanation Explain(const rules::PacketKey& packet,
                                 absl::string_view name) const override {
    return table_.Explain(packet, name);
  }
  uint64_t Admitted(uint32_t rule_id) const override { return 10 + rule_id; }
  uint64_t NamesMatched(uint32_t domain_id) const override {
    return 100 + domain_id;
  }
  StatsSnapshot Stats() const override { return stats; }
  absl::Status Reload() override { return reload_result; }
  uint32_t FlowClock() const override { return 1000; }
  absl::StatusOr<std::optional<FoundFlow>> FindFlow(
      const dataplane::FlowKey& key) override {
    asked.push_back(key);
    if (!workers_answer) return absl::DeadlineExceededError("stuck");
    for (uint32_t w = 0; w < flows.size(); ++w) {
      for (const ListedFlow& f : flows[w]) {
        if (f.entry.key == key) return FoundFlow{w, f.entry, f.name};
      }
    }
    return std::nullopt;
  }
  absl::StatusOr<std::vector<std::vector<ListedFlow>>> ListFlows(
      uint32_t limit) override {
    last_limit = limit;
    if (!workers_answer) {
      return absl::DeadlineExceededError("a worker did not answer");
    }
    return flows;
  }

  StatsSnapshot stats;
  absl::Status reload_result;
  bool workers_answer = true;
  std::vector<std::vector<ListedFlow>> flows;
  std::vector<dataplane::FlowKey> asked;
  uint32_t last_limit = 0;

 private:
  dataplane::ReferenceTable table_;
};

// sg-web's ssh rule.
uint32_t SshRule(const DataplaneView& dataplane) {
  return dataplane.policy().security_groups.at("sg-web").ingress.at(0).id;
}

// A live tcp flow that `packet` opened from `client_port`, in generation 4.
dataplane::FlowRecord TcpFlow(const rules::PacketKey& packet,
                             uint16_t client_port) {
  dataplane::FlowRecord f;
  f.key = dataplane::Enforcer::KeyOf(packet, client_port);
  f.opened_ingress = packet.direction == rules::Direction::kIngress;
  f.generation = 4;
  return f;
}

// A tracked ssh flow into eni-web, admitted by `rule_id` in generation 4.
dataplane::FlowRecord SshFlow(uint16_t client_port, uint32_t rule_id) {
  rules::PacketKey packet;
  packet.direction = rules::Direction::kIngress;
  packet.local = Ip("198.51.100.10");
  packet.remote = Ip("203.0.113.9");
  packet.protocol = rules::kProtocolTcp;
  packet.dst_port = 22;
  dataplane::FlowRecord f = TcpFlow(packet, client_port);
  f.state = dataplane::FlowState::kTcpEstablished;
  f.rule_id = rule_id;
  f.packets[0] = 5;
  f.packets[1] = 3;
  f.expires_at = 1030;
  return f;
}

YAML::Node Reply(DataplaneView& dataplane, const std::string& request) {
  std::string reply = ServeRequest(dataplane, request);
  EXPECT_EQ(reply.find('\n'), std::string::npos) << "one line: " << reply;
  return YAML::Load(reply);
}

TEST(RequestHandlersTest, StatsCarryTheStableKeysAndValues) {
  FakeDataplane dataplane;
  dataplane.stats.generation = 4;
  StatsSnapshot::Port& port = dataplane.stats.ports.emplace_back();
  port.port = 1;
  port.name = "net_null1";
  port.counters = {7, 6, 1};
  dataplane.stats.counters[dataplane::CounterIndex(
      dataplane::CounterSection::kPackets, "received")] = 7;
  dataplane.stats.counters[dataplane::CounterIndex(
      dataplane::CounterSection::kDrops, "no_rule_matched")] = 1;
  dataplane.stats.counters[dataplane::CounterIndex(
      dataplane::CounterSection::kFlows, "created")] = 2;
  YAML::Node s = Reply(dataplane, "stats");
  // DESIGN.md §6's names.
  EXPECT_EQ(s["generation"].as<int>(), 4);
  EXPECT_EQ(s["ports"][0]["port"].as<int>(), 1);
  EXPECT_EQ(s["ports"][0]["rx_packets"].as<int>(), 7);
  EXPECT_EQ(s["ports"][0]["tx_packets"].as<int>(), 6);
  EXPECT_EQ(s["ports"][0]["rx_dropped"].as<int>(), 1);
  EXPECT_EQ(s["received"].as<int>(), 7);
  EXPECT_EQ(s["forwarded"].as<int>(), 0);
  EXPECT_EQ(s["drops"]["no_rule_matched"].as<int>(), 1);
  EXPECT_EQ(s["flows"]["created"].as<int>(), 2);
  for (const char* key : {"active", "expired", "insert_failed"}) {
    EXPECT_TRUE(s["flows"][key].IsScalar()) << key;
  }
}

TEST(RequestHandlersTest, GenerationAndReload) {
  FakeDataplane dataplane;
  EXPECT_EQ(Reply(dataplane, "generation")["generation"].as<int>(), 4);
  YAML::Node ok = Reply(dataplane, "reload");
  EXPECT_FALSE(ok["error"]);
  dataplane.reload_result =
      absl::InvalidArgumentError("policy.yaml:1:10: version: 2 is not "
                                 "supported; expected 1");
  YAML::Node refused = Reply(dataplane, "reload");
  EXPECT_EQ(refused["generation"].as<int>(), 4);
  EXPECT_THAT(refused["error"].as<std::string>(),
              HasSubstr("policy.yaml:1:10"));
}

TEST(RequestHandlersTest, RulesListEveryRuleWithItsAdmissions) {
  FakeDataplane dataplane;
  YAML::Node r = Reply(dataplane, "rules");
  const rules::Policy& policy = dataplane.policy();
  ASSERT_EQ(r["rules"].size(), policy.rules().size());
  for (uint32_t id = 0; id < policy.rules().size(); ++id) {
    const YAML::Node rule = r["rules"][id];
    EXPECT_EQ(rule["id"].as<uint32_t>(), id);
    EXPECT_EQ(rule["group"].as<std::string>(), policy.rules()[id].group);
    EXPECT_EQ(rule["admitted"].as<uint64_t>(), 10u + id);
  }
  EXPECT_EQ(r["rules"][0]["rule"].as<std::string>(),
            policy.rule(0).Describe(rules::Direction::kIngress));
}

TEST(RequestHandlersTest, TraceNamesInterfaceRuleAndFlow) {
  FakeDataplane dataplane;
  dataplane.flows = {{}, {{SshFlow(41000, SshRule(dataplane)), ""}}};
  YAML::Node t =
      Reply(dataplane, "trace in 198.51.100.10 203.0.113.9 tcp 22 sport=41000");
  EXPECT_EQ(t["verdict"].as<std::string>(), "allow");
  EXPECT_EQ(t["decision"].as<std::string>(), "allowed_by_rule");
  EXPECT_EQ(t["interface"].as<std::string>(), "eni-web");
  EXPECT_EQ(t["rule"]["group"].as<std::string>(), "sg-web");
  EXPECT_EQ(t["rule"]["index"].as<int>(), 0);
  EXPECT_EQ(t["rule"]["description"].as<std::string>(), "ssh");
  EXPECT_TRUE(t["flow"]["exists"].as<bool>());
  EXPECT_EQ(t["flow"]["worker"].as<int>(), 1);
  EXPECT_EQ(t["flow"]["packets_in"].as<int>(), 5);

  // Another source port: the workers were asked and have no such flow.
  YAML::Node other =
      Reply(dataplane, "trace in 198.51.100.10 203.0.113.9 tcp 22 sport=41001");
  EXPECT_FALSE(other["flow"]["exists"].as<bool>());

  // Without the source port the flow is unknown: nobody is asked.
  dataplane.asked.clear();
  YAML::Node unknown =
      Reply(dataplane, "trace in 198.51.100.10 203.0.113.9 tcp 22");
  EXPECT_TRUE(unknown["flow"].IsNull());
  EXPECT_TRUE(dataplane.asked.empty());
}

TEST(RequestHandlersTest, TraceDeniedUnknownAndVlan) {
  FakeDataplane dataplane;
  YAML::Node denied =
      Reply(dataplane, "trace in 198.51.100.10 192.0.2.1 tcp 22");
  EXPECT_EQ(denied["verdict"].as<std::string>(), "deny");
  EXPECT_EQ(denied["decision"].as<std::string>(), "no_rule_matched");
  EXPECT_FALSE(denied["rule"]);
  YAML::Node unknown = Reply(dataplane, "trace in 192.0.2.50 192.0.2.1 udp 53");
  EXPECT_TRUE(unknown["interface"].IsNull());
  EXPECT_EQ(unknown["decision"].as<std::string>(), "unknown_interface_dropped");
  // eni-db lives in VLAN 7 only.
  EXPECT_EQ(Reply(dataplane, "trace out 198.51.100.20 192.0.2.1 udp 53 vlan=7")
                ["interface"].as<std::string>(),
            "eni-db");
  EXPECT_TRUE(Reply(dataplane, "trace out 198.51.100.20 192.0.2.1 udp 53")
                  ["interface"].IsNull());
}

TEST(RequestHandlersTest, TraceOfAnEchoAsksNoWorker) {
  // An echo's flow is keyed by its identifier, which trace does not take;
  // ICMPv6 echo (128) too, whatever the family of the type numbers.
  FakeDataplane dataplane;
  YAML::Node ping = Reply(dataplane, "trace in 198.51.100.10 203.0.113.9 icmp 8");
  EXPECT_EQ(ping["verdict"].as<std::string>(), "allow");
  EXPECT_TRUE(ping["flow"].IsNull());
  EXPECT_TRUE(dataplane.asked.empty());
  // ICMP type 128 is no echo in IPv4: the workers are asked.
  Reply(dataplane, "trace in 198.51.100.10 203.0.113.9 icmp 128");
  EXPECT_EQ(dataplane.asked.size(), 1u);
}

TEST(RequestHandlersTest, TraceRefusesBadRequests) {
  FakeDataplane dataplane;
  EXPECT_THAT(Reply(dataplane, "trace sideways 1.2.3.4")["error"]
                  .as<std::string>(),
              HasSubstr("expected trace in|out"));
  EXPECT_THAT(Reply(dataplane, "trace in 198.51.100.10 203.0.113.9 tcp 22 "
                               "vlan=5000")["error"]
                  .as<std::string>(),
              HasSubstr("vlan= expects 0 to 4095"));
  EXPECT_TRUE(Reply(dataplane, "trace in 198.51.100.10 203.0.113.9 tcp")
                  ["error"]);
}

TEST(RequestHandlersTest, FlowsNameTheirInterfaceAndRule) {
  FakeDataplane dataplane;
  const uint32_t ssh = SshRule(dataplane);
  dataplane.flows = {{{SshFlow(41000, ssh), ""}}, {{SshFlow(41001, ssh), ""}}};
  YAML::Node f = Reply(dataplane, "flows 50 ");
  EXPECT_EQ(dataplane.last_limit, 50u);
  ASSERT_EQ(f["flows"].size(), 2u);
  const YAML::Node first = f["flows"][0];
  EXPECT_EQ(first["worker"].as<int>(), 0);
  EXPECT_EQ(first["interface"].as<std::string>(), "eni-web");
  EXPECT_EQ(first["protocol"].as<std::string>(), "tcp");
  EXPECT_EQ(first["local"].as<std::string>(), "198.51.100.10");
  EXPECT_EQ(first["local_port"].as<int>(), 22);
  EXPECT_EQ(first["remote_port"].as<int>(), 41000);
  EXPECT_EQ(first["opened"].as<std::string>(), "ingress");
  EXPECT_EQ(first["state"].as<std::string>(), "tcp_established");
  EXPECT_EQ(first["rule"].as<std::string>(), "sg-web/ingress/0");
  EXPECT_EQ(first["expires_in_s"].as<int>(), 30);
  EXPECT_EQ(f["flows"][1]["worker"].as<int>(), 1);

  EXPECT_EQ(Reply(dataplane, "flows 50 eni-db")["flows"].size(), 0u);
  EXPECT_EQ(Reply(dataplane, "flows 50 eni-web")["flows"].size(), 2u);
  EXPECT_TRUE(Reply(dataplane, "flows many")["error"]);
  dataplane.workers_answer = false;
  EXPECT_THAT(Reply(dataplane, "flows")["error"].as<std::string>(),
              HasSubstr("did not answer"));
}

// eni-app may reach https servers by name only.
constexpr char kNamedPolicy[] = R"(version: 1
security_groups:
  sg-app:
    egress:
      - {protocol: tcp, ports: 443, cidr: 0.0.0.0/0,
         domains: [api.github.com, "*.amazonaws.com"]}
interfaces:
  eni-app: {addresses: [198.51.100.30], security_groups: [sg-app]}
)";

TEST(RequestHandlersTest, TraceOfAFlowPendingAName) {
  FakeDataplane dataplane(kNamedPolicy);
  YAML::Node t = Reply(dataplane, "trace out 198.51.100.30 192.0.2.1 tcp 443");
  EXPECT_EQ(t["verdict"].as<std::string>(), "pending");
  EXPECT_EQ(t["decision"].as<std::string>(), "pending_name");
  ASSERT_EQ(t["name_rules"].size(), 1u);
  EXPECT_EQ(t["name_rules"][0]["group"].as<std::string>(), "sg-app");
  EXPECT_EQ(t["name_rules"][0]["domains"][1].as<std::string>(),
            "*.amazonaws.com");
  // With the name a client would ask for.
  YAML::Node named = Reply(dataplane,
                           "trace out 198.51.100.30 192.0.2.1 tcp 443 "
                           "sport=40000 name=s3.amazonaws.com");
  EXPECT_EQ(named["verdict"].as<std::string>(), "allow");
  EXPECT_EQ(named["name"].as<std::string>(), "s3.amazonaws.com");
  EXPECT_EQ(named["rule"]["domain"].as<std::string>(), "*.amazonaws.com");
  YAML::Node denied = Reply(dataplane,
                            "trace out 198.51.100.30 192.0.2.1 tcp 443 "
                            "name=evil.example");
  EXPECT_EQ(denied["verdict"].as<std::string>(), "deny");
  EXPECT_EQ(denied["decision"].as<std::string>(), "name_not_allowed");
}

TEST(RequestHandlersTest, RulesCountTheNamesMatched) {
  FakeDataplane dataplane(kNamedPolicy);
  YAML::Node r = Reply(dataplane, "rules");
  uint32_t id = dataplane.policy().security_groups.at("sg-app").egress[0].id;
  const YAML::Node domains = r["rules"][id]["domains"];
  ASSERT_EQ(domains.size(), 2u);
  EXPECT_EQ(domains[0]["name"].as<std::string>(), "api.github.com");
  EXPECT_EQ(domains[0]["matched"].as<int>(), 100);  // the fake's count
  EXPECT_EQ(domains[1]["matched"].as<int>(), 101);
}

TEST(RequestHandlersTest, FlowsShowNamesAndPendingState) {
  FakeDataplane dataplane(kNamedPolicy);
  const rules::PacketKey packet =
      testing::EgressKey("198.51.100.30", "192.0.2.1", 443);
  dataplane::FlowRecord pending = TcpFlow(packet, 40000);
  pending.name_check = dataplane::NameCheck::kPending;
  dataplane::FlowRecord named = TcpFlow(packet, 40001);
  named.named = true;
  dataplane::FlowRecord denied = TcpFlow(packet, 40002);
  denied.name_check = dataplane::NameCheck::kNotAllowed;
  dataplane.flows = {{{pending, ""},
                      {named, "api.github.com"},
                      {denied, "evil.example"}}};
  YAML::Node f = Reply(dataplane, "flows 10 ");
  ASSERT_EQ(f["flows"].size(), 3u);
  EXPECT_EQ(f["flows"][0]["name_check"].as<std::string>(), "pending");
  EXPECT_FALSE(f["flows"][0]["name"]);
  EXPECT_FALSE(f["flows"][1]["name_check"]);
  EXPECT_TRUE(f["flows"][1]["named"].as<bool>());
  EXPECT_EQ(f["flows"][1]["name"].as<std::string>(), "api.github.com");
  EXPECT_EQ(f["flows"][2]["name_check"].as<std::string>(), "not_allowed");
  EXPECT_EQ(f["flows"][2]["name"].as<std::string>(), "evil.example");
  // trace finds the pending flow and says so.
  YAML::Node t = Reply(dataplane,
                       "trace out 198.51.100.30 192.0.2.1 tcp 443 sport=40000");
  EXPECT_EQ(t["flow"]["name_check"].as<std::string>(), "pending");
}

TEST(CommandTableTest, OneTableForBothSides) {
  FakeDataplane dataplane;
  std::string usage = SgatectlUsage();
  std::vector<std::string> served;
  for (const CommandSpec& c : Commands()) {
    EXPECT_EQ(FindCommand(c.name), &c);
    EXPECT_THAT(usage, HasSubstr(absl::StrCat("\n  ", c.name)));
    EXPECT_NE(c.run, nullptr) << c.name;
    // Every command that asks a running sgate is served by it.
    if (c.source == CommandSpec::Source::kSgate) {
      EXPECT_NE(c.serve, nullptr) << c.name;
    }
    if (c.serve != nullptr) served.push_back(c.name);
  }
  EXPECT_EQ(FindCommand("nonsense"), nullptr);
  std::string error = Reply(dataplane, "nonsense")["error"].as<std::string>();
  EXPECT_THAT(error, HasSubstr("unknown command 'nonsense'"));
  for (const std::string& name : served) EXPECT_THAT(error, HasSubstr(name));
  EXPECT_THAT(Reply(dataplane, "check x")["error"].as<std::string>(),
              HasSubstr("unknown command 'check'"));
}

}  // namespace
}  // namespace sgate::control
