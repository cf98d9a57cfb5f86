#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "rules/policy.h"
#include "rules/policy_loader.h"
#include "rules/rule_table.h"

namespace sgate::control {

// The sgatectl commands that need no running dataplane: they load the
// policy themselves. Each takes the words after the command name and returns
// the process exit status; normal output goes to `out`, errors to `err`.

// sgatectl check FILE [--aws-json FILE] [--node NAME] [--compile] [--json]
// Exit 0 if the policy loads, 1 with every error otherwise. --compile also
// builds the dataplane's table (EAL in-process, no root) and prints what
// it built, the time of each part and the peak memory.
int RunCheck(const std::vector<std::string>& args, std::ostream& out,
             std::ostream& err);

// sgatectl trace FILE (--in|--out) LOCAL REMOTE PROTO [PORT|TYPE[/CODE]]
//                [--vlan ID] [--node NAME] [--aws-json FILE] [--json]
// The reference verdict for one packet. Exit 0 allow, 3 deny, 1 error.
int RunTrace(const std::vector<std::string>& args, std::ostream& out,
             std::ostream& err);

inline constexpr int kExitDenied = 3;

// What `check` and `fleet push` share. The policy at `path`, or nullopt
// after printing every error and "PATH: rejected, N errors" to `err`.
std::optional<rules::Policy> LoadPolicyReportingErrors(
    const std::string& path, const rules::LoadOptions& load, std::ostream& err);
// Builds the dataplane's table for `node` in-process (EAL comes up once,
// without hugepages, PCI or shared files: no root needed) and returns its
// statistics; the table is freed.
absl::StatusOr<rules::RuleTableStats> CompileInProcess(
    const rules::Policy& policy, const std::string& node);

}  // namespace sgate::control
