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

Cidr AnyAddress(Family family) { return Cidr{IpAddress{family, {}}, 0}; }

// Entries equal but for the rule id add nothing to the match: drop them.
using EntryKey = std::tuple<uint16_t, int8_t, int16_t, uint16_t, uint16_t,
                            Family, std::array<uint8_t, 16>, uint8_t, bool>;

EntryKey KeyOf(const MatchEntry& e) {
  return {e.lane,      e.reference_bit, e.protocol,
          e.port_low,  e.port_high,     e.remote.address.family,
          e.remote.address.bytes, e.remote.prefix_length, e.by_name};
}

// An entry before lanes are numbered: which slice of its group's
// references it belongs to (slice 0 holds the rules without references).
struct PendingEntry {
  uint32_t group;
  uint32_t slice;
  MatchEntry entry;
};

class RuleCompiler {
 public:
  RuleCompiler(const Policy& policy, const RuleCompileOptions& options)
      : policy_(policy), options_(options) {}

  absl::StatusOr<CompiledRules> Run() {
    if (policy_.rules().size() > kMaxRules) {
      return absl::InvalidArgumentError(
          absl::StrCat("more than ", kMaxRules, " rules"));
    }
    if (options_.reference_bits == 0 || options_.reference_bits > 32) {
      return absl::InvalidArgumentError("reference_bits must be 1 to 32");
    }
    out_.reference_bits = options_.reference_bits;
    for (const auto& [name, group] : policy_.security_groups) {
      ids_.emplace(name, static_cast<uint32_t>(out_.groups.size()));
      out_.groups.push_back(name);
    }
    out_.referenced.assign(out_.groups.size(), false);
    for (uint32_t g = 0; g < out_.groups.size(); ++g) {
      const SecurityGroup& group = policy_.security_groups.at(out_.groups[g]);
      for (Direction d : {Direction::kIngress, Direction::kEgress}) {
        SGATE_RETURN_IF_ERROR(ExpandGroup(g, group, d));
      }
    }
    SGATE_RETURN_IF_ERROR(NumberLanes());
    return std::move(out_);
  }

 private:
  absl::Status ExpandGroup(uint32_t g, const SecurityGroup& group,
                           Direction d) {
    // The group's distinct references in this direction, in rule order:
    // reference k is bit k % reference_bits of slice k / reference_bits.
    std::vector<uint32_t> references;
    for (const Rule& rule : group.rules(d)) {
      if (rule.remote_kind != RemoteKind::kSecurityGroup ||
          options_.expand_group_members) {
        continue;
      }
      auto it = ids_.find(rule.remote_name);
      if (it == ids_.end()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "security group '", rule.remote_name, "' is not defined"));
      }
      out_.referenced[it->second] = true;
      if (std::find(references.begin(), references.end(), it->second) ==
          references.end()) {
        references.push_back(it->second);
      }
    }
    const uint32_t bits = options_.reference_bits;
    const uint32_t slices = std::max<uint32_t>(
        1, static_cast<uint32_t>((references.size() + bits - 1) / bits));
    std::vector<uint32_t>& slots =
        mask_slots_[{static_cast<int>(d), g}];
    for (uint32_t s = 0; s < slices; ++s) {
      const bool has_references = s * bits < references.size();
      slots.push_back(has_references ? out_.mask_slots++ : 0);
    }
    references_[{static_cast<int>(d), g}] = references;

    for (const Rule& rule : group.rules(d)) {
      SGATE_RETURN_IF_ERROR(ExpandRule(g, d, rule, references));
    }
    return absl::OkStatus();
  }

  absl::Status ExpandRule(uint32_t g, Direction d, const Rule& rule,
                          const std::vector<uint32_t>& references) {
    MatchEntry base;
    base.rule_id = rule.id;
    base.protocol = static_cast<int16_t>(rule.protocol);
    base.by_name = rule.has_domains();
    const std::vector<PortRange> ports = PortRanges(rule);
    auto add = [&](const Cidr& remote, uint32_t slice, int8_t bit) {
      for (const PortRange& p : ports) {
        MatchEntry e = base;
        e.port_low = p.low;
        e.port_high = p.high;
        e.remote = remote;
        e.reference_bit = bit;
        pending_[static_cast<int>(remote.address.family)]
                [static_cast<int>(d)]
                    .push_back({g, slice, e});
      }
    };

    switch (rule.remote_kind) {
      case RemoteKind::kCidr:
        for (const Cidr& cidr : rule.cidrs) add(cidr, 0, -1);
        return absl::OkStatus();
      case RemoteKind::kPrefixList: {
        auto it = policy_.prefix_lists.find(rule.remote_name);
        if (it == policy_.prefix_lists.end()) {
          return absl::InvalidArgumentError(absl::StrCat(
              "prefix list '", rule.remote_name, "' is not defined"));
        }
        for (const Cidr& cidr : it->second.cidrs) add(cidr, 0, -1);
        return absl::OkStatus();
      }
      case RemoteKind::kSecurityGroup: {
        if (options_.expand_group_members) {
          for (const Interface* member : policy_.Members(rule.remote_name)) {
            for (const IpAddress& a : member->addresses) {
              add(HostCidr(a), 0, -1);
            }
          }
          return absl::OkStatus();
        }
        // A reference matches members of either family: an entry in each,
        // remote any, testing the referenced group's bit.
        const uint32_t k = static_cast<uint32_t>(
            std::find(references.begin(), references.end(),
                      ids_.at(rule.remote_name)) -
            references.begin());
        const uint32_t bits = options_.reference_bits;
        for (Family f : {Family::kIPv4, Family::kIPv6}) {
          add(AnyAddress(f), k / bits, static_cast<int8_t>(k % bits));
        }
        return absl::OkStatus();
      }
    }
    return absl::OkStatus();
  }

  // Lanes per (family, direction), in group order: the slices of a group
  // that have entries there. Groups with no entry in a (family, direction)
  // get no lane, so their packets cost no key.
  absl::Status NumberLanes() {
    for (int f = 0; f < 2; ++f) {
      for (int d = 0; d < 2; ++d) {
        std::vector<PendingEntry>& pending = pending_[f][d];
        std::stable_sort(pending.begin(), pending.end(),
                         [](const PendingEntry& a, const PendingEntry& b) {
                           return std::tie(a.group, a.slice) <
                                  std::tie(b.group, b.slice);
                         });
        std::vector<Lane>& lanes = out_.lanes[f][d];
        std::vector<LaneRange>& ranges = out_.lanes_of_group[f][d];
        ranges.assign(out_.groups.size(), LaneRange{});
        absl::flat_hash_set<EntryKey> seen;
        for (size_t i = 0; i < pending.size(); ++i) {
          const PendingEntry& p = pending[i];
          if (i == 0 || p.group != pending[i - 1].group ||
              p.slice != pending[i - 1].slice) {
            if (lanes.size() >= kMaxLanes) {
              return absl::InvalidArgumentError(absl::StrCat(
                  "more than ", kMaxLanes, " lanes (groups, and slices of "
                  "groups with many references) in one family and direction"));
            }
            LaneRange& range = ranges[p.group];
            if (range.count == 0) {
              range.first = static_cast<uint32_t>(lanes.size());
            }
            ++range.count;
            Lane lane;
            lane.group = p.group;
            const std::vector<uint32_t>& refs = references_.at({d, p.group});
            const uint32_t bits = options_.reference_bits;
            for (size_t k = p.slice * bits;
                 k < std::min<size_t>(refs.size(), (p.slice + 1) * bits); ++k) {
              lane.references.push_back(refs[k]);
            }
            lane.mask_slot = mask_slots_.at({d, p.group})[p.slice];
            lanes.push_back(std::move(lane));
          }
          MatchEntry e = p.entry;
          e.lane = static_cast<uint16_t>(lanes.size() - 1);
          if (seen.insert(KeyOf(e)).second) out_.entries[f][d].push_back(e);
        }
      }
    }
    return absl::OkStatus();
  }

  const Policy& policy_;
  const RuleCompileOptions& options_;
  CompiledRules out_;
  absl::flat_hash_map<std::string, uint32_t> ids_;
  // (direction, group) → its references, and the mask slot of each slice.
  std::map<std::pair<int, uint32_t>, std::vector<uint32_t>> references_;
  std::map<std::pair<int, uint32_t>, std::vector<uint32_t>> mask_slots_;
  std::array<std::array<std::vector<PendingEntry>, 2>, 2> pending_;
};

// Appends the bytes of a trivially copyable value.
template <typename T>
void AppendRaw(std::string& out, const T& value) {
  out.append(reinterpret_cast<const char*>(&value), sizeof(value));
}

void AppendCidrs(std::string& out, const std::vector<Cidr>& cidrs) {
  AppendRaw(out, cidrs.size());
  for (const Cidr& c : cidrs) {
    AppendRaw(out, c.address.family);
    AppendRaw(out, c.address.bytes);
    AppendRaw(out, c.prefix_length);
  }
}

void AppendName(std::string& out, const std::string& name) {
  AppendRaw(out, name.size());
  out += name;
}

}  // namespace

std::string MatchEntry::Describe() const {
  std::string out = absl::StrCat("rule ", rule_id, " lane ", lane, " ",
                                 ProtocolName(protocol), " field ", port_low,
                                 "-", port_high, " ");
  if (by_reference()) {
    absl::StrAppend(&out, "reference bit ", reference_bit);
  } else {
    absl::StrAppend(&out, remote.ToString());
  }
  if (by_name) absl::StrAppend(&out, " by name");
  return out;
}

uint32_t CompiledRules::GroupId(absl::string_view name) const {
  auto it = std::lower_bound(groups.begin(), groups.end(), name);
  if (it == groups.end() || *it != name) return UINT32_MAX;
  return static_cast<uint32_t>(it - groups.begin());
}

size_t CompiledRules::EntryCount() const {
  size_t n = 0;
  for (const auto& per_family : entries) {
    for (const auto& list : per_family) n += list.size();
  }
  return n;
}

absl::StatusOr<CompiledRules> CompileRules(const Policy& policy,
                                           const RuleCompileOptions& options) {
  return RuleCompiler(policy, options).Run();
}

std::string RuleSideFingerprint(const Policy& policy) {
  std::string out;
  for (const auto& [name, group] : policy.security_groups) {
    AppendName(out, name);
    for (Direction d : {Direction::kIngress, Direction::kEgress}) {
      AppendRaw(out, group.rules(d).size());
      for (const Rule& r : group.rules(d)) {
        AppendRaw(out, r.id);
        AppendRaw(out, r.protocol);
        AppendRaw(out, r.port_low);
        AppendRaw(out, r.port_high);
        AppendRaw(out, r.icmp_type);
        AppendRaw(out, r.icmp_code);
        AppendRaw(out, r.remote_kind);
        AppendCidrs(out, r.cidrs);
        AppendName(out, r.remote_name);
      }
    }
  }
  for (const auto& [name, list] : policy.prefix_lists) {
    AppendName(out, name);
    AppendCidrs(out, list.cidrs);
  }
  return out;
}

absl::StatusOr<CompiledAddresses> CompileAddresses(const Policy& policy,
                                                   const CompiledRules& rules,
                                                   const std::string& node) {
  CompiledAddresses out;
  out.unknown_interface = policy.settings.unknown_interface;
  for (const auto& [name, interface] : policy.interfaces) {
    if (!interface.EnforcedOn(node)) continue;
    CompiledInterface ci{name, interface.vlan, interface.addresses, {}};
    for (const std::string& g : interface.security_groups) {
      uint32_t id = rules.GroupId(g);
      if (id == UINT32_MAX) {
        return absl::InvalidArgumentError(absl::StrCat(
            "interface ", name, ": security group '", g, "' is not defined"));
      }
      if (std::find(ci.groups.begin(), ci.groups.end(), id) == ci.groups.end()) {
        ci.groups.push_back(id);
      }
    }
    out.interfaces.push_back(std::move(ci));
  }

  // Member classes: every interface counts, on every node and VLAN
  // (DESIGN.md §3); an address on two interfaces belongs to the union of
  // their groups. Only referenced groups matter.
  std::map<IpAddress, std::vector<uint32_t>> membership;
  for (const auto& [name, interface] : policy.interfaces) {
    std::vector<uint32_t> groups;
    for (const std::string& g : interface.security_groups) {
      uint32_t id = rules.GroupId(g);
      if (id != UINT32_MAX && rules.referenced[id]) groups.push_back(id);
    }
    if (groups.empty()) continue;
    for (const IpAddress& a : interface.addresses) {
      std::vector<uint32_t>& set = membership[a];
      set.insert(set.end(), groups.begin(), groups.end());
    }
  }
  std::map<std::vector<uint32_t>, uint32_t> class_ids;
  for (auto& [address, groups] : membership) {
    std::sort(groups.begin(), groups.end());
    groups.erase(std::unique(groups.begin(), groups.end()), groups.end());
    auto [it, inserted] = class_ids.emplace(
        groups, static_cast<uint32_t>(out.member_classes.size()));
    if (inserted) out.member_classes.push_back(groups);
    out.members.push_back({address, it->second});
  }
  return out;
}

}  // namespace sgate::rules
