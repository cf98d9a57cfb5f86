#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace sgate::control {

// The sgatectl commands that ask a running sgate over its control socket:
//   stats [--json]       counters (DESIGN.md §6 names)
//   rules [--json]       every rule with the flows it admitted
//   flows [--limit N] [--interface ENI] [--json]
//                        tracked flows (up to N per worker, default 100)
//   reload               load and publish the policy file again
//   generation           the live policy generation
// Returns the exit status: 0, or 1 when sgate cannot be reached or refuses
// (a rejected reload prints every error of the policy).
int RunOnline(const std::string& control_path, const std::string& command,
              const std::vector<std::string>& args, std::ostream& out,
              std::ostream& err);

bool IsOnlineCommand(const std::string& command);

// sgatectl trace (--in|--out) LOCAL REMOTE PROTO [PORT|TYPE[/CODE]]
//                [--vlan ID] [--sport PORT] [--json]
// How the running sgate's live table decides that packet (no FILE: that
// is the offline trace). Exit 0 allow, 3 deny, 1 error.
int RunOnlineTrace(const std::string& control_path,
                   const std::vector<std::string>& args, std::ostream& out,
                   std::ostream& err);

}  // namespace sgate::control
