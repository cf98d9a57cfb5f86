#include "control/policy_publisher.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "control/log.h"
#include "dataplane/flow_table.h"
#include "rules/status_macros.h"

namespace sgate::control {

PolicyPublisher::PolicyPublisher(uint32_t workers,
                                 dataplane::LiveTable::Options options)
    : workers_(workers), options_(std::move(options)), tables_(workers) {}

absl::StatusOr<std::unique_ptr<dataplane::LiveTable>> PolicyPublisher::Prepare(
    absl::StatusOr<rules::Policy> policy) {
  if (!policy.ok()) return policy.status();
  SGATE_ASSIGN_OR_RETURN(
      std::unique_ptr<dataplane::LiveTable> table,
      dataplane::LiveTable::Build(*std::move(policy),
                                  dataplane::NextGeneration(generation_),
                                  workers_, options_, Live()));
  const std::vector<std::string>& names = table->interface_names();
  absl::StatusOr<std::vector<uint16_t>> slots = slots_.Assign(names);
  if (!slots.ok()) return slots.status();
  table->set_interfaces(
      dataplane::InterfaceTable(table->policy(), names, *slots, workers_));
  for (size_t i = 0; i < consumers_.size(); ++i) {
    absl::Status prepared = consumers_[i]->Prepare(table->policy());
    if (!prepared.ok()) {
      for (size_t j = 0; j < i; ++j) consumers_[j]->Abandon();
      slots_.Rollback();
      return prepared;
    }
  }
  return table;
}

absl::Status PolicyPublisher::Publish(absl::StatusOr<rules::Policy> policy) {
  // The live table lends its rte_acl contexts to the new one where the
  // rules did not change: a reload that only moves interfaces builds no ACL.
  absl::StatusOr<std::unique_ptr<dataplane::LiveTable>> table =
      Prepare(std::move(policy));
  // The first policy is the start-up's, whose caller reports a failure;
  // the others are reloads.
  const bool reload = generation_ > 0;
  if (!table.ok()) {
    if (reload) {
      ++rejected_;
      SGATE_LOG(ERR, "reload rejected, keeping generation %u:\n%s\n",
                generation_, std::string(table.status().message()).c_str());
    }
    return table.status();
  }
  generation_ = dataplane::NextGeneration(generation_);
  const rules::RuleTableStats& built = (*table)->stats();
  last_build_ = built;
  tables_.Swap(*std::move(table));  // the old table is freed here
  slots_.Commit();
  for (SettingsConsumer* consumer : consumers_) consumer->Commit();
  const rules::DomainTableStats& names = Live()->domain_stats();
  const std::string hyperscan =
      names.patterns == 0       ? ""
      : names.database_shared ? "; domain names shared"
                              : absl::StrFormat("; domain names %.1f ms",
                                                names.build_seconds * 1e3);
  SGATE_LOG(INFO,
            "generation %u live: built in %.1f ms (rules %.1f ms, rte_acl "
            "contexts %u built in %.1f ms and %u reused, addresses %.1f ms "
            "+ %.1f ms%s); grace period %lld us\n",
            generation_, built.build_seconds * 1e3, built.rules_seconds * 1e3,
            built.ContextsBuilt(), built.acl_seconds * 1e3,
            built.ContextsReused(), built.addresses_seconds * 1e3,
            built.hosts_seconds * 1e3, hyperscan.c_str(),
            static_cast<long long>(tables_.last_grace_period().count() / 1000));
  return absl::OkStatus();
}

void PolicyPublisher::AddTo(StatsSnapshot& s) const {
  s.generation = generation_;
  s.reloads_rejected = rejected_;
  s.last_grace_period_us = tables_.last_grace_period().count() / 1000;
  s.last_build_us = static_cast<int64_t>(last_build_.build_seconds * 1e6);
  s.acl_contexts_built = last_build_.ContextsBuilt();
  s.acl_contexts_reused = last_build_.ContextsReused();
  const dataplane::LiveTable* table = Live();
  if (table == nullptr) return;
  const rules::Policy& policy = table->policy();
  for (uint32_t id = 0; id < policy.rules().size(); ++id) {
    uint64_t admitted = table->rule_counters().Admitted(id);
    if (admitted == 0) continue;
    const rules::RuleRef& ref = policy.rules()[id];
    s.rules_admitted.push_back({ref.group, ref.direction, ref.index, admitted});
  }
  for (const InterfaceSlots::Slot& slot : slots_.InUse()) {
    StatsSnapshot::Interface& i = s.interfaces.emplace_back();
    i.slot = slot.slot;
    i.name = slot.name;
    i.live = slot.live;
    if (auto it = policy.interfaces.find(slot.name);
        slot.live && it != policy.interfaces.end()) {
      i.max_flows = policy.settings.FlowCap(it->second);
    }
  }
}

}  // namespace sgate::control
