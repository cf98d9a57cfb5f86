#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace sgate::control {

// sgatectl's side of the commands that ask a running sgate over its
// control socket (the command table, commands.h, lists them with their
// arguments). Each takes the words after the command name; `--json` prints
// sgate's reply as it came. Returns the exit status: 0, or 1 when sgate
// cannot be reached or refuses (a rejected reload prints every error of
// the policy).
int RunStats(const std::string& control_path,
             const std::vector<std::string>& args, std::ostream& out,
             std::ostream& err);
int RunRules(const std::string& control_path,
             const std::vector<std::string>& args, std::ostream& out,
             std::ostream& err);
// [--limit N] [--interface ENI]: up to N flows per worker (default 100).
int RunFlows(const std::string& control_path,
             const std::vector<std::string>& args, std::ostream& out,
             std::ostream& err);
int RunReload(const std::string& control_path,
              const std::vector<std::string>& args, std::ostream& out,
              std::ostream& err);
int RunGeneration(const std::string& control_path,
                  const std::vector<std::string>& args, std::ostream& out,
                  std::ostream& err);

// sgatectl trace (--in|--out) LOCAL REMOTE PROTO [PORT|TYPE[/CODE]]
//                [--vlan ID] [--sport PORT] [--json]
// How the running sgate's live table decides that packet (no FILE: that
// is the offline trace). Exit 0 allow, 3 deny, 1 error.
int RunOnlineTrace(const std::string& control_path,
                   const std::vector<std::string>& args, std::ostream& out,
                   std::ostream& err);

}  // namespace sgate::control
