#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "control/etcd_client.h"
#include "control/fleet_layout.h"
#include "rules/policy.h"

namespace sgate::control {

// What a push writes: the objects whose text changed and the keys of the
// objects that are gone, nothing else (control/FLEET.md).
struct PushPlan {
  std::vector<std::pair<std::string, std::string>> puts;  // key, value
  std::vector<std::string> deletes;
  size_t unchanged = 0;
  size_t objects = 0;  // in the new policy
  // Key and value bytes of the puts, key bytes of the deletes.
  int64_t bytes = 0;

  bool empty() const { return puts.empty() && deletes.empty(); }
};

// The plan that turns `stored` (key -> value under P/policy/, as read) into
// `policy`. Keys under P/policy/ the layout does not know are deleted too:
// nodes would refuse them.
PushPlan PlanPush(const FleetLayout& layout, const rules::Policy& policy,
                  const std::map<std::string, std::string>& stored);

// How much one transaction may carry: etcd refuses more than
// --max-txn-ops operations (128 by default) and requests over
// --max-request-bytes (1.5 MiB by default). A transaction also carries the
// staging or commit record and the staging key's deletion: 120 operations
// and 1 MiB of keys and values leave room for them and for the encoding.
struct PushLimits {
  size_t max_operations = 120;
  int64_t max_bytes = 1 << 20;
};

// The plan's operations in transaction-sized batches, in order; deletes
// come last so that a push cut short has only added or changed objects.
// An object bigger than max_bytes travels alone (etcd may still refuse it).
std::vector<std::vector<EtcdTxn::Operation>> SplitPush(
    const PushPlan& plan, const PushLimits& limits);

struct PushResult {
  int64_t revision = 0;  // the policy's revision after the push
  bool changed = false;  // false: nothing differed, nothing was written
  PushPlan plan;
  size_t transactions = 0;
  int64_t bytes_written = 0;  // plan bytes plus the commit and staging records
};

// Writes `policy` under the layout's prefix: reads what is stored, writes
// only what changed, then the commit record, guarded so that it commits
// only if nobody committed or began another push since it read
// (`expect_revision`: only if the policy is at that revision). One
// transaction when the change fits; otherwise batches chained through the
// staging key, the last of which commits. kAborted when it lost a race.
absl::StatusOr<PushResult> PushPolicy(EtcdClient& etcd,
                                      const FleetLayout& layout,
                                      const rules::Policy& policy,
                                      std::optional<int64_t> expect_revision,
                                      const PushLimits& limits = {});

}  // namespace sgate::control
