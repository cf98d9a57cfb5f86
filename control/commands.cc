#include "control/commands.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "control/control_socket.h"
#include "control/fleet_commands.h"
#include "control/offline_commands.h"
#include "control/online_commands.h"
#include "control/request_handlers.h"
#include "rules/ip_address.h"

namespace sgate::control {
namespace {

using Source = CommandSpec::Source;

// `trace` with a FILE reads the policy (the reference semantics); without
// one, the running sgate's live table answers. A FILE is the first word
// that is neither an option, an option's value nor an address.
int RunTraceCommand(const std::string& control_path,
                    const std::vector<std::string>& args, std::ostream& out,
                    std::ostream& err) {
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--vlan" || args[i] == "--node" ||
        args[i] == "--aws-json" || args[i] == "--sport" ||
        args[i] == "--name") {
      ++i;  // skip the option's value
    } else if (args[i].rfind("--", 0) != 0) {
      if (rules::ParseIpAddress(args[i]).ok()) {
        return RunOnlineTrace(control_path, args, out, err);
      }
      break;
    }
  }
  return RunTrace(args, out, err);
}

int RunCheckCommand(const std::string&, const std::vector<std::string>& args,
                    std::ostream& out, std::ostream& err) {
  return RunCheck(args, out, err);
}

}  // namespace

const std::vector<CommandSpec>& Commands() {
  static const std::vector<CommandSpec> commands = {
      {"check", "FILE [--aws-json FILE] [--node NAME] [--compile] [--json]",
       "validate a policy; print a summary, or every error with its\n"
       "file:line:column. Exit 0 valid, 1 invalid. --compile also builds\n"
       "the dataplane's table and prints what it built, how long each\n"
       "part took and the peak memory.",
       Source::kPolicyFile, RunCheckCommand, nullptr},
      {"trace",
       "[FILE] (--in|--out) LOCAL REMOTE PROTO [PORT|TYPE[/CODE]]\n"
       "[--vlan ID] [--node NAME] [--aws-json FILE] [--sport PORT]\n"
       "[--name SERVER_NAME] [--json]",
       "the verdict for one packet and every rule that allows it; without\n"
       "FILE, the running sgate's live table answers (one deciding rule)\n"
       "and, given --sport PORT for tcp/udp, whether the flow exists.\n"
       "--in: REMOTE sends to the protected LOCAL address (ingress);\n"
       "--out: LOCAL sends to REMOTE (egress). A flow only rules with\n"
       "domains allow is pending: --name decides it as the TLS server_name\n"
       "or HTTP Host would. Exit 0 allow, 3 deny, 4 pending.",
       Source::kPolicyFile, RunTraceCommand, ServeTrace},
      {"stats", "[--json]", "counters: ports, packets, drops by reason, flows",
       Source::kSgate, RunStats, ServeStats},
      {"rules", "[--json]",
       "every rule and the flows it admitted (by each name, for rules\n"
       "with domains)",
       Source::kSgate, RunRules, ServeRules},
      {"flows", "[--limit N] [--interface ENI] [--json]",
       "tracked flows, up to N per worker (default 100)", Source::kSgate,
       RunFlows, ServeFlows},
      {"reload", "",
       "load and publish the policy again; a bad policy is refused with\n"
       "all its errors",
       Source::kSgate, RunReload, ServeReload},
      {"generation", "", "the live policy generation", Source::kSgate,
       RunGeneration, ServeGeneration},
      {"fleet",
       "push FILE|- [--aws-json F] [--expect-revision N] [--json] ETCD\n"
       "status [--json] ETCD\n"
       "wait --revision N [--timeout S] ETCD\n"
       "get [--revision N] ETCD",
       "ETCD: --etcd URL[,URL...] [--etcd-prefix P (default /sgate)]\n"
       "      [--etcd-cacert F --etcd-cert F --etcd-key F]\n"
       "push: validate and compile FILE, then write the objects that changed\n"
       "  and commit; prints the new revision (nothing written on error).\n"
       "status: every live node's revision, state, first error, age.\n"
       "wait: exit 0 once every live node enforces N or later; 1 if one\n"
       "  refused N, none is live, or at the timeout (laggards listed).\n"
       "get: the policy at revision N (default newest) as YAML.",
       Source::kEtcd, RunFleet, nullptr},
  };
  return commands;
}

const CommandSpec* FindCommand(absl::string_view name) {
  for (const CommandSpec& c : Commands()) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

std::string SgatectlUsage() {
  std::string usage = "usage: sgatectl [--control PATH] COMMAND [ARGS]\n";
  auto section = [&](Source source, absl::string_view title) {
    absl::StrAppend(&usage, "\n", title, "\n");
    for (const CommandSpec& c : Commands()) {
      if (c.source != source) continue;
      std::vector<absl::string_view> args =
          absl::StrSplit(c.arguments, '\n');
      absl::StrAppend(&usage, "  ", c.name, args[0].empty() ? "" : " ",
                      args[0], "\n");
      for (size_t i = 1; i < args.size(); ++i) {
        absl::StrAppend(&usage, "  ", std::string(strlen(c.name) + 1, ' '),
                        args[i], "\n");
      }
      for (absl::string_view line : absl::StrSplit(c.help, '\n')) {
        absl::StrAppend(&usage, "      ", line, "\n");
      }
    }
  };
  section(Source::kPolicyFile, "offline commands (no dataplane needed):");
  section(Source::kSgate,
          absl::StrCat("commands for a running sgate (over --control PATH, "
                       "default\n",
                       kDefaultControlPath, ", the same as sgate's --control):"));
  section(Source::kEtcd,
          "fleet commands (the policy and the nodes in etcd, "
          "control/FLEET.md):");
  return usage;
}

std::string ServeRequest(DataplaneView& dataplane, absl::string_view request) {
  std::vector<std::string> words =
      absl::StrSplit(request, ' ', absl::SkipEmpty());
  const CommandSpec* command =
      words.empty() ? nullptr : FindCommand(words[0]);
  if (command == nullptr || command->serve == nullptr) {
    std::vector<std::string> served;
    for (const CommandSpec& c : Commands()) {
      if (c.serve != nullptr) served.push_back(c.name);
    }
    return ErrorReply(absl::StrCat(
        "unknown command '", words.empty() ? "" : words[0], "'; expected ",
        absl::StrJoin(served, ", ")));
  }
  return command->serve(dataplane, words);
}

}  // namespace sgate::control
