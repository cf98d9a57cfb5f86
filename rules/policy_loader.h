#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"
#include "rules/diagnostics.h"
#include "rules/policy.h"

namespace sgate::rules {

// Loading is a pipeline: parse (YAML, and optionally the AWS JSON) into a
// raw Policy while collecting diagnostics → FinalizePolicy (AWS defaults,
// cross-field checks, rule ids). Every error of every stage is reported at
// once; a policy with any error is rejected as a whole.

struct LoadOptions {
  // `aws ec2 describe-security-groups` output whose groups are added to the
  // YAML file's (the YAML then typically lists interfaces and prefix lists).
  std::optional<std::string> aws_json_path;
};

absl::StatusOr<Policy> LoadPolicyFile(const std::string& path,
                                      const LoadOptions& options = {});

// For tests and tools: `file_name` is only used in diagnostics.
absl::StatusOr<Policy> LoadPolicyString(absl::string_view yaml,
                                        absl::string_view file_name = "policy");

// Parses one YAML policy document into `policy` without finalising it.
void ParsePolicyYaml(absl::string_view yaml, absl::string_view file_name,
                     Policy& policy, Diagnostics& diagnostics);

// The parts of a policy document below `version`: the settings and the
// three sections of named objects. A policy can also be stored object by
// object (the fleet's etcd layout, control/FLEET.md) and parsed one object
// at a time into one Policy, then finalised as a whole.
enum class PolicySection : uint8_t {
  kSettings,
  kPrefixLists,
  kSecurityGroups,
  kInterfaces,
};
// "settings", "prefix_lists", "security_groups", "interfaces": the
// document's keys.
absl::string_view SectionName(PolicySection section);

// Parses one object into `policy` without finalising it: `yaml` is what
// the section's entry `name` holds in a document (for kSettings, the
// settings map; `name` is unused). Diagnostics name `file_name` with lines
// and columns inside `yaml`, and say what is wrong in the policy's own
// terms ("security_groups.sg-web.ingress[0].ports: ..."), as for a file.
void ParsePolicyObject(PolicySection section, absl::string_view name,
                       absl::string_view yaml, absl::string_view file_name,
                       Policy& policy, Diagnostics& diagnostics);

// Materialises the AWS defaults (implicit `default` group, omitted egress =
// allow all, interfaces without groups in `default`) and runs every
// cross-field check: undefined groups and prefix lists, address-family
// mismatches, duplicate interface addresses, quotas. Assigns rule ids.
void FinalizePolicy(Policy& policy, Diagnostics& diagnostics);

}  // namespace sgate::rules
