#include "rules/policy.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace sgate::rules {

absl::string_view DirectionName(Direction direction) {
  return direction == Direction::kIngress ? "ingress" : "egress";
}

namespace {

std::string AnyOr(int value) {
  return value == kIcmpAny ? "any" : absl::StrCat(value);
}

}  // namespace

std::string Rule::Describe(Direction direction) const {
  std::string out = ProtocolName(protocol);
  if (HasPorts(protocol)) {
    if (port_low == 0 && port_high == 65535) {
      absl::StrAppend(&out, " all ports");
    } else if (port_low == port_high) {
      absl::StrAppend(&out, " port ", port_low);
    } else {
      absl::StrAppend(&out, " ports ", port_low, "-", port_high);
    }
  }
  if (HasIcmpFields(protocol)) {
    absl::StrAppend(&out, " type ", AnyOr(icmp_type), " code ",
                    AnyOr(icmp_code));
  }
  absl::StrAppend(&out, direction == Direction::kIngress ? " from " : " to ");
  switch (remote_kind) {
    case RemoteKind::kCidr:
      absl::StrAppend(&out, absl::StrJoin(cidrs, ",",
                                          [](std::string* s, const Cidr& c) {
                                            s->append(c.ToString());
                                          }));
      break;
    case RemoteKind::kPrefixList:
      absl::StrAppend(&out, "prefix list ", remote_name);
      break;
    case RemoteKind::kSecurityGroup:
      absl::StrAppend(&out, "group ", remote_name);
      break;
  }
  if (has_domains()) {
    // A long list would drown the rule: the first few and a count.
    constexpr size_t kShown = 5;
    std::vector<std::string> shown(
        domains.begin(), domains.begin() + std::min(domains.size(), kShown));
    absl::StrAppend(&out, " domains ", absl::StrJoin(shown, ","));
    if (domains.size() > kShown) {
      absl::StrAppend(&out, " (+", domains.size() - kShown, " more)");
    }
  }
  return out;
}

const Rule& Policy::rule(uint32_t id) const {
  const RuleRef& ref = rules_.at(id);
  return security_groups.at(ref.group).rules(ref.direction).at(ref.index);
}

const std::string& Policy::domain(uint32_t domain_id) const {
  const Rule& r = rule(domain_rules_.at(domain_id));
  return r.domains.at(domain_id - r.first_domain_id);
}

std::vector<const Interface*> Policy::Members(absl::string_view group) const {
  std::vector<const Interface*> members;
  for (const auto& [name, interface] : interfaces) {
    for (const std::string& g : interface.security_groups) {
      if (g == group) {
        members.push_back(&interface);
        break;
      }
    }
  }
  return members;
}

void AssignRuleIds(Policy& policy) {
  policy.rules_.clear();
  policy.domain_rules_.clear();
  for (auto& [name, group] : policy.security_groups) {
    for (Direction d : {Direction::kIngress, Direction::kEgress}) {
      std::vector<Rule>& rules = group.rules(d);
      for (uint32_t i = 0; i < rules.size(); ++i) {
        rules[i].id = policy.rules_.size();
        rules[i].first_domain_id = policy.domain_rules_.size();
        policy.domain_rules_.insert(policy.domain_rules_.end(),
                                    rules[i].domains.size(), rules[i].id);
        policy.rules_.push_back({name, d, i});
      }
    }
  }
}

}  // namespace sgate::rules
