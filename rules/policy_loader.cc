#include "rules/policy_loader.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "rules/aws_json.h"
#include "rules/domain_name.h"
#include "rules/yaml_reader.h"

namespace sgate::rules {
namespace {

// Upper bounds of the settings, each with its reason.
// 2^28 flows × ~100 bytes is ~25 GiB of flow table: past any machine sgate
// runs on, so a larger value is a typo.
constexpr int64_t kMaxFlows = int64_t{1} << 28;
// AWS's own hard limit on rules per group per direction.
constexpr int64_t kMaxRulesPerGroup = 1000;
// AWS allows at most 16 groups per interface (DESIGN.md §4).
constexpr int64_t kMaxGroupsPerInterface = 16;
// The flow table compares times modulo 2^32 seconds, so a timeout must stay
// far below 2^31; a year is more than any idle timeout needs.
constexpr int64_t kMaxTimeoutSeconds = 365 * 24 * 3600;
// AWS aggregates flow logs over 60 or 600 seconds; sgate allows any
// interval up to the longer one (short ones are for tests).
constexpr int64_t kMaxFlowLogInterval = 600;
// A flow log file past 1 TiB is a forgotten rotation, not a plan.
constexpr int64_t kMaxFlowLogSizeMb = int64_t{1} << 20;

// Parses one YAML policy document. Each Parse* method handles one section,
// records every problem it finds and keeps going, so one run reports all.
class PolicyParser {
 public:
  PolicyParser(absl::string_view file, Diagnostics& diagnostics, Policy& policy)
      : reader_(std::string(file), diagnostics), policy_(policy) {}

  void Parse(absl::string_view text) {
    std::optional<YAML::Node> root = reader_.Parse(text);
    if (!root) return;
    if (!root->IsDefined() || root->IsNull()) {
      reader_.diagnostics().Error({reader_.file(), 1, 1},
                                  "the policy is empty; expected a map "
                                  "starting with 'version: 1'");
      return;
    }
    if (!reader_.ExpectMap(*root, "policy")) return;
    reader_.CheckKeys(*root, "policy",
                      {"version", "settings", "prefix_lists",
                       "security_groups", "interfaces"});
    ParseVersion(*root);
    if (const YAML::Node n = (*root)["settings"]; n.IsDefined()) {
      ParseSettings(n);
    }
    if (const YAML::Node n = (*root)["prefix_lists"]; n.IsDefined()) {
      ParsePrefixLists(n);
    }
    if (const YAML::Node n = (*root)["security_groups"]; n.IsDefined()) {
      ParseGroups(n);
    }
    if (const YAML::Node n = (*root)["interfaces"]; n.IsDefined()) {
      ParseInterfaces(n);
    }
  }

  // One object of a policy stored object by object: `text` is what the
  // section's entry `name` holds in a document (the settings map for
  // kSettings, whose name is unused). A name comes from outside the YAML,
  // so its problems are reported at the file without a line.
  void ParseObject(PolicySection section, const std::string& name,
                   absl::string_view text) {
    std::optional<YAML::Node> body = reader_.Parse(text);
    if (!body) return;
    const SourceLocation where{reader_.file(), 0, 0};
    if (section != PolicySection::kSettings && name.empty()) {
      reader_.diagnostics().Error(
          where, absl::StrCat(SectionName(section),
                              ": a name cannot be empty"));
      return;
    }
    switch (section) {
      case PolicySection::kSettings:
        ParseSettings(*body);
        break;
      case PolicySection::kPrefixLists:
        ParsePrefixList(name, where, *body);
        break;
      case PolicySection::kSecurityGroups:
        ParseGroup(name, where, *body);
        break;
      case PolicySection::kInterfaces:
        ParseInterface(name, where, *body);
        break;
    }
  }

 private:
  void ParseVersion(const YAML::Node& root) {
    const YAML::Node version = root["version"];
    if (!version.IsDefined()) {
      reader_.Error(root, "version: missing; expected 'version: 1' at the top");
      return;
    }
    // Any value but 1, numeric or not, is a format this loader does not
    // know; a range in the message would suggest other versions exist.
    std::optional<std::string> text = reader_.String(version, "version");
    if (text && *text != "1") {
      reader_.Error(version, absl::StrCat("version: ", *text,
                                          " is not supported; expected 1"));
    }
  }

  // Reads map[key] into *out if present, as an integer in [min, max].
  template <typename T>
  void OptionalInteger(const YAML::Node& map, const char* key,
                       absl::string_view what, int64_t min, int64_t max,
                       T* out) {
    const YAML::Node n = map[key];
    if (!n.IsDefined()) return;
    if (std::optional<int64_t> v =
            reader_.Integer(n, absl::StrCat(what, ".", key), min, max)) {
      *out = static_cast<T>(*v);
    }
  }

  void ParseSettings(const YAML::Node& node) {
    if (!reader_.ExpectMap(node, "settings")) return;
    reader_.CheckKeys(node, "settings",
                      {"max_flows", "unknown_interface", "revalidate_on_change",
                       "max_groups_per_interface", "max_rules_per_group",
                       "timeouts", "flow_logs", "account_id",
                       "max_flows_per_interface", "anti_spoofing",
                       "domain_reject"});
    Settings& s = policy_.settings;
    OptionalInteger(node, "max_flows", "settings", 1, kMaxFlows, &s.max_flows);
    OptionalInteger(node, "max_groups_per_interface", "settings", 1,
                    kMaxGroupsPerInterface, &s.max_groups_per_interface);
    OptionalInteger(node, "max_rules_per_group", "settings", 1,
                    kMaxRulesPerGroup, &s.max_rules_per_group);
    if (const YAML::Node n = node["unknown_interface"]; n.IsDefined()) {
      std::optional<std::string> v =
          reader_.String(n, "settings.unknown_interface");
      if (v == "drop") {
        s.unknown_interface = UnknownInterfaceAction::kDrop;
      } else if (v == "pass") {
        s.unknown_interface = UnknownInterfaceAction::kPass;
      } else if (v) {
        reader_.Error(n, absl::StrCat("settings.unknown_interface: '", *v,
                                      "' is not an action; expected drop or "
                                      "pass"));
      }
    }
    if (const YAML::Node n = node["revalidate_on_change"]; n.IsDefined()) {
      if (std::optional<bool> v =
              reader_.Bool(n, "settings.revalidate_on_change")) {
        s.revalidate_on_change = *v;
      }
    }
    if (const YAML::Node n = node["timeouts"]; n.IsDefined()) {
      ParseTimeouts(n);
    }
    ParseOperationsSettings(node);
    if (const YAML::Node n = node["domain_reject"]; n.IsDefined()) {
      ParseDomainReject(n);
    }
  }

  // Operations (DESIGN.md §8): flow logs, the account id they carry, the
  // per-interface flow cap and anti-spoofing.
  void ParseOperationsSettings(const YAML::Node& node) {
    Settings& s = policy_.settings;
    if (const YAML::Node n = node["flow_logs"]; n.IsDefined()) {
      ParseFlowLogs(n);
    }
    if (const YAML::Node n = node["account_id"]; n.IsDefined()) {
      if (std::optional<std::string> v =
              reader_.String(n, "settings.account_id")) {
        if (!IsFlowLogField(*v)) {
          reader_.Error(n, absl::StrCat("settings.account_id: '", *v,
                                        "' is not one word; expected an "
                                        "account id such as 123456789012"));
        } else {
          s.account_id = *v;
        }
      }
    }
    if (const YAML::Node n = node["max_flows_per_interface"]; n.IsDefined()) {
      s.max_flows_per_interface =
          FlowCap(n, "settings.max_flows_per_interface");
    }
    if (const YAML::Node n = node["anti_spoofing"]; n.IsDefined()) {
      if (std::optional<bool> v = reader_.Bool(n, "settings.anti_spoofing")) {
        s.anti_spoofing = *v;
      }
    }
  }

  // A flow log field: one word, since the records are space-separated.
  static bool IsFlowLogField(absl::string_view text) {
    return !text.empty() &&
           text.find_first_of(" \t\r\n") == absl::string_view::npos;
  }

  // A cap on an interface's flows: 1 or more (0 would refuse every flow).
  std::optional<uint32_t> FlowCap(const YAML::Node& n, absl::string_view what) {
    if (n.IsScalar() && n.Scalar() == "0") {
      reader_.Error(n, absl::StrCat(what, ": 0 would refuse every new flow; "
                                          "expected 1 to ", kMaxFlows,
                                          " (omit the key for no cap)"));
      return std::nullopt;
    }
    std::optional<int64_t> v = reader_.Integer(n, what, 1, kMaxFlows);
    if (!v) return std::nullopt;
    return static_cast<uint32_t>(*v);
  }

  void ParseFlowLogs(const YAML::Node& node) {
    const char* what = "settings.flow_logs";
    if (!reader_.ExpectMap(node, what)) return;
    reader_.CheckKeys(node, what, {"path", "interval", "max_size_mb"});
    FlowLogSettings logs;
    const YAML::Node path = node["path"];
    if (!path.IsDefined()) {
      reader_.Error(node, absl::StrCat(what, ": path is missing; expected "
                                             "the file to write records to"));
    } else if (std::optional<std::string> v =
                   reader_.String(path, absl::StrCat(what, ".path"))) {
      if (v->empty() || (*v)[0] != '/') {
        reader_.Error(path, absl::StrCat(what, ".path: '", *v,
                                         "' is not an absolute path; expected "
                                         "one such as /var/log/sgate/flows.log"));
      }
      logs.path = *v;
      logs.location = reader_.Where(path);
    }
    OptionalInteger(node, "interval", what, 1, kMaxFlowLogInterval,
                    &logs.interval);
    OptionalInteger(node, "max_size_mb", what, 1, kMaxFlowLogSizeMb,
                    &logs.max_size_mb);
    policy_.settings.flow_logs = logs;
  }

  void ParseDomainReject(const YAML::Node& node) {
    std::optional<std::string> v =
        reader_.String(node, "settings.domain_reject");
    if (v == "rst") {
      policy_.settings.domain_reject = DomainReject::kRst;
    } else if (v == "drop") {
      policy_.settings.domain_reject = DomainReject::kDrop;
    } else if (v) {
      reader_.Error(node, absl::StrCat("settings.domain_reject: '", *v,
                                       "' is not an action; expected rst or "
                                       "drop"));
    }
  }

  void ParseTimeouts(const YAML::Node& node) {
    const char* what = "settings.timeouts";
    if (!reader_.ExpectMap(node, what)) return;
    reader_.CheckKeys(node, what,
                      {"tcp_established", "tcp_transitory", "udp",
                       "udp_stream", "icmp", "other"});
    Timeouts& t = policy_.settings.timeouts;
    OptionalInteger(node, "tcp_established", what, 1, kMaxTimeoutSeconds,
                    &t.tcp_established);
    OptionalInteger(node, "tcp_transitory", what, 1, kMaxTimeoutSeconds,
                    &t.tcp_transitory);
    OptionalInteger(node, "udp", what, 1, kMaxTimeoutSeconds, &t.udp);
    OptionalInteger(node, "udp_stream", what, 1, kMaxTimeoutSeconds,
                    &t.udp_stream);
    OptionalInteger(node, "icmp", what, 1, kMaxTimeoutSeconds, &t.icmp);
    OptionalInteger(node, "other", what, 1, kMaxTimeoutSeconds, &t.other);
  }

  // A name key of a free-form map (group, prefix list, interface).
  std::optional<std::string> Name(const YAML::Node& key,
                                  absl::string_view what) {
    // CheckKeys has already reported a key that is not a scalar.
    if (!key.IsScalar()) return std::nullopt;
    std::optional<std::string> name = key.Scalar();
    if (name->empty()) {
      reader_.Error(key, absl::StrCat(what, ": a name cannot be empty"));
      return std::nullopt;
    }
    return name;
  }

  std::vector<Cidr> ParseCidrs(const YAML::Node& node, absl::string_view what) {
    std::vector<Cidr> cidrs;
    for (const auto& [item, text] : reader_.StringOrList(node, what)) {
      absl::StatusOr<Cidr> cidr = ParseCidr(text);
      if (cidr.ok()) {
        cidrs.push_back(*cidr);
      } else {
        reader_.Error(item, absl::StrCat(what, ": ", cidr.status().message()));
      }
    }
    return cidrs;
  }

  void ParsePrefixLists(const YAML::Node& node) {
    if (!reader_.ExpectMap(node, "prefix_lists")) return;
    reader_.CheckKeys(node, "prefix_lists", {});
    for (const auto& entry : node) {
      std::optional<std::string> name = Name(entry.first, "prefix_lists");
      if (!name) continue;
      ParsePrefixList(*name, reader_.Where(entry.first), entry.second);
    }
  }

  void ParsePrefixList(const std::string& name, const SourceLocation& where,
                       const YAML::Node& body) {
    PrefixList& list = policy_.prefix_lists[name];
    list.name = name;
    list.location = where;
    if (body.IsNull()) return;  // an empty list
    list.cidrs = ParseCidrs(body, absl::StrCat("prefix_lists.", name));
  }

  void ParseGroups(const YAML::Node& node) {
    if (!reader_.ExpectMap(node, "security_groups")) return;
    reader_.CheckKeys(node, "security_groups", {});
    for (const auto& entry : node) {
      std::optional<std::string> name = Name(entry.first, "security_groups");
      if (!name) continue;
      ParseGroup(*name, reader_.Where(entry.first), entry.second);
    }
  }

  void ParseGroup(const std::string& name, const SourceLocation& where,
                  const YAML::Node& body) {
    // Registered even if its body has errors, so that references to it
    // do not add follow-on errors.
    SecurityGroup& group = policy_.security_groups[name];
    group.name = name;
    group.location = where;
    std::string what = absl::StrCat("security_groups.", name);
    if (body.IsNull()) return;  // `sg-x:` alone: a new, empty group
    if (!reader_.ExpectMap(body, what)) return;
    reader_.CheckKeys(body, what, {"description", "ingress", "egress"});
    if (const YAML::Node n = body["description"]; n.IsDefined()) {
      group.description =
          reader_.String(n, absl::StrCat(what, ".description")).value_or("");
    }
    for (Direction d : {Direction::kIngress, Direction::kEgress}) {
      const YAML::Node rules = body[std::string(DirectionName(d))];
      if (!rules.IsDefined()) continue;
      if (d == Direction::kEgress) group.egress_omitted = false;
      std::string list_what = absl::StrCat(what, ".", DirectionName(d));
      if (!reader_.ExpectSequence(rules, list_what)) continue;
      for (size_t i = 0; i < rules.size(); ++i) {
        std::optional<Rule> rule =
            ParseRule(rules[i], absl::StrCat(list_what, "[", i, "]"));
        if (rule) group.rules(d).push_back(std::move(*rule));
      }
    }
  }

  void ParsePorts(const YAML::Node& node, absl::string_view what, Rule& rule) {
    std::optional<std::string> text = reader_.String(node, what);
    if (!text) return;
    if (*text == "all") return;  // the default 0-65535
    size_t dash = text->find('-');
    std::string low_text = text->substr(0, dash);
    std::string high_text =
        dash == std::string::npos ? low_text : text->substr(dash + 1);
    int64_t low = 0, high = 0;
    auto is_number = [](const std::string& s) {
      return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
    };
    if (!is_number(low_text) || !is_number(high_text) ||
        !absl::SimpleAtoi(low_text, &low) ||
        !absl::SimpleAtoi(high_text, &high)) {
      reader_.Error(node, absl::StrCat(what, ": '", *text,
                                       "' is not a port; expected a port, "
                                       "LOW-HIGH, or all"));
      return;
    }
    if (low > 65535 || high > 65535) {
      reader_.Error(node, absl::StrCat(what, ": ", *text,
                                       " is out of range; expected ports "
                                       "from 0 to 65535"));
      return;
    }
    if (low > high) {
      reader_.Error(node, absl::StrCat(what, ": range ", *text,
                                       " is reversed; expected LOW-HIGH with "
                                       "LOW <= HIGH"));
      return;
    }
    rule.port_low = static_cast<uint16_t>(low);
    rule.port_high = static_cast<uint16_t>(high);
  }

  std::optional<Rule> ParseRule(const YAML::Node& node,
                                const std::string& what) {
    if (!reader_.ExpectMap(node, what)) return std::nullopt;
    reader_.CheckKeys(node, what,
                      {"protocol", "ports", "icmp_type", "icmp_code", "cidr",
                       "prefix_list", "security_group", "description",
                       "domains"});
    Rule rule;
    rule.location = reader_.Where(node);
    bool ok = true;

    const YAML::Node protocol = node["protocol"];
    if (!protocol.IsDefined()) {
      reader_.Error(node, absl::StrCat(what, ": protocol is missing; expected "
                                             "tcp, udp, icmp, icmpv6, all or "
                                             "a number"));
      ok = false;
    } else if (std::optional<std::string> text =
                   reader_.String(protocol, what + ".protocol")) {
      if (std::optional<int> p = ParseProtocol(*text)) {
        rule.protocol = *p;
      } else {
        reader_.Error(protocol,
                      absl::StrCat(what, ".protocol: '", *text,
                                   "' is not a protocol; expected tcp, udp, "
                                   "icmp, icmpv6, all, -1 or 0 to 255"));
        ok = false;
      }
    } else {
      ok = false;
    }

    if (const YAML::Node ports = node["ports"]; ports.IsDefined()) {
      if (ok && !HasPorts(rule.protocol)) {
        reader_.Error(ports, absl::StrCat(what, ".ports: protocol ",
                                          ProtocolName(rule.protocol),
                                          " has no ports; only tcp and udp "
                                          "have"));
        ok = false;
      } else {
        ParsePorts(ports, what + ".ports", rule);
      }
    }
    for (const char* key : {"icmp_type", "icmp_code"}) {
      const YAML::Node n = node[key];
      if (!n.IsDefined()) continue;
      std::string key_what = absl::StrCat(what, ".", key);
      if (ok && !HasIcmpFields(rule.protocol)) {
        reader_.Error(n, absl::StrCat(key_what, ": only icmp and icmpv6 have ",
                                      "an ICMP type and code; protocol is ",
                                      ProtocolName(rule.protocol)));
        ok = false;
        continue;
      }
      if (std::optional<int64_t> v = reader_.Integer(n, key_what, -1, 255)) {
        (std::string(key) == "icmp_type" ? rule.icmp_type : rule.icmp_code) =
            static_cast<int>(*v);
      }
    }
    if (rule.icmp_type == kIcmpAny && rule.icmp_code != kIcmpAny) {
      reader_.Error(node["icmp_code"],
                    absl::StrCat(what, ".icmp_code: ", rule.icmp_code,
                                 " needs a type; a type of -1 (any) requires "
                                 "a code of -1"));
      ok = false;
    }

    ok = ParseRemote(node, what, rule) && ok;
    if (const YAML::Node n = node["domains"]; n.IsDefined()) {
      ok = ParseDomains(n, what + ".domains", rule) && ok;
    }
    if (const YAML::Node n = node["description"]; n.IsDefined()) {
      rule.description =
          reader_.String(n, what + ".description").value_or("");
    }
    if (!ok) return std::nullopt;
    return rule;
  }

  bool ParseRemote(const YAML::Node& node, const std::string& what,
                   Rule& rule) {
    std::vector<std::string> given;
    for (const char* key : {"cidr", "prefix_list", "security_group"}) {
      if (node[key].IsDefined()) given.push_back(key);
    }
    if (given.size() != 1) {
      reader_.Error(node, absl::StrCat(
          what, given.empty() ? ": no remote" :
                absl::StrCat(": both ", absl::StrJoin(given, " and ")),
          "; expected exactly one of cidr, prefix_list or security_group"));
      return false;
    }
    const YAML::Node value = node[given[0]];
    std::string key_what = absl::StrCat(what, ".", given[0]);
    rule.remote_location = reader_.Where(value);
    if (given[0] == "cidr") {
      rule.remote_kind = RemoteKind::kCidr;
      size_t errors = reader_.diagnostics().errors().size();
      rule.cidrs = ParseCidrs(value, key_what);
      if (reader_.diagnostics().errors().size() != errors) return false;
      if (rule.cidrs.empty()) {
        reader_.Error(value, key_what + ": expected at least one CIDR");
        return false;
      }
      return true;
    }
    rule.remote_kind = given[0] == "prefix_list" ? RemoteKind::kPrefixList
                                                 : RemoteKind::kSecurityGroup;
    std::optional<std::string> name = reader_.String(value, key_what);
    if (!name) return false;
    rule.remote_name = *name;
    return true;
  }

  // `domains: [api.github.com, "*.amazonaws.com"]` (or one name). Which
  // rules may carry it (egress tcp) is FinalizePolicy's check: it knows
  // the direction.
  bool ParseDomains(const YAML::Node& node, const std::string& what,
                    Rule& rule) {
    rule.domains_location = reader_.Where(node);
    if (node.IsSequence() && node.size() == 0) {
      reader_.Error(node, what + ": expected at least one name (omit the key "
                                 "for a rule without names)");
      return false;
    }
    bool ok = true;
    for (const auto& [item, text] : reader_.StringOrList(node, what)) {
      absl::StatusOr<std::string> name = NormalizeDomain(text);
      if (!name.ok()) {
        reader_.Error(item, absl::StrCat(what, ": ", name.status().message(),
                                         "; expected a name such as "
                                         "api.github.com or *.example.com"));
        ok = false;
        continue;
      }
      auto same = std::find(rule.domains.begin(), rule.domains.end(), *name);
      if (same != rule.domains.end()) {
        reader_.Error(item, absl::StrCat(what, ": '", text, "' is listed "
                                         "twice (as ", *same, ")"));
        ok = false;
        continue;
      }
      rule.domains.push_back(*name);
      rule.domain_locations.push_back(reader_.Where(item));
    }
    return ok && !rule.domains.empty();
  }

  void ParseInterfaces(const YAML::Node& node) {
    if (!reader_.ExpectMap(node, "interfaces")) return;
    reader_.CheckKeys(node, "interfaces", {});
    for (const auto& entry : node) {
      std::optional<std::string> name = Name(entry.first, "interfaces");
      if (!name) continue;
      ParseInterface(*name, reader_.Where(entry.first), entry.second);
    }
  }

  void ParseInterface(const std::string& name, const SourceLocation& where,
                      const YAML::Node& body) {
    Interface& interface = policy_.interfaces[name];
    interface.name = name;
    interface.location = where;
    std::string what = absl::StrCat("interfaces.", name);
    if (!reader_.ExpectMap(body, what)) return;
    reader_.CheckKeys(body, what,
                      {"addresses", "security_groups", "node", "vlan",
                       "description", "macs", "max_flows"});
    const YAML::Node addresses = body["addresses"];
    if (!addresses.IsDefined()) {
      reader_.diagnostics().Error(
          where, what + ": addresses is missing; expected one or more "
                        "IPv4/IPv6 addresses");
    } else if (addresses.IsSequence() && addresses.size() == 0) {
      // An interface without an address can never be matched: a mistake.
      reader_.Error(addresses, what + ".addresses: expected one or more "
                                      "IPv4/IPv6 addresses");
    } else {
      for (const auto& [item, text] :
           reader_.StringOrList(addresses, what + ".addresses")) {
        absl::StatusOr<IpAddress> ip = ParseIpAddress(text);
        if (ip.ok()) {
          interface.addresses.push_back(*ip);
          interface.address_locations.push_back(reader_.Where(item));
        } else if (text.find('/') != std::string::npos) {
          reader_.Error(item, absl::StrCat(what, ".addresses: '", text,
                                           "' is a prefix; expected a plain "
                                           "address"));
        } else {
          reader_.Error(item, absl::StrCat(what, ".addresses: ",
                                           ip.status().message()));
        }
      }
    }
    if (const YAML::Node n = body["security_groups"]; n.IsDefined()) {
      auto names = reader_.StringOrList(n, what + ".security_groups");
      // Only a list written empty: entries of the wrong type are reported
      // by StringOrList and must not also read as "no group".
      if (n.IsSequence() && n.size() == 0) {
        reader_.Error(n, what + ".security_groups: expected at least one "
                                "group (omit the key for [default])");
      }
      for (const auto& [item, group] : names) {
        interface.security_groups.push_back(group);
        interface.group_locations.push_back(reader_.Where(item));
      }
    }
    if (const YAML::Node n = body["node"]; n.IsDefined()) {
      if (std::optional<std::string> v = reader_.String(n, what + ".node")) {
        interface.node = *v;
      }
    }
    if (const YAML::Node n = body["vlan"]; n.IsDefined()) {
      if (std::optional<int64_t> v =
              reader_.Integer(n, what + ".vlan", 0, 4095)) {
        interface.vlan = static_cast<uint16_t>(*v);
      }
    }
    ParseInterfaceOperations(body, what, interface);
  }

  // Operations (DESIGN.md §8): the MACs an interface sends from and its
  // own flow cap.
  void ParseInterfaceOperations(const YAML::Node& body, const std::string& what,
                                Interface& interface) {
    if (const YAML::Node n = body["macs"]; n.IsDefined()) {
      std::string macs_what = what + ".macs";
      if (n.IsSequence() && n.size() == 0) {
        reader_.Error(n, macs_what + ": expected one or more MAC addresses "
                                     "(omit the key for none)");
      }
      for (const auto& [item, text] : reader_.StringOrList(n, macs_what)) {
        absl::StatusOr<MacAddress> mac = ParseMacAddress(text);
        if (!mac.ok()) {
          reader_.Error(item,
                        absl::StrCat(macs_what, ": ", mac.status().message()));
        } else if (interface.macs.size() == kMaxMacsPerInterface) {
          reader_.Error(item, absl::StrCat(macs_what, ": more than ",
                                           kMaxMacsPerInterface,
                                           " MAC addresses; expected at most ",
                                           kMaxMacsPerInterface));
        } else {
          interface.macs.push_back(*mac);
          interface.mac_locations.push_back(reader_.Where(item));
        }
      }
    }
    if (const YAML::Node n = body["max_flows"]; n.IsDefined()) {
      interface.max_flows = FlowCap(n, what + ".max_flows");
    }
  }

  YamlReader reader_;
  Policy& policy_;
};

// The whole file, or nullopt after recording why it cannot be read under
// the file's name, so that it is reported like every other error.
std::optional<std::string> ReadFile(const std::string& path,
                                    Diagnostics& diagnostics) {
  std::ifstream in(path, std::ios::binary);
  int open_errno = errno;
  std::error_code ignored;
  // A directory opens as a stream and then reads as empty: say so instead
  // of calling it an empty policy.
  if (in && std::filesystem::is_directory(path, ignored)) {
    diagnostics.Error({path, 0, 0}, "cannot read: it is a directory");
    return std::nullopt;
  }
  if (!in) {
    diagnostics.Error({path, 0, 0},
                      absl::StrCat("cannot read: ", std::strerror(open_errno)));
    return std::nullopt;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

void ParsePolicyYaml(absl::string_view yaml, absl::string_view file_name,
                     Policy& policy, Diagnostics& diagnostics) {
  try {
    PolicyParser(file_name, diagnostics, policy).Parse(yaml);
  } catch (const YAML::Exception& e) {
    // The parser only indexes nodes it has checked, so this is a yaml-cpp
    // surprise; it still must not escape as an exception.
    diagnostics.Error({std::string(file_name), e.mark.line + 1,
                       e.mark.column + 1},
                      absl::StrCat("cannot read this YAML: ", e.msg));
  }
}

absl::string_view SectionName(PolicySection section) {
  switch (section) {
    case PolicySection::kSettings:
      return "settings";
    case PolicySection::kPrefixLists:
      return "prefix_lists";
    case PolicySection::kSecurityGroups:
      return "security_groups";
    case PolicySection::kInterfaces:
      return "interfaces";
  }
  return "";
}

void ParsePolicyObject(PolicySection section, absl::string_view name,
                       absl::string_view yaml, absl::string_view file_name,
                       Policy& policy, Diagnostics& diagnostics) {
  try {
    PolicyParser(file_name, diagnostics, policy)
        .ParseObject(section, std::string(name), yaml);
  } catch (const YAML::Exception& e) {
    diagnostics.Error({std::string(file_name), e.mark.line + 1,
                       e.mark.column + 1},
                      absl::StrCat("cannot read this YAML: ", e.msg));
  }
}

absl::StatusOr<Policy> LoadPolicyString(absl::string_view yaml,
                                        absl::string_view file_name) {
  Policy policy;
  Diagnostics diagnostics;
  ParsePolicyYaml(yaml, file_name, policy, diagnostics);
  FinalizePolicy(policy, diagnostics);
  if (!diagnostics.empty()) return diagnostics.ToStatus();
  return policy;
}

absl::StatusOr<Policy> LoadPolicyFile(const std::string& path,
                                      const LoadOptions& options) {
  Policy policy;
  Diagnostics diagnostics;
  std::optional<std::string> yaml = ReadFile(path, diagnostics);
  if (yaml) ParsePolicyYaml(*yaml, path, policy, diagnostics);
  std::optional<std::string> json;
  if (options.aws_json_path) {
    json = ReadFile(*options.aws_json_path, diagnostics);
    if (json) {
      ParseAwsSecurityGroups(*json, *options.aws_json_path, policy,
                             diagnostics);
    }
  }
  // Without one of the inputs, the cross checks would only add misleading
  // "not defined" errors for what the missing file defines.
  if (!yaml || (options.aws_json_path && !json)) {
    return diagnostics.ToStatus();
  }
  FinalizePolicy(policy, diagnostics);
  if (!diagnostics.empty()) return diagnostics.ToStatus();
  return policy;
}

}  // namespace sgate::rules
