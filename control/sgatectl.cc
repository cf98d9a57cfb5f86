// sgatectl: the operator's command-line tool (DESIGN.md §6). The offline
// commands (check, trace FILE) load a policy themselves; the commands that
// talk to a running dataplane over its control socket come with the control
// thread.
#include <iostream>
#include <string>
#include <vector>

#include "control/offline_commands.h"

namespace {

constexpr char kUsage[] =
    "usage: sgatectl COMMAND [ARGS]\n"
    "\n"
    "offline commands (no dataplane needed):\n"
    "  check FILE [--aws-json FILE] [--node NAME] [--compile] [--json]\n"
    "      validate a policy; print a summary, or every error with its\n"
    "      file:line:column. Exit 0 valid, 1 invalid. --compile also builds\n"
    "      the dataplane's rte_acl/rte_fib table and prints its size.\n"
    "  trace FILE (--in|--out) LOCAL REMOTE PROTO [PORT|TYPE[/CODE]]\n"
    "        [--vlan ID] [--node NAME] [--aws-json FILE] [--json]\n"
    "      the verdict for one packet and every rule that allows it.\n"
    "      --in: REMOTE sends to the protected LOCAL address (ingress);\n"
    "      --out: LOCAL sends to REMOTE (egress). Exit 0 allow, 3 deny.\n";

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
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
    return sgate::control::RunTrace(args, std::cout, std::cerr);
  }
  std::cerr << "sgatectl: unknown command '" << command << "'\n" << kUsage;
  return 1;
}
