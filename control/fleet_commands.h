#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace sgate::control {

// sgatectl fleet SUBCOMMAND ... : the fleet's policy in etcd and the state
// of its nodes (control/FLEET.md). Every subcommand takes the etcd options
// (--etcd URL[,URL...] [--etcd-prefix P] [--etcd-cacert F --etcd-cert F
// --etcd-key F]):
//   push FILE|- [--aws-json F] [--expect-revision N] [--json]
//       validates and compiles FILE locally (nothing is written if it
//       fails), then writes the objects that changed and commits; prints
//       the new revision.
//   status [--json]   every live node: revision, generation, state, first
//                     error, age; laggards marked. Exit 0.
//   wait --revision N [--timeout S]
//                     exit 0 once every live node enforces N or later;
//                     1 at the timeout (default 30 s) naming the
//                     laggards, or with no live node, or as soon as a
//                     node refuses N, naming it.
//   get [--revision N]
//                     the policy committed at N (default: the newest) as
//                     one YAML document, exactly what a node assembles.
// `args`: the words after "fleet". Returns the exit status.
int RunFleet(const std::string& control_path,
             const std::vector<std::string>& args, std::ostream& out,
             std::ostream& err);

}  // namespace sgate::control
