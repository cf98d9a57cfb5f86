#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "rules/diagnostics.h"
#include "rules/policy_loader.h"

namespace sgate::control {

// Where a fleet keeps its policy and its nodes' state in etcd, under one
// prefix P (default /sgate); control/FLEET.md explains the design.
//
//   P/policy/commit                 the commit record (JSON); its
//                                   mod_revision is the policy's revision
//   P/policy/settings               YAML: the settings map
//   P/policy/prefix_lists/NAME      YAML: the list of CIDRs
//   P/policy/security_groups/NAME   YAML: the group (description, rules)
//   P/policy/interfaces/NAME        YAML: the interface
//   P/policy/staging                only while a push too big for one
//                                   transaction is being written (JSON)
//   P/nodes/NAME                    a node's status (JSON), under its lease
//
// A node applies the objects as they stand at a commit's revision: never
// half of a push, since every push ends by writing the commit record.
class FleetLayout {
 public:
  explicit FleetLayout(std::string prefix) : prefix_(std::move(prefix)) {}

  const std::string& prefix() const { return prefix_; }
  std::string PolicyPrefix() const { return prefix_ + "/policy/"; }
  std::string CommitKey() const { return prefix_ + "/policy/commit"; }
  std::string StagingKey() const { return prefix_ + "/policy/staging"; }
  std::string ObjectKey(rules::PolicySection section,
                        absl::string_view name) const;
  std::string NodesPrefix() const { return prefix_ + "/nodes/"; }
  std::string NodeKey(absl::string_view node) const {
    return NodesPrefix() + std::string(node);
  }

  // What a key under PolicyPrefix() is.
  struct PolicyKey {
    enum class Kind : uint8_t { kCommit, kStaging, kObject, kUnknown };
    Kind kind = Kind::kUnknown;
    rules::PolicySection section = rules::PolicySection::kSettings;
    std::string name;  // kObject: the object's name ("" for the settings)
  };
  PolicyKey ParsePolicyKey(absl::string_view key) const;

  // The error for a key under PolicyPrefix() that is none of the above.
  std::string UnknownKeyMessage() const;

 private:
  std::string prefix_;
};

// The commit record a push writes last: {"version": 1, "objects": N,
// "pushed_at": "2026-01-01T00:00:00Z"}. Only `version` matters to a node
// (a format it does not know is refused); the rest is for operators.
std::string CommitRecordJson(int64_t objects);
// Records the problems of a commit record's value at `key`: not a JSON
// object, or a version other than 1. A hand-written `{}` is accepted.
void CheckCommitRecord(absl::string_view value, const std::string& key,
                       rules::Diagnostics& diagnostics);

// "2026-01-01T00:00:00Z" for a time in seconds since the epoch, and back
// (nullopt-like 0 when it does not parse).
std::string Rfc3339(int64_t unix_seconds);
int64_t ParseRfc3339(absl::string_view text);
int64_t UnixNow();

}  // namespace sgate::control
