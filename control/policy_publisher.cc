#include "control/policy_publisher.h"

#include "absl/strings/str_cat.h"
#include "control/log.h"

namespace sgate::control {

PolicyPublisher::PolicyPublisher(uint32_t workers,
                                 dataplane::LiveTable::Options options)
    : workers_(workers), options_(std::move(options)), tables_(workers) {}

absl::Status PolicyPublisher::Publish(absl::StatusOr<rules::Policy> policy) {
  absl::StatusOr<std::unique_ptr<dataplane::LiveTable>> table =
      policy.ok() ? dataplane::LiveTable::Build(
                        *std::move(policy), generation_ + 1, workers_, options_)
                  : policy.status();
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
    s.rules_admitted.emplace_back(
        absl::StrCat(ref.group, "/", rules::DirectionName(ref.direction), "/",
                     ref.index),
        admitted);
  }
}

}  // namespace sgate::control
