#include "rules/domain_table.h"

#include <hs/hs.h>

#include <algorithm>
#include <chrono>
#include <map>

#include "absl/strings/str_cat.h"
#include "rules/domain_name.h"
#include "rules/status_macros.h"

namespace sgate::rules {

namespace internal {

std::string NamePattern(absl::string_view domain) {
  // Hyperscan matches literals, on the name written backwards between two
  // sentinel bytes (Match frames it so): an exact name is the whole framed
  // name, a wildcard's suffix its start. Literals find a name among 1,000
  // in ~160 cycles, where anchored expressions took ~360 backwards and
  // ~900 forwards (the forward suffixes share their ends and no start):
  // perf/RESULTS.md, "domains".
  const bool wildcard = IsWildcardDomain(domain);
  // "*.a.com": the name ends with ".a.com". A host name does not start
  // with a dot, so one or more labels come before it (after it, backwards).
  if (wildcard) domain.remove_prefix(1);
  std::string literal;
  literal.reserve(domain.size() + 2);
  literal.push_back(kNameStart);
  literal.append(domain.rbegin(), domain.rend());
  if (!wildcard) literal.push_back(kNameEnd);
  return literal;
}

absl::StatusOr<hs_database*> CompileNamePatterns(
    const std::vector<std::string>& literals,
    const std::vector<std::string>& names,
    const std::vector<SourceLocation>& locations, unsigned int extra_flags) {
  std::vector<const char*> pointers;
  std::vector<size_t> lengths;
  std::vector<unsigned int> flags, ids;
  for (size_t i = 0; i < literals.size(); ++i) {
    pointers.push_back(literals[i].data());
    lengths.push_back(literals[i].size());
    // Names are lowercased on the way in; caseless all the same, so that
    // the database alone is right. One report per name is all Match needs.
    flags.push_back(HS_FLAG_CASELESS | HS_FLAG_SINGLEMATCH | extra_flags);
    ids.push_back(static_cast<unsigned int>(i));
  }
  hs_database_t* database = nullptr;
  hs_compile_error_t* error = nullptr;
  if (hs_compile_lit_multi(
          pointers.data(), flags.data(), ids.data(), lengths.data(),
          static_cast<unsigned int>(pointers.size()), HS_MODE_BLOCK, nullptr,
          &database, &error) == HS_SUCCESS) {
    return database;
  }
  std::string message = error->message;
  int which = error->expression;
  hs_free_compile_error(error);
  if (which < 0 || static_cast<size_t>(which) >= names.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("domains: Hyperscan cannot compile the names: ", message));
  }
  return absl::InvalidArgumentError(absl::StrCat(
      locations[which].ToString(), ": domains: Hyperscan refuses '",
      names[which], "': ", message));
}

}  // namespace internal

absl::StatusOr<std::unique_ptr<DomainTable>> DomainTable::Build(
    const Policy& policy, const std::string& node, uint32_t workers,
    const DomainTable* previous) {
  std::unique_ptr<DomainTable> table(new DomainTable());
  SGATE_RETURN_IF_ERROR(table->Compile(policy, node, workers, previous));
  return table;
}

DomainTable::~DomainTable() {
  for (hs_scratch_t* s : scratches_) hs_free_scratch(s);
}

void DomainTable::AddNamedRule(const Policy& policy, const Rule& rule,
                               uint32_t group, NameListings& by_name) {
  const uint32_t index = named_rules_.size();
  NamedRule& n = named_rules_.emplace_back();
  n.rule_id = rule.id;
  n.group = group;
  n.port_low = rule.port_low;
  n.port_high = rule.port_high;
  switch (rule.remote_kind) {
    case RemoteKind::kCidr:
      n.cidrs = rule.cidrs;
      break;
    case RemoteKind::kPrefixList:
      n.cidrs = policy.prefix_lists.at(rule.remote_name).cidrs;
      break;
    case RemoteKind::kSecurityGroup:
      // Members on every node and VLAN (DESIGN.md §3).
      for (const Interface* m : policy.Members(rule.remote_name)) {
        n.members.insert(n.members.end(), m->addresses.begin(),
                         m->addresses.end());
      }
      std::sort(n.members.begin(), n.members.end());
      break;
  }
  for (size_t i = 0; i < rule.domains.size(); ++i) {
    Written& w = by_name[rule.domains[i]];
    w.listings.push_back(
        {index, static_cast<uint32_t>(rule.first_domain_id + i)});
    if (w.listings.size() == 1) {
      w.where = i < rule.domain_locations.size() ? rule.domain_locations[i]
                                                 : rule.location;
    }
    ++stats_.domains;
  }
}

absl::Status DomainTable::Compile(const Policy& policy, const std::string& node,
                                  uint32_t workers,
                                  const DomainTable* previous) {
  auto start = std::chrono::steady_clock::now();
  // The rules with domains of every group some enforced interface has;
  // groups are numbered by their place in the (ordered) policy.
  NameListings by_name;
  std::map<std::string, uint32_t> group_ids;
  for (const auto& [name, group] : policy.security_groups) {
    group_ids.emplace(name, group_ids.size());
  }
  std::vector<bool> added(policy.rules().size());
  for (const auto& [name, interface] : policy.interfaces) {
    if (!interface.EnforcedOn(node)) continue;
    std::vector<uint32_t> groups;  // its groups with rules with domains
    for (const std::string& group_name : interface.security_groups) {
      const uint32_t group = group_ids.at(group_name);
      for (const Rule& rule : policy.security_groups.at(group_name).egress) {
        if (!rule.has_domains()) continue;
        if (!added[rule.id]) AddNamedRule(policy, rule, group, by_name);
        added[rule.id] = true;
        if (groups.empty() || groups.back() != group) groups.push_back(group);
      }
    }
    if (groups.empty()) continue;
    const uint32_t index = interface_groups_.size();
    interface_groups_.push_back(std::move(groups));
    for (const IpAddress& address : interface.addresses) {
      interfaces_[{interface.vlan ? uint32_t{*interface.vlan} : kUntagged,
                   address}] = index;
    }
  }
  stats_.rules = named_rules_.size();
  stats_.patterns = by_name.size();
  if (by_name.empty()) return absl::OkStatus();

  std::vector<SourceLocation> locations;
  pattern_first_.push_back(0);
  for (const auto& [name, written] : by_name) {
    pattern_names_.push_back(name);
    locations.push_back(written.where);
    listings_.insert(listings_.end(), written.listings.begin(),
                     written.listings.end());
    pattern_first_.push_back(listings_.size());
  }
  // Pattern ids are the names' places in sorted order: the same names, the
  // same database. A reload that moves addresses or rules compiles none.
  if (previous != nullptr && previous->database_ != nullptr &&
      previous->pattern_names_ == pattern_names_) {
    database_ = previous->database_;
    stats_.database_shared = true;
  } else {
    std::vector<std::string> literals;
    for (const std::string& name : pattern_names_) {
      literals.push_back(internal::NamePattern(name));
    }
    SGATE_ASSIGN_OR_RETURN(
        hs_database_t* compiled,
        internal::CompileNamePatterns(literals, pattern_names_, locations));
    database_.reset(compiled, hs_free_database);
  }
  hs_database_size(database_.get(), &stats_.database_bytes);
  // One scratch allocated for the database, cloned for the others.
  hs_scratch_t* first = nullptr;
  if (hs_alloc_scratch(database_.get(), &first) != HS_SUCCESS) {
    return absl::ResourceExhaustedError("cannot allocate a Hyperscan scratch");
  }
  scratches_.push_back(first);
  for (uint32_t i = 0; i < workers; ++i) {
    hs_scratch_t* clone = nullptr;
    if (hs_clone_scratch(first, &clone) != HS_SUCCESS) {
      return absl::ResourceExhaustedError(
          "cannot allocate a Hyperscan scratch");
    }
    scratches_.push_back(clone);
  }
  for (hs_scratch_t* s : scratches_) {
    size_t bytes = 0;
    hs_scratch_size(s, &bytes);
    stats_.scratch_bytes += bytes;
  }
  // The control thread's scratch last: Match(…, workers).
  std::rotate(scratches_.begin(), scratches_.begin() + 1, scratches_.end());
  stats_.build_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  return absl::OkStatus();
}

const std::vector<uint32_t>* DomainTable::GroupsOf(
    const PacketKey& packet) const {
  if (packet.direction != Direction::kEgress ||
      packet.protocol != kProtocolTcp) {
    return nullptr;
  }
  auto it = interfaces_.find(LocalAddress{
      packet.vlan ? uint32_t{*packet.vlan} : kUntagged, packet.local});
  return it == interfaces_.end() ? nullptr : &interface_groups_[it->second];
}

bool DomainTable::Allows(const NamedRule& rule,
                         const std::vector<uint32_t>& groups,
                         const PacketKey& packet) {
  // At most 16 groups per interface: a scan beats any index.
  if (std::find(groups.begin(), groups.end(), rule.group) == groups.end() ||
      packet.dst_port < rule.port_low || packet.dst_port > rule.port_high) {
    return false;
  }
  for (const Cidr& c : rule.cidrs) {
    if (c.Contains(packet.remote)) return true;
  }
  return std::binary_search(rule.members.begin(), rule.members.end(),
                            packet.remote);
}

struct DomainTable::MatchContext {
  const DomainTable* table;
  const PacketKey* packet;
  const std::vector<uint32_t>* groups;  // of the packet's interface
  NameMatch result;
};

int DomainTable::OnMatch(unsigned int pattern, unsigned long long,
                         unsigned long long, unsigned int, void* context) {
  auto* c = static_cast<MatchContext*>(context);
  const DomainTable& t = *c->table;
  for (uint32_t i = t.pattern_first_[pattern];
       i < t.pattern_first_[pattern + 1]; ++i) {
    const Listing& l = t.listings_[i];
    if (Allows(t.named_rules_[l.named_rule], *c->groups, *c->packet)) {
      c->result = {true, t.named_rules_[l.named_rule].rule_id, l.domain_id};
      return 1;  // decided: stop scanning
    }
  }
  return 0;
}

NameMatch DomainTable::Match(const PacketKey& packet, absl::string_view name,
                             uint32_t scratch) const {
  if (!IsHostName(name)) return {};
  return MatchHostName(packet, name, scratch);
}

NameMatch DomainTable::MatchHostName(const PacketKey& packet,
                                     absl::string_view name,
                                     uint32_t scratch) const {
  const std::vector<uint32_t>* groups = GroupsOf(packet);
  if (groups == nullptr || database_ == nullptr ||
      name.size() > kMaxHostNameLength) {
    return {};
  }
  // The name backwards, framed (internal::NamePattern).
  char framed[kMaxHostNameLength + 2];
  framed[0] = internal::kNameStart;
  std::reverse_copy(name.begin(), name.end(), framed + 1);
  framed[name.size() + 1] = internal::kNameEnd;
  MatchContext context{this, &packet, groups, {}};
  hs_scan(database_.get(), framed,
          static_cast<unsigned int>(name.size() + 2), 0, scratches_[scratch],
          &DomainTable::OnMatch, &context);
  return context.result;
}

std::vector<uint32_t> DomainTable::RulesAllowing(
    const PacketKey& packet) const {
  std::vector<uint32_t> rules;
  if (const std::vector<uint32_t>* groups = GroupsOf(packet)) {
    for (const NamedRule& n : named_rules_) {
      if (Allows(n, *groups, packet)) rules.push_back(n.rule_id);
    }
  }
  std::sort(rules.begin(), rules.end());
  return rules;
}

}  // namespace sgate::rules
