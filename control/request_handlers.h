#pragma once

#include <string>
#include <vector>

#include "control/dataplane_view.h"

namespace sgate::control {

// sgate's side of the control socket: each command's handler takes the
// request's words (words[0] is the command) and returns the one-line JSON
// reply. A refusal is a reply with an "error" key. No EAL or socket needed:
// everything comes through the DataplaneView. The command table
// (commands.h) maps names to these.

std::string ServeStats(DataplaneView& dataplane,
                       const std::vector<std::string>& words);
std::string ServeGeneration(DataplaneView& dataplane,
                            const std::vector<std::string>& words);
std::string ServeReload(DataplaneView& dataplane,
                        const std::vector<std::string>& words);
std::string ServeRules(DataplaneView& dataplane,
                       const std::vector<std::string>& words);
// "trace in|out LOCAL REMOTE PROTO [DETAIL] [vlan=N] [sport=N]"
std::string ServeTrace(DataplaneView& dataplane,
                       const std::vector<std::string>& words);
// "flows [LIMIT] [INTERFACE]"
std::string ServeFlows(DataplaneView& dataplane,
                       const std::vector<std::string>& words);

// A reply that refuses the request.
std::string ErrorReply(absl::string_view message);

}  // namespace sgate::control
