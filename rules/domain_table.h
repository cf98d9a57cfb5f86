#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "rules/packet_key.h"
#include "rules/policy.h"

// Hyperscan's types stay opaque here, as rte_acl's do in rule_table.h.
struct hs_database;
struct hs_scratch;

namespace sgate::rules {

// For `sgatectl check --compile` and the benchmarks.
struct DomainTableStats {
  uint32_t rules = 0;     // rules with domains of the enforced interfaces
  uint32_t domains = 0;   // their domains, as listed
  uint32_t patterns = 0;  // distinct names: one Hyperscan expression each
  size_t database_bytes = 0;
  // The previous table's database was shared (the same names): nothing
  // compiled.
  bool database_shared = false;
  size_t scratch_bytes = 0;  // all scratches together
  double build_seconds = 0;
};

// The compiled form of a policy's rules with domains (rules/README.md,
// "Domain rules"): one Hyperscan block-mode database of every distinct
// name, each a caseless literal anchored by sentinel bytes at the ends of
// the name written backwards (internal::NamePattern), whose id leads to
// the rules that list it; and, per enforced interface, which of those rules
// apply. A flow the rule table left pending (Decision::kPendingName) is decided
// by Match with the name its client asked for, exactly as
// Reference::EvaluateNamed decides it (the property test holds it to it).
//
// Immutable once built and read by every worker at once; each caller of
// Match passes its own scratch index (Hyperscan's scratch is per thread):
// workers 0..workers-1, and the control thread `workers`. Build on the
// control thread; destroy after every reader has moved on (RCU, with the
// table that owns it).
class DomainTable {
 public:
  // `workers`: how many workers will call Match (a scratch each, plus one
  // for the control thread). `node`: as `sgate --node`. A name Hyperscan
  // refuses is an error located at the name in the policy file.
  // `previous`: the table this one replaces (the live one), whose
  // Hyperscan database is shared when the policy names the same domains.
  static absl::StatusOr<std::unique_ptr<DomainTable>> Build(
      const Policy& policy, const std::string& node, uint32_t workers,
      const DomainTable* previous = nullptr);

  DomainTable(const DomainTable&) = delete;
  DomainTable& operator=(const DomainTable&) = delete;
  ~DomainTable();

  // Which rule with domains of `packet`'s interface allows `packet` and
  // admits `name` (lowercased, without trailing dot or port). Not allowed
  // when none does, or `name` is no host name (rules::IsHostName). No
  // allocation, locks or virtual calls: one Hyperscan scan and, per name
  // that matches, a check of the rules listing it.
  NameMatch Match(const PacketKey& packet, absl::string_view name,
                  uint32_t scratch) const;
  // Match for a `name` known to be a host name, lowercased (the
  // dataplane's names, which NormalizeHostName made): not checked again.
  NameMatch MatchHostName(const PacketKey& packet, absl::string_view name,
                          uint32_t scratch) const;

  // Control thread (it allocates): the rules with domains that allow
  // `packet`, ascending: those whose names may decide its flow.
  std::vector<uint32_t> RulesAllowing(const PacketKey& packet) const;

  const DomainTableStats& stats() const { return stats_; }

 private:
  // A rule with domains, compiled: what its match needs beyond the name.
  struct NamedRule {
    uint32_t rule_id = 0;
    uint32_t group = 0;  // its group's place in the policy
    uint16_t port_low = 0;
    uint16_t port_high = 65535;
    std::vector<Cidr> cidrs;         // cidr or prefix list remotes
    std::vector<IpAddress> members;  // security group remote, sorted
  };
  // Pattern id → these, for the rules that list the name.
  struct Listing {
    uint32_t named_rule = 0;  // into named_rules_
    uint32_t domain_id = 0;
  };
  // An enforced interface's address in its VLAN's address space.
  struct LocalAddress {
    uint32_t vlan_key = 0;  // the VLAN id, or kUntagged
    IpAddress address;
    bool operator==(const LocalAddress&) const = default;
    template <typename H>
    friend H AbslHashValue(H h, const LocalAddress& a) {
      return H::combine(std::move(h), a.vlan_key, a.address.family,
                        a.address.bytes);
    }
  };
  static constexpr uint32_t kUntagged = 0x10000;  // not a 12-bit VLAN id
  struct MatchContext;
  // A distinct name: the rules listing it, and where it was first written.
  struct Written {
    std::vector<Listing> listings;
    SourceLocation where;
  };
  using NameListings = std::map<std::string, Written>;

  DomainTable() = default;
  absl::Status Compile(const Policy& policy, const std::string& node,
                       uint32_t workers, const DomainTable* previous);
  void AddNamedRule(const Policy& policy, const Rule& rule, uint32_t group,
                    NameListings& by_name);
  static int OnMatch(unsigned int pattern, unsigned long long from,
                     unsigned long long to, unsigned int flags, void* context);
  // The groups with rules with domains of egress tcp `packet`'s interface,
  // or null when it has none (or `packet` is no such packet).
  const std::vector<uint32_t>* GroupsOf(const PacketKey& packet) const;
  // Whether `rule`, of an interface with `groups`, allows `packet`.
  static bool Allows(const NamedRule& rule, const std::vector<uint32_t>& groups,
                     const PacketKey& packet);

  std::vector<NamedRule> named_rules_;
  // Per pattern id: listings[pattern_first_[id] .. pattern_first_[id + 1]).
  std::vector<uint32_t> pattern_first_;
  std::vector<Listing> listings_;
  // Per interface with rules with domains: its groups that have some.
  std::vector<std::vector<uint32_t>> interface_groups_;
  absl::flat_hash_map<LocalAddress, uint32_t> interfaces_;
  // Shared by the tables of consecutive generations while their names are
  // the same (pattern_names_, the pattern ids' names): read-only, so the
  // workers of both may scan it, each with its own table's scratch.
  std::shared_ptr<hs_database> database_;
  std::vector<std::string> pattern_names_;
  std::vector<hs_scratch*> scratches_;
  DomainTableStats stats_;
};

namespace internal {
// Bytes that frame a name for Hyperscan: no host name holds them.
inline constexpr char kNameStart = '\x01';
inline constexpr char kNameEnd = '\x02';
// The literal Hyperscan looks for, for a normalised domain, in the name
// written backwards and framed: "\x01moc.buhtig.ipa\x02" for
// api.github.com (the whole name), "\x01moc.swanozama." for *.amazonaws.com
// (its start; names reach it already checked by IsHostName, so one or more
// labels follow the dot).
std::string NamePattern(absl::string_view domain);
// Compiles `literals` (pattern id = index) into a block-mode database,
// caseless and reporting each pattern once. A literal Hyperscan refuses is
// an error naming `locations[index]` and `names[index]`. `extra_flags` are
// for tests: valid names give Hyperscan nothing to refuse.
absl::StatusOr<hs_database*> CompileNamePatterns(
    const std::vector<std::string>& literals,
    const std::vector<std::string>& names,
    const std::vector<SourceLocation>& locations, unsigned int extra_flags = 0);
}  // namespace internal

}  // namespace sgate::rules
