#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "dataplane/policy_table.h"
#include "dataplane/policy_table_base.h"
#include "rules/domain_table.h"
#include "rules/policy.h"
#include "rules/rule_table.h"

namespace sgate::dataplane {

// What the workers read through Published<>: one policy compiled into a
// rules::RuleTable (host tables, lane scans, rte_acl) and a
// rules::DomainTable (Hyperscan, for the names of pending flows), with the
// generation and timeouts that came with it. Immutable once built.
class CompiledTable : public PolicyTableBase {
 public:
  using Options = rules::RuleTableOptions;

  // `previous`: the table this one replaces (the live one), whose rte_acl
  // contexts are shared when their rules did not change, and its Hyperscan
  // database when the names did not; null builds all.
  static absl::StatusOr<std::unique_ptr<CompiledTable>> Build(
      rules::Policy policy, uint32_t generation, uint32_t workers,
      const Options& options, const CompiledTable* previous = nullptr) {
    absl::StatusOr<std::unique_ptr<rules::RuleTable>> table =
        rules::RuleTable::Build(policy, options,
                                previous ? previous->table_.get() : nullptr);
    if (!table.ok()) return table.status();
    absl::StatusOr<std::unique_ptr<rules::DomainTable>> domains =
        rules::DomainTable::Build(
            policy, options.compile.node, workers,
            previous ? previous->domains_.get() : nullptr);
    if (!domains.ok()) return domains.status();
    return std::unique_ptr<CompiledTable>(
        new CompiledTable(std::move(policy), *std::move(table),
                          *std::move(domains), generation, workers));
  }

  ClassifyResult Classify(const rules::PacketKey& key) const {
    return ResultOf(key, table_->Classify(key));
  }
  // At most rules::RuleTable::kMaxBurst keys.
  void ClassifyBurst(const rules::PacketKey* keys, uint32_t count,
                     ClassifyResult* out) const {
    rules::Classification c[rules::RuleTable::kMaxBurst];
    table_->Classify(keys, count, c);
    for (uint32_t i = 0; i < count; ++i) out[i] = ResultOf(keys[i], c[i]);
  }
  rules::NameMatch DecideName(const rules::PacketKey& key,
                              absl::string_view name, uint32_t worker) const {
    return domains_->MatchHostName(key, name, worker);
  }
  Explanation Explain(const rules::PacketKey& key,
                      absl::string_view name) const {
    rules::Classification c = table_->Classify(key);
    Explanation e;
    e.decision = c.decision;
    e.rule_id = c.rule_id;
    if (c.interface != rules::Classification::kNoInterface) {
      e.interface = table_->interface_name(c.interface);
    }
    if (c.decision == rules::Decision::kPendingName) {
      e.name_rules = domains_->RulesAllowing(key);
      if (!name.empty()) {
        // The control thread's scratch comes after the workers'.
        rules::NameMatch m = domains_->Match(key, name, workers_);
        e.decision = m.allowed ? rules::Decision::kAllowedByRule
                               : rules::Decision::kNameNotAllowed;
        e.by_name = m.allowed;
        e.rule_id = m.rule_id;
        e.domain_id = m.domain_id;
      }
    }
    return e;
  }
  // The rule table's sizes and build times, and what it shares with the
  // table it replaced; the Hyperscan table's.
  const rules::RuleTableStats& stats() const { return table_->stats(); }
  const rules::DomainTableStats& domain_stats() const {
    return domains_->stats();
  }

 private:
  CompiledTable(rules::Policy policy, std::unique_ptr<rules::RuleTable> table,
                std::unique_ptr<rules::DomainTable> domains,
                uint32_t generation, uint32_t workers)
      : PolicyTableBase(std::move(policy), generation, workers,
                        table->interface_names()),
        table_(std::move(table)),
        domains_(std::move(domains)) {}

  ClassifyResult ResultOf(const rules::PacketKey& key,
                          const rules::Classification& c) const {
    ClassifyResult r{c.interface != rules::Classification::kNoInterface,
                     c.allowed(), c.rule_id};
    r.interface = c.interface;
    r.awaiting_name = c.decision == rules::Decision::kPendingName;
    // New flows only: the deciding rule's remote and the interface's other
    // direction make it untracked (DESIGN.md §5). rte_acl reports a rule
    // open to everyone whenever one matches (rules/rule_table.cc).
    r.untracked = c.decision == rules::Decision::kAllowedByRule &&
                  untracked_.IsUntracked(c.interface, key.direction,
                                         key.local.family, key.protocol,
                                         c.rule_id);
    return r;
  }

  std::unique_ptr<rules::RuleTable> table_;
  std::unique_ptr<rules::DomainTable> domains_;
};

static_assert(PolicyTable<CompiledTable>);

}  // namespace sgate::dataplane
