#pragma once

#include <string>
#include <vector>

#include "rules/policy.h"
#include "rules/policy_loader.h"

namespace sgate::rules {

// Writes a Policy back out as YAML (version 1), the inverse of the loader:
// loading what it writes gives an equal policy (every field but the source
// locations), for any policy the loader accepts, from YAML or AWS JSON.
// What FinalizePolicy materialised is left implied, so that it is
// materialised again the same way: the implicit `default` group and the
// default egress of a group whose egress was omitted are not written.
// Settings are written when they differ from the defaults. The output is
// deterministic (maps in name order, one layout), so equal policies give
// equal text: the fleet compares objects by their text (control/FLEET.md).

// One object of the policy as the fleet stores it: the section's entry
// `name` and the YAML it holds (ParsePolicyObject's input).
struct PolicyObjectYaml {
  PolicySection section = PolicySection::kSettings;
  std::string name;  // empty for the settings
  std::string yaml;
};

// The settings (always, `{}` when every value is the default), then every
// prefix list, security group (but an implicit one) and interface.
std::vector<PolicyObjectYaml> WritePolicyObjects(const Policy& policy);

// The whole policy as one document, starting with `version: 1`.
std::string WritePolicyYaml(const Policy& policy);

}  // namespace sgate::rules
