#include "control/fleet_push.h"

#include <unistd.h>

#include <map>

#include "absl/strings/str_cat.h"
#include "control/json_writer.h"
#include "rules/policy_writer.h"

namespace sgate::control {
namespace {

using Kind = FleetLayout::PolicyKey::Kind;

int64_t OperationBytes(const EtcdTxn::Operation& op) {
  return static_cast<int64_t>(op.key.size() + op.value.size());
}

// {"push": "host:pid:time", "batch": 3}: which push is being written.
std::string StagingRecordJson(const std::string& push_id, size_t batch) {
  JsonWriter j;
  j.BeginObject();
  j.Field("push", push_id);
  j.Field("batch", batch);
  j.EndObject();
  return j.str();
}

}  // namespace

PushPlan PlanPush(const FleetLayout& layout, const rules::Policy& policy,
                  const std::map<std::string, std::string>& stored) {
  PushPlan plan;
  std::map<std::string, std::string> wanted;
  for (rules::PolicyObjectYaml& object : rules::WritePolicyObjects(policy)) {
    wanted[layout.ObjectKey(object.section, object.name)] =
        std::move(object.yaml);
  }
  plan.objects = wanted.size();
  for (const auto& [key, value] : wanted) {
    auto it = stored.find(key);
    if (it != stored.end() && it->second == value) {
      ++plan.unchanged;
      continue;
    }
    plan.bytes += static_cast<int64_t>(key.size() + value.size());
    plan.puts.emplace_back(key, value);
  }
  for (const auto& [key, value] : stored) {
    Kind kind = layout.ParsePolicyKey(key).kind;
    if (kind == Kind::kCommit || kind == Kind::kStaging) continue;
    if (!wanted.contains(key)) {
      plan.bytes += static_cast<int64_t>(key.size());
      plan.deletes.push_back(key);
    }
  }
  return plan;
}

std::vector<std::vector<EtcdTxn::Operation>> SplitPush(
    const PushPlan& plan, const PushLimits& limits) {
  std::vector<std::vector<EtcdTxn::Operation>> batches(1);
  int64_t batch_bytes = 0;
  auto add = [&](EtcdTxn::Operation op) {
    int64_t bytes = OperationBytes(op);
    if (!batches.back().empty() &&
        (batches.back().size() == limits.max_operations ||
         batch_bytes + bytes > limits.max_bytes)) {
      batches.emplace_back();
      batch_bytes = 0;
    }
    batch_bytes += bytes;
    batches.back().push_back(std::move(op));
  };
  for (const auto& [key, value] : plan.puts) add({false, key, value, 0});
  for (const std::string& key : plan.deletes) add({true, key, "", 0});
  return batches;
}

absl::StatusOr<PushResult> PushPolicy(EtcdClient& etcd,
                                      const FleetLayout& layout,
                                      const rules::Policy& policy,
                                      std::optional<int64_t> expect_revision,
                                      const PushLimits& limits) {
  const std::string prefix = layout.PolicyPrefix();
  absl::StatusOr<EtcdRange> range = etcd.Range(prefix, PrefixRangeEnd(prefix));
  if (!range.ok()) return range.status();
  std::map<std::string, std::string> stored;
  int64_t commit_revision = 0;
  int64_t staging_revision = 0;
  for (const EtcdKeyValue& kv : range->kvs) {
    if (kv.key == layout.CommitKey()) commit_revision = kv.mod_revision;
    if (kv.key == layout.StagingKey()) staging_revision = kv.mod_revision;
    stored[kv.key] = kv.value;
  }
  if (expect_revision && *expect_revision != commit_revision) {
    return absl::AbortedError(absl::StrCat(
        "the policy is at revision ", commit_revision, ", not ",
        *expect_revision, " (--expect-revision): nothing written"));
  }
  PushResult result;
  result.revision = commit_revision;
  result.plan = PlanPush(layout, policy, stored);
  // A push cut short leaves its batches uncommitted (and the staging key):
  // committing is needed even when every object already has its text.
  if (result.plan.empty() && staging_revision == 0 && commit_revision != 0) {
    return result;
  }
  std::vector<std::vector<EtcdTxn::Operation>> batches =
      SplitPush(result.plan, limits);
  const std::string push_id = absl::StrCat(Rfc3339(UnixNow()), "/", getpid());
  int64_t staging_guard = staging_revision;
  for (size_t b = 0; b < batches.size(); ++b) {
    const bool last = b + 1 == batches.size();
    EtcdTxn txn;
    // Nobody committed, and nobody else wrote a batch, since we read.
    txn.CompareModRevision(layout.CommitKey(), commit_revision);
    txn.CompareModRevision(layout.StagingKey(), staging_guard);
    txn.operations = std::move(batches[b]);
    if (last) {
      std::string record = CommitRecordJson(result.plan.objects);
      result.bytes_written +=
          static_cast<int64_t>(layout.CommitKey().size() + record.size());
      txn.Put(layout.CommitKey(), std::move(record));
      if (staging_guard != 0) txn.Delete(layout.StagingKey());
    } else {
      std::string record = StagingRecordJson(push_id, b + 1);
      result.bytes_written +=
          static_cast<int64_t>(layout.StagingKey().size() + record.size());
      txn.Put(layout.StagingKey(), std::move(record));
    }
    absl::StatusOr<EtcdTxnResult> written = etcd.Txn(txn);
    if (!written.ok()) {
      return absl::Status(
          written.status().code(),
          absl::StrCat("transaction ", b + 1, " of ", batches.size(),
                       " refused: ", written.status().message(),
                       b > 0 ? " (the batches before it stay uncommitted; "
                               "nodes ignore them until the next push)"
                             : ""));
    }
    if (!written->succeeded) {
      return absl::AbortedError(absl::StrCat(
          "the policy changed while pushing (another push or commit since "
          "revision ",
          commit_revision,
          "): nothing of this push was committed; push again"));
    }
    ++result.transactions;
    staging_guard = written->revision;  // the staging key's new revision
    if (last) result.revision = written->revision;
  }
  result.changed = true;
  result.bytes_written += result.plan.bytes;
  return result;
}

}  // namespace sgate::control
