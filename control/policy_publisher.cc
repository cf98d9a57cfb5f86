#include "control/policy_publisher.h"

#include "absl/strings/str_cat.h"
#include "control/log.h"
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
      dataplane::LiveTable::Build(*std::move(policy), generation_ + 1,
                                  workers_, options_));
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
  ++generation_;
  tables_.Swap(*std::move(table));  // the old table is freed here
  slots_.Commit();
  for (SettingsConsumer* consumer : consumers_) consumer->Commit();
  if (reload) {
    SGATE_LOG(INFO, "reload: generation %u live (grace period %lld us)\n",
              generation_,
              static_cast<long long>(tables_.last_grace_period().count() /
                                     1000));
  }
  return absl::OkStatus();
}

void PolicyPublisher::AddTo(StatsSnapshot& s) const {
  s.generation = generation_;
  s.reloads_rejected = rejected_;
  s.last_grace_period_us = tables_.last_grace_period().count() / 1000;
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
