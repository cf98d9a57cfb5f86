#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "dataplane/policy_table.h"
#include "dataplane/policy_table_base.h"
#include "rules/policy.h"
#include "rules/rule_table.h"

namespace sgate::dataplane {

// What the workers read through Published<>: one policy compiled into a
// rules::RuleTable (host tables, lane scans, rte_acl), with the generation and timeouts
// that came with it. Immutable once built.
class CompiledTable : public PolicyTableBase {
 public:
  using Options = rules::RuleTableOptions;

  // `previous`: the table this one replaces (the live one), whose rte_acl
  // contexts are shared when their rules did not change; null builds all.
  static absl::StatusOr<std::unique_ptr<CompiledTable>> Build(
      rules::Policy policy, uint32_t generation, uint32_t workers,
      const Options& options, const CompiledTable* previous = nullptr) {
    absl::StatusOr<std::unique_ptr<rules::RuleTable>> table =
        rules::RuleTable::Build(policy, options,
                                previous ? previous->table_.get() : nullptr);
    if (!table.ok()) return table.status();
    return std::unique_ptr<CompiledTable>(new CompiledTable(
        std::move(policy), *std::move(table), generation, workers));
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
  Explanation Explain(const rules::PacketKey& key) const {
    rules::Classification c = table_->Classify(key);
    Explanation e;
    e.decision = c.decision;
    e.rule_id = c.rule_id;
    if (c.interface != rules::Classification::kNoInterface) {
      e.interface = table_->interface_name(c.interface);
    }
    return e;
  }
  // The rule table's sizes and build times, and what it shares
  // with the table it replaced.
  const rules::RuleTableStats& stats() const { return table_->stats(); }

 private:
  CompiledTable(rules::Policy policy, std::unique_ptr<rules::RuleTable> table,
                uint32_t generation, uint32_t workers)
      : PolicyTableBase(std::move(policy), generation, workers,
                        table->interface_names()),
        table_(std::move(table)) {}

  ClassifyResult ResultOf(const rules::PacketKey& key,
                          const rules::Classification& c) const {
    ClassifyResult r{c.interface != rules::Classification::kNoInterface,
                     c.allowed(), c.rule_id};
    r.interface = c.interface;
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
};

static_assert(PolicyTable<CompiledTable>);

}  // namespace sgate::dataplane
