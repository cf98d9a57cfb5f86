// FinalizePolicy: the AWS defaults and the checks that need the whole
// policy (references, families, duplicates, quotas). Declared in
// policy_loader.h; it runs on policies from YAML, AWS JSON or code alike.
#include <map>
#include <set>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "rules/policy_loader.h"

namespace sgate::rules {
namespace {

constexpr char kDefaultGroup[] = "default";

Rule AllowAllEgressRule(const SourceLocation& location,
                        absl::string_view description) {
  Rule rule;
  rule.protocol = kProtocolAll;
  rule.remote_kind = RemoteKind::kCidr;
  rule.cidrs = {*ParseCidr("0.0.0.0/0"), *ParseCidr("::/0")};
  rule.description = std::string(description);
  rule.location = location;
  return rule;
}

// The `default` group as AWS creates it in every VPC: ingress from its own
// members, egress to everywhere.
SecurityGroup ImplicitDefaultGroup() {
  SecurityGroup group;
  group.name = kDefaultGroup;
  group.description = "default VPC security group (implicit)";
  group.implicit = true;
  group.egress_omitted = false;
  Rule from_members;
  from_members.protocol = kProtocolAll;
  from_members.remote_kind = RemoteKind::kSecurityGroup;
  from_members.remote_name = kDefaultGroup;
  from_members.description = "from members of default";
  group.ingress.push_back(from_members);
  group.egress.push_back(AllowAllEgressRule({}, "to anywhere"));
  return group;
}

// "'pl-x' is not defined; defined are: pl-a, pl-b" (names listed when few).
template <typename Map>
std::string Undefined(absl::string_view kind, const std::string& name,
                      const Map& defined) {
  std::string message =
      absl::StrCat(kind, ": '", name, "' is not defined");
  if (defined.empty()) {
    absl::StrAppend(&message, "; none are defined");
  } else if (defined.size() <= 10) {
    std::vector<std::string> names;
    for (const auto& [n, v] : defined) names.push_back(n);
    absl::StrAppend(&message, "; expected one of ",
                    absl::StrJoin(names, ", "));
  }
  return message;
}

// Where to report a problem with a rule's remote: the cidr / prefix_list /
// security_group value when the rule came from a file, else the rule itself
// (rules built in code or implied by a default have no value position).
const SourceLocation& RemoteWhere(const Rule& rule) {
  return rule.remote_location.line > 0 ? rule.remote_location : rule.location;
}

class Finalizer {
 public:
  Finalizer(Policy& policy, Diagnostics& diagnostics)
      : policy_(policy), diagnostics_(diagnostics) {}

  void Run() {
    ApplyDefaults();
    for (auto& [name, group] : policy_.security_groups) {
      for (Direction d : {Direction::kIngress, Direction::kEgress}) {
        // No index in the path: rules that failed to parse are not in the
        // list, so an index could name the wrong rule. The line does.
        std::string what =
            absl::StrCat("security_groups.", name, ".", DirectionName(d));
        for (const Rule& rule : group.rules(d)) {
          CheckRule(rule, what);
          CheckDomains(rule, d, what);
        }
        CheckQuota(group, d);
      }
    }
    CheckInterfaces();
    AssignRuleIds(policy_);
  }

 private:
  void ApplyDefaults() {
    if (!policy_.security_groups.contains(kDefaultGroup)) {
      policy_.security_groups[kDefaultGroup] = ImplicitDefaultGroup();
    }
    for (auto& [name, group] : policy_.security_groups) {
      // A new AWS group allows all egress until told otherwise.
      if (group.egress_omitted && group.egress.empty()) {
        group.egress.push_back(AllowAllEgressRule(
            group.location, "default egress (egress omitted)"));
      }
    }
    for (auto& [name, interface] : policy_.interfaces) {
      if (interface.security_groups.empty()) {
        interface.security_groups.push_back(kDefaultGroup);
        interface.group_locations.push_back(interface.location);
      }
    }
  }

  void CheckRule(const Rule& rule, const std::string& what) {
    switch (rule.remote_kind) {
      case RemoteKind::kCidr:
        CheckFamilies(rule, what, rule.cidrs, RemoteWhere(rule));
        break;
      case RemoteKind::kPrefixList: {
        auto it = policy_.prefix_lists.find(rule.remote_name);
        if (it == policy_.prefix_lists.end()) {
          diagnostics_.Error(RemoteWhere(rule),
                             Undefined(what + ".prefix_list", rule.remote_name,
                                       policy_.prefix_lists));
        } else {
          CheckFamilies(rule, what, it->second.cidrs, RemoteWhere(rule));
        }
        break;
      }
      case RemoteKind::kSecurityGroup:
        if (!policy_.security_groups.contains(rule.remote_name)) {
          diagnostics_.Error(RemoteWhere(rule),
                             Undefined(what + ".security_group",
                                       rule.remote_name,
                                       policy_.security_groups));
        }
        break;
    }
  }

  // Names decide tcp flows that a client opens (its first payload names the
  // server), so they belong on egress tcp rules only.
  void CheckDomains(const Rule& rule, Direction d, const std::string& what) {
    if (!rule.has_domains()) return;
    const SourceLocation& where = rule.domains_location.line > 0
                                      ? rule.domains_location
                                      : rule.location;
    if (d != Direction::kEgress) {
      diagnostics_.Error(where, absl::StrCat(
          what, ".domains: names are allowed on egress rules only (the "
                "protected interface must be the client that names the "
                "server)"));
    } else if (rule.protocol != kProtocolTcp) {
      diagnostics_.Error(where, absl::StrCat(
          what, ".domains: names need protocol tcp (TLS server_name, HTTP "
                "Host); this rule's protocol is ",
          ProtocolName(rule.protocol)));
    }
  }

  // icmp only exists in IPv4 and icmpv6 only in IPv6: a rule whose every
  // remote is of the other family can never match anything.
  void CheckFamilies(const Rule& rule, const std::string& what,
                     const std::vector<Cidr>& cidrs,
                     const SourceLocation& where) {
    if (!HasIcmpFields(rule.protocol) || cidrs.empty()) return;
    Family own = rule.protocol == kProtocolIcmp ? Family::kIPv4
                                                : Family::kIPv6;
    for (const Cidr& c : cidrs) {
      if (c.address.family == own) return;
    }
    diagnostics_.Error(
        where, absl::StrCat(what, ": protocol ", ProtocolName(rule.protocol),
                            " is ",
                            FamilyName(own), "-only but every remote of this "
                            "rule is ",
                            FamilyName(cidrs[0].address.family), "; use ",
                            own == Family::kIPv4 ? "icmpv6" : "icmp",
                            " for ", FamilyName(cidrs[0].address.family)));
  }

  // AWS counts IPv4 and IPv6 rules apart; each CIDR is a rule, a prefix list
  // counts as its size, a group reference once in each family.
  void CheckQuota(const SecurityGroup& group, Direction d) {
    size_t count[2] = {};
    auto add = [&count](Family f, size_t n) {
      count[static_cast<int>(f)] += n;
    };
    for (const Rule& rule : group.rules(d)) {
      const std::vector<Cidr>* cidrs = &rule.cidrs;
      if (rule.remote_kind == RemoteKind::kSecurityGroup) {
        add(Family::kIPv4, 1);
        add(Family::kIPv6, 1);
        continue;
      }
      if (rule.remote_kind == RemoteKind::kPrefixList) {
        auto it = policy_.prefix_lists.find(rule.remote_name);
        if (it == policy_.prefix_lists.end()) continue;  // reported already
        cidrs = &it->second.cidrs;
      }
      for (const Cidr& c : *cidrs) add(c.address.family, 1);
    }
    for (Family f : {Family::kIPv4, Family::kIPv6}) {
      size_t n = count[static_cast<int>(f)];
      if (n > policy_.settings.max_rules_per_group) {
        diagnostics_.Error(
            group.location,
            absl::StrCat("security group ", group.name, " has ", n, " ",
                         FamilyName(f), " ", DirectionName(d),
                         " rules (each CIDR counts, a prefix list as its "
                         "size); settings.max_rules_per_group is ",
                         policy_.settings.max_rules_per_group));
      }
    }
  }

  void CheckInterfaces() {
    // (vlan or -1, address) -> owning interface
    std::map<std::pair<int, IpAddress>, std::string> owners;
    for (const auto& [name, interface] : policy_.interfaces) {
      std::set<std::string> seen;
      for (size_t i = 0; i < interface.security_groups.size(); ++i) {
        const std::string& group = interface.security_groups[i];
        const SourceLocation& where = interface.group_locations.size() > i
                                          ? interface.group_locations[i]
                                          : interface.location;
        if (!policy_.security_groups.contains(group)) {
          diagnostics_.Error(where, Undefined(absl::StrCat("interfaces.", name,
                                                           ".security_groups"),
                                              group,
                                              policy_.security_groups));
        }
        if (!seen.insert(group).second) {
          diagnostics_.Error(where, absl::StrCat("interfaces.", name,
                                                 ": group '", group,
                                                 "' is listed twice"));
        }
      }
      if (interface.security_groups.size() >
          policy_.settings.max_groups_per_interface) {
        diagnostics_.Error(
            interface.location,
            absl::StrCat("interface ", name, " has ",
                         interface.security_groups.size(),
                         " security groups; settings.max_groups_per_interface"
                         " is ",
                         policy_.settings.max_groups_per_interface));
      }
      int space = interface.vlan ? *interface.vlan : -1;
      for (size_t i = 0; i < interface.addresses.size(); ++i) {
        const IpAddress& address = interface.addresses[i];
        auto [it, inserted] = owners.emplace(std::pair{space, address}, name);
        if (inserted) continue;
        const SourceLocation& where = interface.address_locations.size() > i
                                          ? interface.address_locations[i]
                                          : interface.location;
        diagnostics_.Error(
            where,
            absl::StrCat(
                "address ", address.ToString(), " of interface ", name,
                it->second == name ? " is listed twice"
                                   : absl::StrCat(" already belongs to ",
                                                  it->second),
                interface.vlan ? absl::StrCat(" in vlan ", *interface.vlan)
                               : std::string(" (untagged)"),
                "; an address belongs to one interface per VLAN"));
      }
    }
  }

  Policy& policy_;
  Diagnostics& diagnostics_;
};

}  // namespace

void FinalizePolicy(Policy& policy, Diagnostics& diagnostics) {
  Finalizer(policy, diagnostics).Run();
}

}  // namespace sgate::rules
