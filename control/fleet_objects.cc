#include "control/fleet_objects.h"

#include "absl/strings/str_cat.h"
#include "rules/policy_loader.h"

namespace sgate::control {
namespace {

using Kind = FleetLayout::PolicyKey::Kind;

// Moves the parsed object's one entry (or its settings) into `policy`.
void AddParsed(const rules::Policy& parsed, rules::PolicySection section,
               rules::Policy& policy) {
  switch (section) {
    case rules::PolicySection::kSettings:
      policy.settings = parsed.settings;
      break;
    case rules::PolicySection::kPrefixLists:
      policy.prefix_lists.insert(parsed.prefix_lists.begin(),
                                 parsed.prefix_lists.end());
      break;
    case rules::PolicySection::kSecurityGroups:
      policy.security_groups.insert(parsed.security_groups.begin(),
                                    parsed.security_groups.end());
      break;
    case rules::PolicySection::kInterfaces:
      policy.interfaces.insert(parsed.interfaces.begin(),
                               parsed.interfaces.end());
      break;
  }
}

}  // namespace

void FleetObjects::Put(const std::string& key, const std::string& value,
                       int64_t mod_revision) {
  Object& object = objects_[key];
  object.value = value;
  object.mod_revision = mod_revision;
  object.what = layout_.ParsePolicyKey(key);
  object.parsed = rules::Policy();
  object.diagnostics = rules::Diagnostics();
  if (object.what.kind == Kind::kObject) {
    rules::ParsePolicyObject(object.what.section, object.what.name, value, key,
                             object.parsed, object.diagnostics);
  }
}

void FleetObjects::Reset(const std::vector<EtcdKeyValue>& kvs) {
  objects_.clear();
  for (const EtcdKeyValue& kv : kvs) Put(kv.key, kv.value, kv.mod_revision);
}

absl::StatusOr<rules::Policy> FleetObjects::Assemble() const {
  rules::Policy policy;
  rules::Diagnostics diagnostics;
  for (const auto& [key, object] : objects_) {
    switch (object.what.kind) {
      case Kind::kCommit:
        CheckCommitRecord(object.value, key, diagnostics);
        break;
      case Kind::kStaging:
        break;
      case Kind::kUnknown:
        diagnostics.Error({key, 0, 0}, layout_.UnknownKeyMessage());
        break;
      case Kind::kObject:
        AddParsed(object.parsed, object.what.section, policy);
        for (const rules::Diagnostic& d : object.diagnostics.errors()) {
          diagnostics.Error(d.location, d.message);
        }
        break;
    }
  }
  rules::FinalizePolicy(policy, diagnostics);
  if (!diagnostics.empty()) return diagnostics.ToStatus();
  return policy;
}

std::map<std::string, std::string> FleetObjects::Values() const {
  std::map<std::string, std::string> values;
  for (const auto& [key, object] : objects_) values[key] = object.value;
  return values;
}

int64_t FleetObjects::commit_revision() const {
  auto it = objects_.find(layout_.CommitKey());
  return it == objects_.end() ? 0 : it->second.mod_revision;
}

bool FleetObjects::staging() const {
  return objects_.contains(layout_.StagingKey());
}

int64_t FleetObjects::newest_object_revision() const {
  int64_t newest = 0;
  for (const auto& [key, object] : objects_) {
    if (object.what.kind != Kind::kCommit) {
      newest = std::max(newest, object.mod_revision);
    }
  }
  return newest;
}

}  // namespace sgate::control

namespace sgate::control {

absl::StatusOr<int64_t> ReadCommittedPolicy(EtcdClient& etcd, int64_t at,
                                            FleetObjects& objects) {
  const std::string prefix = objects.layout().PolicyPrefix();
  const std::string end = PrefixRangeEnd(prefix);
  absl::StatusOr<EtcdRange> range = etcd.Range(prefix, end, at);
  if (!range.ok()) return range.status();
  objects.Reset(range->kvs);
  const int64_t commit = objects.commit_revision();
  if (commit == 0 ||
      (!objects.staging() && objects.newest_object_revision() <= commit)) {
    return range->revision;  // the same as at the commit
  }
  range = etcd.Range(prefix, end, commit);
  if (range.status().code() == absl::StatusCode::kOutOfRange) {
    return absl::UnavailableError(absl::StrCat(
        "a push is being written under ", prefix, " and revision ", commit,
        " (its last commit) is compacted: waiting for the push to commit"));
  }
  if (!range.ok()) return range.status();
  objects.Reset(range->kvs);
  return commit;
}

}  // namespace sgate::control
