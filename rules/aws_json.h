#pragma once

#include "absl/strings/string_view.h"

#include "rules/diagnostics.h"
#include "rules/policy.h"

namespace sgate::rules {

// Adds the groups of `aws ec2 describe-security-groups` output
// ({"SecurityGroups": [...]}) to `policy`, named by GroupId. Each entry of
// IpRanges / Ipv6Ranges / PrefixListIds / UserIdGroupPairs becomes one rule.
// AWS encodings: IpProtocol "-1" = all; for icmp/icmpv6 FromPort is the type
// and ToPort the code (-1 = any); FromPort/ToPort are ignored for protocols
// without ports, as AWS does. A group in the JSON is its actual state, so a
// missing IpPermissionsEgress means no egress rules.
void ParseAwsSecurityGroups(absl::string_view json, absl::string_view file_name,
                            Policy& policy, Diagnostics& diagnostics);

}  // namespace sgate::rules
