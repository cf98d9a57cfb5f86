// sgatectl: the operator's command-line tool (DESIGN.md §6). Its commands,
// their arguments and help come from the command table (commands.h): the
// offline ones load a policy themselves, the others ask a running sgate
// over its control socket.
#include <iostream>
#include <string>
#include <vector>

#include "control/commands.h"
#include "control/control_socket.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  std::string control_path = sgate::control::kDefaultControlPath;
  if (args.size() >= 2 && args[0] == "--control") {
    control_path = args[1];
    args.erase(args.begin(), args.begin() + 2);
  }
  if (args.empty() || args[0] == "help" || args[0] == "--help" ||
      args[0] == "-h") {
    std::cout << sgate::control::SgatectlUsage();
    return args.empty() ? 1 : 0;
  }
  const sgate::control::CommandSpec* command =
      sgate::control::FindCommand(args[0]);
  if (command == nullptr) {
    std::cerr << "sgatectl: unknown command '" << args[0] << "'\n"
              << sgate::control::SgatectlUsage();
    return 1;
  }
  args.erase(args.begin());
  return command->run(control_path, args, std::cout, std::cerr);
}
