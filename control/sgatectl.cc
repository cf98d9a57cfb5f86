// sgatectl: the operator's command-line tool (DESIGN.md §6). The offline
// commands (check, trace FILE) load a policy themselves; the others ask a
// running sgate over its control socket.
#include <iostream>
#include <string>
#include <vector>

#include "control/control_socket.h"
#include "control/offline_commands.h"
#include "control/online_commands.h"
#include "rules/ip_address.h"

namespace {

constexpr char kUsage[] =
    "usage: sgatectl [--control PATH] COMMAND [ARGS]\n"
    "\n"
    "offline commands (no dataplane needed):\n"
    "  check FILE [--aws-json FILE] [--node NAME] [--compile] [--json]\n"
    "      validate a policy; print a summary, or every error with its\n"
    "      file:line:column. Exit 0 valid, 1 invalid. --compile also builds\n"
    "      the dataplane's rte_acl/rte_fib table and prints its size.\n"
    "  trace [FILE] (--in|--out) LOCAL REMOTE PROTO [PORT|TYPE[/CODE]]\n"
    "        [--vlan ID] [--node NAME] [--aws-json FILE] [--json]\n"
    "      the verdict for one packet and every rule that allows it; without\n"
    "      FILE, the running sgate's live table answers (one deciding rule)\n"
    "      and, given --sport PORT for tcp/udp, whether the flow exists.\n"
    "      --in: REMOTE sends to the protected LOCAL address (ingress);\n"
    "      --out: LOCAL sends to REMOTE (egress). Exit 0 allow, 3 deny.\n"
    "\n"
    "commands for a running sgate (over --control PATH, default\n"
    "/run/sgate/control.sock, the same as sgate's --control):\n"
    "  stats [--json]      counters: ports, drops by reason, flows\n"
    "  rules [--json]      every rule and the flows it admitted\n"
    "  flows [--limit N] [--interface ENI] [--json]\n"
    "                      tracked flows, up to N per worker (default 100)\n"
    "  reload              load and publish the policy again; a bad\n"
    "                      policy is refused with all its errors\n"
    "  generation          the live policy generation\n";

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  std::string control_path = sgate::control::kDefaultControlPath;
  if (args.size() >= 2 && args[0] == "--control") {
    control_path = args[1];
    args.erase(args.begin(), args.begin() + 2);
  }
  if (args.empty() || args[0] == "help" || args[0] == "--help" ||
      args[0] == "-h") {
    std::cout << kUsage;
    return args.empty() ? 1 : 0;
  }
  std::string command = args[0];
  args.erase(args.begin());
  if (command == "check") {
    return sgate::control::RunCheck(args, std::cout, std::cerr);
  }
  if (command == "trace") {
    // With a FILE, the reference semantics offline; without, the running
    // sgate's live table.
    for (size_t i = 0; i < args.size(); ++i) {
      if (args[i] == "--vlan" || args[i] == "--node" ||
          args[i] == "--aws-json" || args[i] == "--sport") {
        ++i;  // skip the option's value
      } else if (args[i].rfind("--", 0) != 0) {
        if (sgate::rules::ParseIpAddress(args[i]).ok()) {
          return sgate::control::RunOnlineTrace(control_path, args, std::cout,
                                                std::cerr);
        }
        break;
      }
    }
    return sgate::control::RunTrace(args, std::cout, std::cerr);
  }
  if (sgate::control::IsOnlineCommand(command)) {
    return sgate::control::RunOnline(control_path, command, args, std::cout,
                                     std::cerr);
  }
  std::cerr << "sgatectl: unknown command '" << command << "'\n" << kUsage;
  return 1;
}
