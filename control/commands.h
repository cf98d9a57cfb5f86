#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "control/dataplane_view.h"

namespace sgate::control {

// Every command of sgatectl, listed once: its name, arguments and help
// (sgatectl's usage is printed from this table), how sgatectl runs it, and
// how sgate answers it on the control socket. A new command is one row.
struct CommandSpec {
  // Where the command's answer comes from.
  enum class Source : uint8_t {
    kPolicyFile,  // loads a policy itself: no running sgate needed
    kSgate,       // asks the running sgate over the control socket
    kEtcd,        // the fleet's policy and nodes, in etcd
  };

  const char* name;
  const char* arguments;  // as the usage shows them, after the name
  const char* help;       // lines of the usage, '\n'-separated
  Source source;
  // sgatectl's side: parses `args` (the words after the command name),
  // runs, prints to `out` and errors to `err`; returns the exit status.
  int (*run)(const std::string& control_path,
             const std::vector<std::string>& args, std::ostream& out,
             std::ostream& err);
  // sgate's side: the reply to a request naming this command (words[0]);
  // null for commands sgate does not serve.
  std::string (*serve)(DataplaneView& dataplane,
                       const std::vector<std::string>& words);
};

const std::vector<CommandSpec>& Commands();
// The command called `name`, or null.
const CommandSpec* FindCommand(absl::string_view name);

// sgatectl's usage, from the table.
std::string SgatectlUsage();

// sgate's side of one control-socket request: the JSON reply of the command
// it names, or an error reply naming the commands sgate serves.
std::string ServeRequest(DataplaneView& dataplane, absl::string_view request);

}  // namespace sgate::control
