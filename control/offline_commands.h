#pragma once

#include <ostream>
#include <string>
#include <vector>

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

}  // namespace sgate::control
