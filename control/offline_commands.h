#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "rules/domain_table.h"
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
//                [--vlan ID] [--node NAME] [--aws-json FILE]
//                [--name SERVER_NAME] [--json]
// The reference verdict for one packet (with --name, for a flow whose
// client asked for that name). Exit 0 allow, 3 deny, 4 pending, 1 error.
int RunTrace(const std::vector<std::string>& args, std::ostream& out,
             std::ostream& err);

inline constexpr int kExitDenied = 3;
// A flow only rules with domains allow, traced without --name.
inline constexpr int kExitPending = 4;

// What `check` and `fleet push` share. The policy at `path`, or nullopt
// after printing every error and "PATH: rejected, N errors" to `err`.
std::optional<rules::Policy> LoadPolicyReportingErrors(
    const std::string& path, const rules::LoadOptions& load, std::ostream& err);
// What `check --compile` reports: the rule table's (host tables, lane
// scans, rte_acl) and the Hyperscan table's sizes.
struct CompiledStats {
  rules::RuleTableStats table;
  rules::DomainTableStats names;
};
// Builds the dataplane's tables for `node` in-process (EAL comes up once,
// without hugepages, PCI or shared files: no root needed) and returns their
// statistics; the tables are freed.
absl::StatusOr<CompiledStats> CompileInProcess(const rules::Policy& policy,
                                               const std::string& node);

}  // namespace sgate::control
