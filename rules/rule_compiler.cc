#include "rules/rule_compiler.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "rules/status_macros.h"

namespace sgate::rules {
namespace {

struct PortRange {
  uint16_t low;
  uint16_t high;
};

// The PortField ranges a rule accepts (rules/README.md, "encoding").
std::vector<PortRange> PortRanges(const Rule& rule) {
  if (HasPorts(rule.protocol)) return {{rule.port_low, rule.port_high}};
  if (!HasIcmpFields(rule.protocol)) return {{0, 65535}};
  const int type = rule.icmp_type;
  const int code = rule.icmp_code;
  if (type == kIcmpAny && code == kIcmpAny) return {{0, 65535}};
  if (type != kIcmpAny && code == kIcmpAny) {
    return {{static_cast<uint16_t>(type << 8),
             static_cast<uint16_t>(type << 8 | 255)}};
  }
  if (type != kIcmpAny) {
    uint16_t v = static_cast<uint16_t>(type << 8 | code);
    return {{v, v}};
  }
  // Any type with one code: the validator rejects it (AWS does), but the
  // reference defines it, so stay equal to it: one value per type.
  std::vector<PortRange> ranges;
  for (int t = 0; t < 256; ++t) {
    uint16_t v = static_cast<uint16_t>(t << 8 | code);
    ranges.push_back({v, v});
  }
  return ranges;
}

Cidr HostCidr(const IpAddress& address) {
  return Cidr{address, static_cast<uint8_t>(address.bit_width())};
}

// Entries equal but for the rule id add nothing to the match: drop them.
using EntryKey = std::tuple<uint16_t, int16_t, uint16_t, uint16_t, bool,
                            uint16_t, Family, std::array<uint8_t, 16>, uint8_t>;

EntryKey KeyOf(const MatchEntry& e) {
  return {e.group_set,    e.protocol,          e.port_low,
          e.port_high,    e.by_class,          e.address_class,
          e.remote.address.family, e.remote.address.bytes,
          e.remote.prefix_length};
}

class Compiler {
 public:
  Compiler(const Policy& policy, const CompileOptions& options)
      : policy_(policy), options_(options) {}

  absl::StatusOr<CompiledPolicy> Run() {
    out_.unknown_interface = policy_.settings.unknown_interface;
    SGATE_RETURN_IF_ERROR(BuildGroupSets());
    if (!options_.expand_group_members) {
      SGATE_RETURN_IF_ERROR(BuildAddressClasses());
    }
    for (uint32_t gs = 0; gs < out_.group_sets.size(); ++gs) {
      for (const std::string& name : out_.group_sets[gs]) {
        const SecurityGroup& group = policy_.security_groups.at(name);
        for (Direction d : {Direction::kIngress, Direction::kEgress}) {
          for (const Rule& rule : group.rules(d)) {
            SGATE_RETURN_IF_ERROR(Expand(static_cast<uint16_t>(gs), d, rule));
          }
        }
      }
    }
    return std::move(out_);
  }

 private:
  // Interfaces with the same groups share one group set and so one copy of
  // the rules in each ACL context.
  absl::Status BuildGroupSets() {
    std::map<std::vector<std::string>, uint16_t> ids;
    for (const auto& [name, interface] : policy_.interfaces) {
      if (!interface.EnforcedOn(options_.node)) continue;
      std::vector<std::string> groups = interface.security_groups;
      std::sort(groups.begin(), groups.end());
      groups.erase(std::unique(groups.begin(), groups.end()), groups.end());
      for (const std::string& g : groups) {
        if (!policy_.security_groups.contains(g)) {
          return absl::InvalidArgumentError(absl::StrCat(
              "interface ", name, ": security group '", g, "' is not defined"));
        }
      }
      auto [it, inserted] =
          ids.emplace(groups, static_cast<uint16_t>(out_.group_sets.size()));
      if (inserted) {
        if (out_.group_sets.size() >= kMaxGroupSets) {
          return absl::InvalidArgumentError(absl::StrCat(
              "more than ", kMaxGroupSets, " distinct group sets"));
        }
        out_.group_sets.push_back(groups);
      }
      out_.interfaces.push_back(
          {name, interface.vlan, interface.addresses, it->second});
    }
    return absl::OkStatus();
  }

  // Address classes (rules/README.md): every member address of a referenced
  // group gets the id of its exact set of referenced groups, so a rule
  // "from group G" becomes one entry per class containing G instead of one
  // per member.
  absl::Status BuildAddressClasses() {
    std::set<std::string> referenced;
    for (const std::vector<std::string>& set : out_.group_sets) {
      for (const std::string& name : set) {
        const SecurityGroup& group = policy_.security_groups.at(name);
        for (Direction d : {Direction::kIngress, Direction::kEgress}) {
          for (const Rule& rule : group.rules(d)) {
            if (rule.remote_kind == RemoteKind::kSecurityGroup) {
              referenced.insert(rule.remote_name);
            }
          }
        }
      }
    }
    if (referenced.empty()) return absl::OkStatus();
    // Every interface counts, on every node and VLAN (DESIGN.md §3); an
    // address on two interfaces belongs to the union of their groups.
    std::map<IpAddress, std::set<std::string>> membership;
    for (const auto& [name, interface] : policy_.interfaces) {
      std::set<std::string> groups;
      for (const std::string& g : interface.security_groups) {
        if (referenced.contains(g)) groups.insert(g);
      }
      if (groups.empty()) continue;
      for (const IpAddress& a : interface.addresses) {
        membership[a].insert(groups.begin(), groups.end());
      }
    }
    std::map<std::set<std::string>, uint16_t> class_ids;
    for (const auto& [address, groups] : membership) {
      auto [it, inserted] = class_ids.emplace(
          groups, static_cast<uint16_t>(class_ids.size() + 1));
      if (inserted && class_ids.size() > kMaxAddressClasses) {
        return absl::InvalidArgumentError(absl::StrCat(
            "more than ", kMaxAddressClasses, " address classes"));
      }
      out_.address_classes.push_back({address, it->second});
      int family = static_cast<int>(address.family);
      for (const std::string& g : groups) {
        classes_of_group_[g][family].insert(it->second);
      }
    }
    out_.address_class_count = static_cast<uint32_t>(class_ids.size());
    return absl::OkStatus();
  }

  void Add(Direction d, Family family, const MatchEntry& entry) {
    int f = static_cast<int>(family);
    int di = static_cast<int>(d);
    if (!seen_[f][di].insert(KeyOf(entry)).second) return;
    out_.entries[f][di].push_back(entry);
  }

  absl::Status Expand(uint16_t group_set, Direction d, const Rule& rule) {
    MatchEntry base;
    base.rule_id = rule.id;
    base.group_set = group_set;
    base.protocol = static_cast<int16_t>(rule.protocol);
    const std::vector<PortRange> ports = PortRanges(rule);

    auto add_cidr = [&](const Cidr& cidr) {
      for (const PortRange& p : ports) {
        MatchEntry e = base;
        e.port_low = p.low;
        e.port_high = p.high;
        e.remote = cidr;
        Add(d, cidr.address.family, e);
      }
    };

    switch (rule.remote_kind) {
      case RemoteKind::kCidr:
        for (const Cidr& cidr : rule.cidrs) add_cidr(cidr);
        return absl::OkStatus();
      case RemoteKind::kPrefixList: {
        auto it = policy_.prefix_lists.find(rule.remote_name);
        if (it == policy_.prefix_lists.end()) {
          return absl::InvalidArgumentError(absl::StrCat(
              "prefix list '", rule.remote_name, "' is not defined"));
        }
        for (const Cidr& cidr : it->second.cidrs) add_cidr(cidr);
        return absl::OkStatus();
      }
      case RemoteKind::kSecurityGroup:
        if (options_.expand_group_members) {
          for (const Interface* member : policy_.Members(rule.remote_name)) {
            for (const IpAddress& a : member->addresses) add_cidr(HostCidr(a));
          }
          return absl::OkStatus();
        }
        for (Family family : {Family::kIPv4, Family::kIPv6}) {
          auto it = classes_of_group_.find(rule.remote_name);
          if (it == classes_of_group_.end()) break;  // no members: no match
          for (uint16_t c : it->second[static_cast<int>(family)]) {
            for (const PortRange& p : ports) {
              MatchEntry e = base;
              e.port_low = p.low;
              e.port_high = p.high;
              e.by_class = true;
              e.address_class = c;
              e.remote = Cidr{IpAddress{family, {}}, 0};
              Add(d, family, e);
            }
          }
        }
        return absl::OkStatus();
    }
    return absl::OkStatus();
  }

  const Policy& policy_;
  const CompileOptions& options_;
  CompiledPolicy out_;
  // Group name → [family] → the classes its members fall in.
  std::map<std::string, std::array<std::set<uint16_t>, 2>> classes_of_group_;
  std::array<std::array<absl::flat_hash_set<EntryKey>, 2>, 2> seen_;
};

}  // namespace

std::string MatchEntry::Describe() const {
  std::string out = absl::StrCat("rule ", rule_id, " set ", group_set, " ",
                                 ProtocolName(protocol), " field ", port_low,
                                 "-", port_high, " ");
  if (by_class) {
    absl::StrAppend(&out, "class ", address_class);
  } else {
    absl::StrAppend(&out, remote.ToString());
  }
  return out;
}

size_t CompiledPolicy::EntryCount() const {
  size_t n = 0;
  for (const auto& per_family : entries) {
    for (const auto& list : per_family) n += list.size();
  }
  return n;
}

absl::StatusOr<CompiledPolicy> CompilePolicy(const Policy& policy,
                                             const CompileOptions& options) {
  return Compiler(policy, options).Run();
}

}  // namespace sgate::rules
